"""Budget use, burn-rate forecasts and spend anomalies, from spend rows: the report's look ahead.

The same rules the running application applies call by call (``tokentrace.budgets.forecast``
and ``tokentrace.budgets.anomaly``) are applied here to the recorded spend of the whole fleet,
so a FinOps engineer sees in ``tokentrace report`` which budget will run out when, and which
team, feature or model spent far more than usual in which hour, without any process running.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..budgets.anomaly import AnomalySettings, hourly_baseline
from ..budgets.spec import BudgetSpec
from ..budgets.windows import period
from ..ledger.row import BILLED_TOKEN_TYPES, SpendRow

_HOUR = 3600


@dataclass
class BudgetOutlook:
    """One budget counter (a budget and a scope value) in the window that contains ``at``."""

    budget: str
    scope: str
    scope_value: str
    window: str
    window_start: Optional[datetime]
    limit_usd: Optional[float]
    limit_tokens: Optional[int]
    spent_usd: float
    spent_tokens: int
    #: Spent / limit (the larger of usd and tokens).
    utilization: float
    #: Projected spend at the window's end / limit; ``None`` for ``total`` budgets.
    forecast_utilization: Optional[float]
    #: When the limit is (or will be, at the trailing rate) reached within the window.
    exhausted_at: Optional[datetime]


@dataclass
class AnomalyLine:
    """An hour in which a team, feature or model spent ``ratio`` times its usual amount."""

    hour_start: datetime
    dimension: str
    value: str
    spent_usd: float
    baseline_usd: float
    ratio: float
    top_workflow: Optional[str]
    top_model: Optional[str]


def _matches(spec: BudgetSpec, row: SpendRow) -> bool:
    return all(row.dimensions.get(key) == wanted for key, wanted in spec.match.items())


def _scope_value(spec: BudgetSpec, row: SpendRow) -> Optional[str]:
    return "*" if spec.scope == "global" else row.dimensions.get(spec.scope)


def budget_outlook(specs: Sequence[BudgetSpec], rows: Iterable[SpendRow], at: float) -> List[BudgetOutlook]:
    """Use and forecast of every shared budget counter that has spend in its window at ``at``.

    ``rows`` must cover each budget's current window up to ``at`` (a month, for monthly ones).
    """
    now = datetime.fromtimestamp(at, tz=timezone.utc)
    rows = list(rows)
    result: List[BudgetOutlook] = []
    for spec in specs:
        window = period(spec.window, now)
        start = window.start.timestamp() if window.start else float("-inf")
        end = window.end.timestamp() if window.end else None
        trailing_from = at - spec.forecast_over if spec.forecast_over else None
        spent: Dict[str, List[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])  # usd, tokens, trailing usd/tokens
        for row in rows:
            if not (start <= row.period_start < at) or not _matches(spec, row):
                continue
            value = _scope_value(spec, row)
            if value is None:
                continue
            tokens = row.tokens if row.token_type in BILLED_TOKEN_TYPES else 0
            usd = row.effective_cost_usd or 0.0
            cell = spent[value]
            cell[0] += usd
            cell[1] += tokens
            if trailing_from is not None and row.period_start >= max(trailing_from, start):
                cell[2] += usd
                cell[3] += tokens
        for value, (usd, total_tokens, recent_usd, recent_tokens) in sorted(spent.items()):
            result.append(_outlook(spec, value, window.start, start, end, at, usd, int(total_tokens), recent_usd, recent_tokens))
    result.sort(key=lambda o: -(o.forecast_utilization if o.forecast_utilization is not None else o.utilization))
    return result


def _outlook(
    spec: BudgetSpec, value: str, window_start: Optional[datetime], start: float, end: Optional[float], at: float,
    usd: float, tokens: int, recent_usd: float, recent_tokens: float,
) -> BudgetOutlook:
    limits = [(usd, recent_usd, spec.usd), (float(tokens), recent_tokens, spec.tokens)]
    used = max((spent / limit if limit else 1.0) for spent, _, limit in limits if limit is not None)
    forecast: Optional[float] = None
    exhausted: Optional[datetime] = None
    if end is not None and spec.forecast and spec.forecast_over:
        measured = max(at - max(at - spec.forecast_over, start), 1.0)
        forecast = 0.0
        best_moment = math.inf
        for spent, recent, limit in limits:
            if limit is None:
                continue
            rate = recent / measured
            projected = spent + rate * max(end - at, 0.0)
            forecast = max(forecast, projected / limit if limit else math.inf)
            if spent >= limit:
                best_moment = min(best_moment, at)
            elif rate > 0 and at + (limit - spent) / rate < end:
                best_moment = min(best_moment, at + (limit - spent) / rate)
        if best_moment < math.inf:
            exhausted = datetime.fromtimestamp(best_moment, tz=timezone.utc)
    return BudgetOutlook(
        budget=spec.name,
        scope=spec.scope,
        scope_value=value,
        window=spec.window,
        window_start=window_start,
        limit_usd=spec.usd,
        limit_tokens=spec.tokens,
        spent_usd=usd,
        spent_tokens=tokens,
        utilization=used,
        forecast_utilization=forecast,
        exhausted_at=exhausted,
    )


def _key(row: SpendRow, dimension: str) -> Optional[str]:
    if dimension == "model":
        return row.model or None
    if dimension == "provider":
        return row.provider or None
    return row.dimensions.get(dimension) or None


def anomalies(
    rows: Iterable[SpendRow], start: float, end: float, settings: Optional[AnomalySettings] = None, top: int = 10
) -> List[AnomalyLine]:
    """The hours of ``[start, end)`` whose spend was ``factor`` times its usual level or more.

    ``rows`` must also cover the ``days`` days before ``start`` (the baseline's history).
    """
    settings = settings or AnomalySettings()
    hours: Dict[Tuple[str, str], Dict[int, float]] = defaultdict(lambda: defaultdict(float))
    split: Dict[Tuple[str, str, int], Dict[str, Dict[str, float]]] = {}
    for row in rows:
        usd = row.effective_cost_usd
        if not usd:
            continue
        hour = int(row.period_start // _HOUR)
        workflow = row.dimensions.get("workflow") or ""
        for dimension in settings.dimensions:
            value = _key(row, dimension)
            if not value:
                continue
            hours[(dimension, value)][hour] += usd
            if start <= row.period_start < end:
                parts = split.setdefault((dimension, value, hour), {"workflow": defaultdict(float), "model": defaultdict(float)})
                if workflow:
                    parts["workflow"][workflow] += usd
                parts["model"][row.model] += usd
    found: List[AnomalyLine] = []
    first_hour, last_hour = int(start // _HOUR), int(math.ceil(end / _HOUR))
    for (dimension, value), by_hour in hours.items():
        for hour, spent in by_hour.items():
            if not first_hour <= hour < last_hour or spent < settings.min_usd:
                continue
            baseline, _kind = hourly_baseline(by_hour, hour, settings)
            if not baseline or spent / baseline < settings.factor:
                continue
            parts = split.get((dimension, value, hour), {})
            found.append(
                AnomalyLine(
                    hour_start=datetime.fromtimestamp(hour * _HOUR, tz=timezone.utc),
                    dimension=dimension,
                    value=value,
                    spent_usd=spent,
                    baseline_usd=baseline,
                    ratio=spent / baseline,
                    top_workflow=_top(parts.get("workflow", {})),
                    top_model=value if dimension == "model" else _top(parts.get("model", {})),
                )
            )
    found.sort(key=lambda a: (-(a.spent_usd - a.baseline_usd), a.hour_start))
    return found[:top]


def _top(amounts: Mapping[str, float]) -> Optional[str]:
    return max(amounts.items(), key=lambda item: item[1])[0] if amounts else None
