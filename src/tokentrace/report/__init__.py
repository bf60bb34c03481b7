"""Spend reports: by team, feature, workflow, model, provider and day, from the ledger or Prometheus.

    from tokentrace.report import report
    data = report(ledger="spend.sqlite", start=..., end=...)
    print(render_text(data))
    write_html(data, "spend.html"); write_pngs(data, "charts/")

The same :class:`ReportData` comes out for the same spend whichever source was read.
"""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from .data import DIMENSIONS, ReportData, build
from .text import render as render_text

__all__ = ["DIMENSIONS", "ReportData", "build", "render_html", "render_text", "report", "write_html", "write_pngs"]


def report(
    *,
    start: float,
    end: float,
    ledger: Optional[str] = None,
    prometheus: Optional[str] = None,
    prices: Any = None,
    top: int = 10,
    progress: Optional[Callable[[str], None]] = None,
    budgets: Any = None,
    anomaly: Any = None,
    prometheus_selector: str = "",
) -> ReportData:
    """Read ``[start, end)`` and the period of the same length before it, and build the report.

    ``prices`` is the price catalog to re-price with (caching savings, reroutes); by default the
    catalog ``instrument()`` would load (built-in prices plus ``TOKENTRACE_PRICES``). ``budgets``
    (a budgets file or list, default ``$TOKENTRACE_BUDGETS``) adds each shared budget's use and
    burn-rate forecast in its current window; ``anomaly`` (settings as for ``instrument()``,
    default ``$TOKENTRACE_ANOMALY``) tunes the hours flagged as anomalies.

    Both periods are read as day rows (:func:`~tokentrace.ledger.reader.aggregate_rows`): every
    number of the report is a sum that day rows give exactly, and a million-row ledger becomes a
    few tens of thousands of rows. The previous period (the movers) and the anomalies (hours)
    read only the columns and keys they use.
    """
    from ..ledger.reader import aggregate_rows

    if prices is None:
        from ..core.config import build_config
        from ..pricing import load_catalog

        prices = load_catalog(build_config({}))
    source = dict(ledger=ledger, prometheus=prometheus, prometheus_selector=prometheus_selector, prices=prices, progress=progress)
    rows = list(aggregate_rows(start=start, end=end, **source))  # type: ignore[arg-type]
    if progress:
        progress(f"summed the period into {len(rows):,} day rows; now the previous period")
    # the previous period only gives the movers: cost per team, feature, workflow, model and provider
    previous = list(
        aggregate_rows(
            start=start - (end - start), end=start, by=("provider", "model", "usage_source"), dimensions=("team", "feature", "workflow"), **source  # type: ignore[arg-type]
        )
    )
    if progress:
        progress(f"summed the previous period into {len(previous):,} day rows; computing")
    data = build(rows, start, end, previous=previous, prices=prices, top=top)
    _outlook(data, source, start, end, top, progress, budgets, anomaly)
    return data


def _outlook(
    data: ReportData, source: Dict[str, Any], start: float, end: float, top: int,
    progress: Optional[Callable[[str], None]], budgets: Any, anomaly: Any,
) -> None:
    """Budget forecasts need the budgets' windows; anomalies need hours of the days before the period."""
    import time

    from ..budgets.anomaly import parse_settings
    from ..budgets.spec import load_specs
    from ..ledger.aggregate import HOUR
    from ..ledger.reader import aggregate_rows
    from .outlook import anomalies, budget_outlook

    budgets = budgets if budgets is not None else (os.environ.get("TOKENTRACE_BUDGETS") or None)
    anomaly = anomaly if anomaly is not None else (os.environ.get("TOKENTRACE_ANOMALY") or None)
    settings = parse_settings(anomaly)
    specs = [s for s in load_specs(budgets) if s.scope != "entry"] if budgets is not None else []
    at = min(end, time.time())
    last = max(end, at)
    if specs:
        if progress:
            progress("reading the budgets' windows for their forecasts")
        data.budgets = budget_outlook(specs, _budget_rows(specs, source, start, at), at)
    if settings.enabled:
        if progress:
            progress("reading hourly spend for the anomalies")
        history_start = math.floor((start - (settings.days + 1) * 86400) / HOUR) * HOUR
        keys = tuple(d for d in settings.dimensions if d not in ("model", "provider")) + ("workflow",)
        # only what ``anomalies`` reads: the hour, the model (and provider, if it is a dimension), the keys, the cost
        columns = ("provider", "model") if "provider" in settings.dimensions else ("model",)
        narrow = dict(granularity=HOUR, by=columns, dimensions=keys, **source)
        # cut at ``start``: the hour it falls in is split into the part before and the part in the period
        hours = itertools.chain(aggregate_rows(start=history_start, end=start, **narrow), aggregate_rows(start=start, end=last, **narrow))
        data.anomalies = anomalies(hours, start, end, settings, top=top)


def _budget_rows(specs: List[Any], source: Dict[str, Any], start: float, at: float) -> List[Any]:
    """The spend the budgets' windows hold up to ``at``, summed per day and token type.

    ``budget_outlook`` compares a row's start with each window's start, the forecast's trailing
    start and ``at``; reading the stretches between those moments separately means no summed row
    straddles one, so the sums are those of every row, whatever the ledger's bucket.
    """
    from ..budgets.windows import period, utc_now

    cuts = {start, at}
    for spec in specs:
        window = period(spec.window, utc_now(at))
        if window.start is not None:
            cuts.add(window.start.timestamp())
        if spec.forecast_over:
            cuts.add(at - spec.forecast_over)
    first = min(cuts)
    points = sorted(c for c in cuts if first <= c <= at)
    rows: List[Any] = []
    for lo, hi in zip(points, points[1:], strict=False):  # neighbouring moments
        rows.extend(_summed(source, lo, hi))
    return rows


def _summed(source: Dict[str, Any], lo: float, hi: float) -> List[Any]:
    from ..ledger.reader import aggregate_rows

    if hi <= lo:
        return []
    return list(aggregate_rows(start=lo, end=hi, by=("token_type",), **source))


def render_html(data: ReportData, top: int = 10) -> str:
    from .charts import render_charts
    from .html import render

    return render(data, render_charts(data), top=top)


def write_html(data: ReportData, path: os.PathLike[str] | str, top: int = 10) -> None:
    Path(path).write_text(render_html(data, top=top), encoding="utf-8")


def write_pngs(data: ReportData, directory: os.PathLike[str] | str) -> List[Path]:
    """Write each chart as a PNG into ``directory`` (created if needed); returns the files."""
    from .charts import render_charts

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, image in render_charts(data).items():
        path = target / name
        path.write_bytes(image)
        written.append(path)
    return written
