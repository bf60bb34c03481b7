"""Budget alerts: what happens when spend crosses a threshold (50, 80, 100 % by default).

Each crossing is announced four ways, once per threshold and counter (the store remembers
which fired, across processes): a span event on the call that crossed it, a log line, the
budget's callback (``on_exceed=callable``), and the ``tokentrace.budget.utilization`` gauge,
which is also recorded after every call so alerting rules see the level, not only the edges.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Iterable, Optional, Set

from opentelemetry import metrics

from .._version import __version__
from ..core.ratelog import RateLimitedLog
from ..core.safety import report
from .errors import format_usd, utc_from_timestamp
from .spec import ENTRY_SCOPE, NANO, BudgetSpec
from .store import Amount, Limit, utilization

logger = logging.getLogger("tokentrace")

METRIC_BUDGET_UTILIZATION = "tokentrace.budget.utilization"
METRIC_BUDGET_FORECAST_UTILIZATION = "tokentrace.budget.forecast_utilization"
EVENT_THRESHOLD = "tokentrace.budget.threshold"
EVENT_EXCEEDED = "tokentrace.budget.exceeded"
EVENT_UNCHECKED = "tokentrace.budget.unchecked"
EVENT_UNPRICED = "tokentrace.budget.unpriced"
EVENT_DOWNGRADED = "tokentrace.budget.downgraded"
ATTR_NAME = "tokentrace.budget.name"
ATTR_SCOPE = "tokentrace.budget.scope"
ATTR_SCOPE_VALUE = "tokentrace.budget.scope_value"
ATTR_WINDOW = "tokentrace.budget.window"
OTHER_VALUE = "_other"


@dataclass(frozen=True)
class BudgetAlert:
    """A threshold crossing, as the ``on_exceed`` callback receives it."""

    budget: str
    scope: str
    scope_value: Optional[str]
    window: str
    window_start: Optional[datetime]
    #: The threshold crossed, as a fraction (0.8 = 80 %).
    threshold: float
    #: Fraction of the limit used after the call that crossed it (the larger of usd and tokens).
    utilization: float
    spent_usd: float
    spent_tokens: int
    limit_usd: Optional[float]
    limit_tokens: Optional[int]
    exceeded_since: Optional[datetime]
    hard: bool
    #: A downgrade budget: past the limit, calls go to the cheaper model instead of being blocked.
    downgrades: bool = False

    #: ``threshold`` for a crossing; a :class:`~tokentrace.budgets.forecast.ForecastAlert` says ``forecast``.
    kind = "threshold"
    event_name = EVENT_THRESHOLD

    def message(self) -> str:
        scope = "this block" if self.scope == ENTRY_SCOPE else f"{self.scope}={self.scope_value}"
        if self.window != "total" and self.window_start:
            scope += f", {self.window} from {self.window_start:%Y-%m-%d %H:%M} UTC"
        limits = []
        if self.limit_usd is not None:
            limits.append(f"{format_usd(self.spent_usd)} of {format_usd(self.limit_usd)}")
        if self.limit_tokens is not None:
            limits.append(f"{self.spent_tokens:,} of {self.limit_tokens:,} tokens")
        then = "calls continue"
        if self.threshold >= 1.0 and self.hard:
            then = "further calls are blocked"
        elif self.threshold >= 1.0 and self.downgrades:
            then = "further calls are sent to the cheaper model"
        return (
            f"tokentrace budget {self.budget!r} ({scope}) reached {self.threshold:.0%} "
            f"({self.utilization:.1%} used: {'; '.join(limits)}); {then}."
        )

    def event_attributes(self) -> Dict[str, Any]:
        attributes: Dict[str, Any] = {
            ATTR_NAME: self.budget,
            ATTR_SCOPE: self.scope,
            ATTR_WINDOW: self.window,
            "tokentrace.budget.threshold": self.threshold,
            "tokentrace.budget.utilization": self.utilization,
            "tokentrace.budget.spent_usd": self.spent_usd,
            "tokentrace.budget.spent_tokens": self.spent_tokens,
        }
        if self.limit_usd is not None:
            attributes["tokentrace.budget.limit_usd"] = self.limit_usd
        if self.limit_tokens is not None:
            attributes["tokentrace.budget.limit_tokens"] = self.limit_tokens
        return attributes


def limit_of(spec: BudgetSpec) -> Limit:
    return Limit(spec.limit_nano_usd, spec.tokens)


def make_alert(
    spec: BudgetSpec, scope_value: Optional[str], window_start: Optional[datetime], threshold: float, spent: Amount,
    exceeded_at: Optional[float],
) -> BudgetAlert:
    return BudgetAlert(
        budget=spec.name,
        scope=spec.scope,
        scope_value=scope_value,
        window=spec.window,
        window_start=window_start,
        threshold=threshold,
        utilization=utilization(spent, limit_of(spec)),
        spent_usd=spent.nano_usd / NANO,
        spent_tokens=spent.tokens,
        limit_usd=spec.usd,
        limit_tokens=spec.tokens,
        exceeded_since=utc_from_timestamp(exceeded_at),
        hard=spec.hard,
        downgrades=spec.downgrades,
    )


class Alerter:
    """Announces crossings and records the utilization gauge for one tokentrace setup."""

    def __init__(self, meter_provider: Any, metric_keys: Iterable[str], value_limit: int) -> None:
        #: Each alert fires once per threshold, counter and window already; this bounds the lines
        #: when many counters (one per user, say) cross at once: past its causes, one line an interval.
        self._log = RateLimitedLog()
        meter = metrics.get_meter("tokentrace", __version__, meter_provider=meter_provider)
        self._gauge = meter.create_gauge(
            METRIC_BUDGET_UTILIZATION,
            unit="1",
            description="Fraction of a budget's limit spent in its current window (1.0 = used up).",
        )
        self._forecast_gauge = meter.create_gauge(
            METRIC_BUDGET_FORECAST_UTILIZATION,
            unit="1",
            description=(
                "Projected spend at the end of a budget's window, at the current burn rate, as a fraction "
                "of its limit (above 1.0: it will run out before the window ends)."
            ),
        )
        self._metric_keys = frozenset(metric_keys)
        self._value_limit = value_limit
        self._values: Dict[str, Set[str]] = {}

    def record(self, spec: BudgetSpec, scope_value: Optional[str], spent: Amount) -> None:
        self._gauge.set(utilization(spent, limit_of(spec)), self._attributes(spec, scope_value))

    def record_forecast(self, spec: BudgetSpec, scope_value: Optional[str], forecast_utilization: float) -> None:
        self._forecast_gauge.set(forecast_utilization, self._attributes(spec, scope_value))

    def _attributes(self, spec: BudgetSpec, scope_value: Optional[str]) -> Dict[str, Any]:
        attributes = {ATTR_NAME: spec.name, ATTR_SCOPE: spec.scope, ATTR_WINDOW: spec.window}
        if scope_value is not None and spec.scope in self._metric_keys:
            attributes[ATTR_SCOPE_VALUE] = self._bounded(spec.name, scope_value)
        return attributes

    def _bounded(self, name: str, value: str) -> str:
        """Keep at most ``metric_value_limit`` distinct scope values per budget on the metric."""
        seen = self._values.setdefault(name, set())
        if value in seen:
            return value
        if len(seen) >= self._value_limit:
            return OTHER_VALUE
        seen.add(value)
        return value

    def announce(self, span: Any, spec: BudgetSpec, alert: BudgetAlert) -> None:
        try:
            span.add_event(alert.event_name, alert.event_attributes())
        except Exception as exc:
            report("budget span event", exc)
        # Alerts fire once per threshold and counter; a per-user budget can have thousands of counters,
        # so the log line is bounded (the span event and on_exceed callback are not).
        cause = (spec.name, alert.event_name, alert.threshold, alert.scope_value, alert.window_start)
        self._log.warning(cause, "%s", alert.message())
        if callable(spec.on_exceed):
            try:
                spec.on_exceed(alert)
            except Exception as exc:
                report(f"budget {spec.name!r} on_exceed callback", exc)
