"""Spend reports: by team, feature, workflow, model, provider and day, from the ledger or Prometheus.

    from tokentrace.report import report
    data = report(ledger="spend.sqlite", start=..., end=...)
    print(render_text(data))
    write_html(data, "spend.html"); write_pngs(data, "charts/")

The same :class:`ReportData` comes out for the same spend whichever source was read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, List, Optional

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
) -> ReportData:
    """Read ``[start, end)`` and the period of the same length before it, and build the report.

    ``prices`` is the price catalog to re-price with (caching savings, reroutes); by default the
    catalog ``instrument()`` would load (built-in prices plus ``TOKENTRACE_PRICES``).
    """
    from ..ledger.reader import read_rows

    if prices is None:
        from ..core.config import build_config
        from ..pricing import load_catalog

        prices = load_catalog(build_config({}))
    if progress:
        progress("reading the period")
    rows = read_rows(ledger=ledger, prometheus=prometheus, start=start, end=end)
    if progress:
        progress(f"read {len(rows):,} rows; reading the previous period")
    previous = read_rows(ledger=ledger, prometheus=prometheus, start=start - (end - start), end=start)
    if progress:
        progress(f"read {len(previous):,} rows; computing")
    return build(rows, start, end, previous=previous, prices=prices, top=top)


def render_html(data: ReportData, top: int = 10) -> str:
    from .charts import render_charts
    from .html import render

    return render(data, render_charts(data), top=top)


def write_html(data: ReportData, path: "os.PathLike[str] | str", top: int = 10) -> None:
    Path(path).write_text(render_html(data, top=top), encoding="utf-8")


def write_pngs(data: ReportData, directory: "os.PathLike[str] | str") -> List[Path]:
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
