"""Spend anomalies: a team, feature or model spending far more than it usually does at this hour.

A budget says "stop at $X"; an anomaly says "this is not normal", long before any limit. Spend
has a daily cycle (office hours, nightly batch jobs), so the baseline of an hour is the *same
hour of previous days*: the median of the spend in that clock hour over the last ``days`` days
(7 by default). The median ignores one odd day; the same-hour comparison ignores the cycle.
Until ``min_days`` days (3) of history exist, the baseline is the median of the previous hours
of the same day instead (at least 6 of them), so a new process is not blind for three days. An
hour that usually sees no spend has a floor of ``min_usd / factor`` as its baseline. The
baseline of an hour is fixed when the hour begins, so the per-call cost is a few dict updates.

After each priced call, the spend of the current clock hour (UTC) so far, per team, feature and
model, is compared with its baseline. The ratio is reported as the
``tokentrace.spend.anomaly_ratio`` gauge; when it passes ``factor`` (3.0) and the hour's spend
is at least ``min_usd`` ($1, so cents do not page anyone), one :class:`AnomalyAlert` per key and
hour names the workflow and the model that contribute most: a log line, a
``tokentrace.spend.anomaly`` span event and the ``on_alert`` callback. Comparing the partial
hour with whole baseline hours can only under-state the ratio, so an alert is never a projection.

History lives in this process (bounded: ``days`` + 1 days of hourly buckets per key, at most
``MAX_KEYS`` keys). The shipped Prometheus rule ``TokentraceSpendAnomaly`` computes the same
comparison from the fleet's counters, which survive restarts.
"""

from __future__ import annotations

import logging
import math
import statistics
import threading
import time
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from ..core.config import parse_bool
from ..core.ratelog import RateLimitedLog
from ..core.safety import report
from ..core.telemetry import once_per_provider
from .errors import BudgetConfigError, format_usd
from .spec import finite_setting

logger = logging.getLogger("tokentrace")

METRIC_ANOMALY_RATIO = "tokentrace.spend.anomaly_ratio"
EVENT_ANOMALY = "tokentrace.spend.anomaly"
DIMENSIONS = ("team", "feature", "model")
#: Keys (dimension, value) followed at once; the least recently used is forgotten beyond it.
MAX_KEYS = 5_000
#: Combinations whose series are remembered (:meth:`AnomalyDetector._route`); beyond it, found again.
_MAX_ROUTES = 4096
_HOUR = 3600
_DAY = 86_400
_KNOWN = ("factor", "min_usd", "days", "min_days", "dimensions", "on_alert", "enabled")


@dataclass(frozen=True)
class AnomalySettings:
    factor: float = 3.0
    min_usd: float = 1.0
    days: int = 7
    min_days: int = 3
    dimensions: Tuple[str, ...] = DIMENSIONS
    on_alert: Optional[Callable[[AnomalyAlert], None]] = None
    enabled: bool = True


#: Past these, a setting is a typo rather than a choice: a factor no spike reaches, a baseline of years.
_MAX_FACTOR = 1_000.0
_MAX_DAYS = 90


def _number(raw: Mapping[str, Any], key: str, default: float) -> float:
    """A finite number (an int, a float or its text); ``inf``/``nan`` would never, or always, alert."""
    try:
        return finite_setting(raw.get(key, default), key)
    except ValueError as exc:
        raise BudgetConfigError(f"anomaly: {exc}") from None


def _whole(raw: Mapping[str, Any], key: str, default: int) -> int:
    """A whole number of days: 2.5 is refused, not truncated to 2 without a word."""
    value = raw.get(key, default)
    if isinstance(value, bool):
        raise BudgetConfigError(f"anomaly: {key} must be a whole number of days, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BudgetConfigError(f"anomaly: {key} must be a whole number of days, got {value!r}") from None
    if not math.isfinite(number) or number != int(number):
        raise BudgetConfigError(f"anomaly: {key} must be a whole number of days, got {value!r}")
    return int(number)


def parse_settings(raw: Any) -> AnomalySettings:
    """``instrument(anomaly=...)``: ``False`` to turn off, or a mapping of the settings above."""
    if raw is None or raw is True:
        return AnomalySettings()
    if raw is False:
        return AnomalySettings(enabled=False)
    if isinstance(raw, str):
        text = raw.strip()
        if text.lower() in ("0", "false", "off", "no", "1", "true", "on", "yes"):
            return AnomalySettings(enabled=parse_bool(text))
        from ..core.config import parse_mapping

        raw = parse_mapping(text)
    if not isinstance(raw, Mapping):
        raise BudgetConfigError(f"anomaly must be true/false or settings such as factor=3,min_usd=1; got {raw!r}")
    unknown = sorted(set(raw) - set(_KNOWN))
    if unknown:
        raise BudgetConfigError(f"anomaly: unknown setting(s) {', '.join(unknown)}; known settings are {', '.join(_KNOWN)}")
    factor = _number(raw, "factor", 3.0)
    min_usd = _number(raw, "min_usd", 1.0)
    days = _whole(raw, "days", 7)
    min_days = _whole(raw, "min_days", 3)
    if not factor > 1:
        raise BudgetConfigError(f"anomaly: factor must be above 1 (3 means three times the usual spend), got {factor!r}")
    if factor > _MAX_FACTOR:
        raise BudgetConfigError(f"anomaly: factor {factor!r} would never alert; use at most {_MAX_FACTOR:g} (times the usual spend)")
    if min_usd < 0:
        raise BudgetConfigError(f"anomaly: min_usd is the hourly spend (USD) below which nothing alerts; it cannot be negative, got {min_usd!r}")
    if not 1 <= days <= _MAX_DAYS or not 1 <= min_days <= days:
        raise BudgetConfigError(
            f"anomaly: days (the baseline, in days) must be 1 to {_MAX_DAYS} and min_days (days of history needed "
            f"before alerting) 1 to days; got days={days}, min_days={min_days}"
        )
    dimensions = raw.get("dimensions", DIMENSIONS)
    if isinstance(dimensions, str):
        dimensions = [d.strip() for d in dimensions.split("+") if d.strip()]
    dimensions = tuple(dimensions)
    bad = [d for d in dimensions if d not in ("team", "feature", "workflow", "tenant", "model", "provider")]
    if bad or not dimensions:
        raise BudgetConfigError(f"anomaly: dimensions must be among team, feature, workflow, tenant, model, provider; got {bad or dimensions}")
    on_alert = raw.get("on_alert")
    if on_alert is not None and not callable(on_alert):
        raise BudgetConfigError("anomaly: on_alert must be a function that receives an AnomalyAlert")
    return AnomalySettings(factor, min_usd, days, min_days, dimensions, on_alert, parse_bool(raw.get("enabled", True)))


@dataclass(frozen=True)
class AnomalyAlert:
    """Spend of one team / feature / model in this hour, far above its usual level."""

    dimension: str
    value: str
    hour_start: datetime
    spent_usd: float
    baseline_usd: float
    ratio: float
    #: How the baseline was formed: ``same_hour`` (previous days) or ``previous_hours`` (today).
    baseline: str
    top_workflow: Optional[str]
    top_workflow_usd: float
    top_model: Optional[str]
    top_model_usd: float

    def message(self) -> str:
        what = f"{self.dimension} {self.value}"
        usual = "the same hour of previous days" if self.baseline == "same_hour" else "the previous hours of today"
        parts = [
            f"tokentrace: spend anomaly: {what} spent {format_usd(round(self.spent_usd, 6))} since "
            f"{self.hour_start:%H:%M} UTC, {self.ratio:.1f}x its usual {format_usd(round(self.baseline_usd, 6))} "
            f"(median of {usual})"
        ]
        if self.top_workflow:
            parts.append(f"most of it from workflow {self.top_workflow!r} ({format_usd(round(self.top_workflow_usd, 6))})")
        if self.top_model:
            parts.append(f"model {self.top_model!r} ({format_usd(round(self.top_model_usd, 6))})")
        return "; ".join(parts) + "."

    def event_attributes(self) -> Dict[str, Any]:
        attributes: Dict[str, Any] = {
            "tokentrace.anomaly.dimension": self.dimension,
            "tokentrace.anomaly.value": self.value,
            "tokentrace.anomaly.spent_usd": self.spent_usd,
            "tokentrace.anomaly.baseline_usd": self.baseline_usd,
            "tokentrace.anomaly.ratio": self.ratio,
            "tokentrace.anomaly.baseline": self.baseline,
        }
        if self.top_workflow:
            attributes["tokentrace.anomaly.top_workflow"] = self.top_workflow
        if self.top_model:
            attributes["tokentrace.anomaly.top_model"] = self.top_model
        return attributes


def hourly_baseline(hours: Mapping[int, float], hour: int, settings: AnomalySettings) -> Tuple[Optional[float], str]:
    """The usual spend of clock hour ``hour`` (hours since the epoch) from earlier hourly spend.

    The median of the same hour on the previous ``days`` days once ``min_days`` of history exist
    (``same_hour``), else of today's previous hours, at least 6 of them (``previous_hours``),
    else ``None`` (``none``). An hour that usually sees no spend gets a floor of
    ``min_usd / factor``, so a sudden ``min_usd`` in a silent hour is an anomaly rather than a
    division by zero. Both the live detector and ``tokentrace report`` use this one rule.
    """
    first = min((h for h in hours if h < hour), default=None)
    if first is None:
        return None, "none"
    floor = settings.min_usd / settings.factor
    history_days = min(settings.days, (hour - first) // 24)
    if history_days >= settings.min_days:
        observed = [hours.get(hour - day * 24, 0.0) for day in range(1, history_days + 1)]
        return max(statistics.median(observed), floor) or None, "same_hour"
    earlier = [hours.get(h, 0.0) for h in range(max(first, hour - 24), hour)]
    if len(earlier) >= 6:
        return max(statistics.median(earlier), floor) or None, "previous_hours"
    return None, "none"


class _Series:
    """Hourly spend of one key: buckets by hour index, and this hour's split by workflow and model."""

    __slots__ = ("hours", "current_hour", "by_workflow", "by_model", "alerted_hour", "baseline", "baseline_kind")

    def __init__(self) -> None:
        self.hours: Dict[int, float] = {}
        self.current_hour = -1
        #: The current hour's baseline, fixed for the hour (it only depends on earlier hours).
        self.baseline: Optional[float] = None
        self.baseline_kind = "none"
        self.by_workflow: Dict[str, float] = defaultdict(float)
        self.by_model: Dict[str, float] = defaultdict(float)
        self.alerted_hour = -1


class _GaugeOwner:
    """The anomaly gauge of one meter provider: it reports the detector that claimed it last."""

    __slots__ = ("_detector",)

    def __init__(self, meter_provider: Any) -> None:
        from opentelemetry import metrics

        from .._version import __version__

        self._detector: Optional[Callable[[], Optional[AnomalyDetector]]] = None
        meter = metrics.get_meter("tokentrace", __version__, meter_provider=meter_provider)
        meter.create_observable_gauge(
            METRIC_ANOMALY_RATIO,
            callbacks=[self.observe],
            unit="1",
            description="Spend in the current hour divided by the usual spend at this hour (same hour of previous days).",
        )

    def claim(self, detector: AnomalyDetector) -> None:
        self._detector = weakref.ref(detector)  # a dropped setup's detector is not kept alive

    def observe(self, options: Any) -> List[Any]:
        detector = self._detector() if self._detector is not None else None
        return detector.observations() if detector is not None else []


class AnomalyDetector:
    """The call observer behind spend anomalies (see the module docstring)."""

    #: It only counts finished calls: the pipeline skips the empty ``before_call``.
    wants_before_call = False

    def __init__(self, settings: AnomalySettings, meter_provider: Any = None, value_limit: int = 100) -> None:
        self.settings = settings
        self._series: OrderedDict[Tuple[str, str], _Series] = OrderedDict()
        self._lock = threading.Lock()
        self._log = RateLimitedLog()
        #: (hour, model, provider, attribution items) -> (generation, the series it adds to): see _route.
        self._routes: Dict[tuple, Tuple[int, List[Tuple[str, str, _Series]]]] = {}
        self._generation = 0
        self._meter_provider = meter_provider
        self._gauge: Any = None
        self._value_limit = value_limit
        self._gauge_values: Dict[str, Set[str]] = defaultdict(set)
        self._ratios: Dict[Tuple[str, str], float] = {}
        if settings.enabled:
            try:  # now, so the previous instrument()'s detector is no longer reported from here on
                self._register_gauge()
            except Exception as exc:
                report("spend anomaly metric", exc)

    def before_call(self, call: Any) -> None:
        return None

    def after_call(self, call: Any) -> None:
        cost = call.cost.usd if call.cost is not None else None
        if not self.settings.enabled or cost is None or cost <= 0:
            return
        values = call.attribution.values
        record = call.record
        model = record.model or ""
        for alert in self.add(time.time(), cost, values, model, record.provider):
            self._announce(call, alert)

    def add(self, now: float, cost: float, values: Mapping[str, str], model: str, provider: str = "") -> List[AnomalyAlert]:
        """Count ``cost`` at ``now`` for every dimension the call has; the alerts it raises."""
        alerts: List[AnomalyAlert] = []
        ratios: Optional[List[Tuple[str, str, float]]] = None
        hour = int(now // _HOUR)
        workflow = values.get("workflow") or ""
        settings = self.settings
        key = (hour, model, provider, tuple(values.items()) if values else ())
        with self._lock:  # once for all dimensions: this runs on every priced call
            route = self._routes.get(key)
            if route is None or route[0] != self._generation:
                route = self._route(key, hour, values, model, provider)
            for dimension, value, series in route[1]:
                if series.current_hour != hour:
                    series.current_hour = hour
                    series.by_workflow.clear()
                    series.by_model.clear()
                    self._trim(series, hour)
                    series.baseline, series.baseline_kind = self._baseline(series, hour)
                spent = series.hours[hour] = series.hours.get(hour, 0.0) + cost
                if workflow:
                    series.by_workflow[workflow] += cost
                series.by_model[model] += cost
                baseline = series.baseline
                if not baseline:
                    continue
                ratio = spent / baseline
                if ratios is None:
                    ratios = []
                ratios.append((dimension, value, ratio))
                if ratio >= settings.factor and spent >= settings.min_usd and series.alerted_hour != hour:
                    series.alerted_hour = hour
                    alerts.append(self._alert(dimension, value, hour, spent, baseline, ratio, series.baseline_kind, series))
        for dimension, value, ratio in ratios or ():
            self._record_ratio(dimension, value, ratio)
        return alerts

    def _route(self, key: tuple, hour: int, values: Mapping[str, str], model: str, provider: str) -> Tuple[int, List[Tuple[str, str, _Series]]]:
        """The series one (hour, model, provider, attribution) combination adds to, found once.

        A call's dimensions, their values and the series they name are the same for every call
        of the combination within the hour, so the per-call path does not look them up (nor
        touch the LRU order) again; forgetting a series (:data:`MAX_KEYS`) starts a new
        generation, so no route keeps adding to a forgotten series. Called with the lock held.
        """
        found: List[Tuple[str, str, _Series]] = []
        for dimension in self.settings.dimensions:
            value = model if dimension == "model" else provider if dimension == "provider" else values.get(dimension)
            if value:
                found.append((dimension, value, self._get((dimension, value))))
        if len(self._routes) >= _MAX_ROUTES:
            self._routes.clear()
        route = self._routes[key] = (self._generation, found)
        return route

    def _get(self, key: Tuple[str, str]) -> _Series:
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series()
            while len(self._series) > MAX_KEYS:
                self._series.popitem(last=False)
                self._generation += 1  # routes may hold the forgotten series
        else:
            self._series.move_to_end(key)
        return series

    def _trim(self, series: _Series, hour: int) -> None:
        oldest = hour - (self.settings.days + 1) * 24
        for old in [h for h in series.hours if h < oldest]:
            del series.hours[old]

    def _baseline(self, series: _Series, hour: int) -> Tuple[Optional[float], str]:
        return hourly_baseline(series.hours, hour, self.settings)

    def _alert(
        self, dimension: str, value: str, hour: int, spent: float, baseline: float, ratio: float, kind: str, series: _Series
    ) -> AnomalyAlert:
        top_workflow = max(series.by_workflow.items(), key=lambda item: item[1], default=(None, 0.0))
        top_model = max(series.by_model.items(), key=lambda item: item[1], default=(None, 0.0))
        return AnomalyAlert(
            dimension=dimension,
            value=value,
            hour_start=datetime.fromtimestamp(hour * _HOUR, tz=timezone.utc),
            spent_usd=spent,
            baseline_usd=baseline,
            ratio=ratio,
            baseline=kind,
            top_workflow=top_workflow[0] or None,
            top_workflow_usd=top_workflow[1],
            top_model=(top_model[0] or None) if dimension != "model" else value,
            top_model_usd=top_model[1],
        )

    def _record_ratio(self, dimension: str, value: str, ratio: float) -> None:
        """Keep the latest ratio per key; an observable gauge reports them when a reader collects.

        A synchronous gauge would cost the OpenTelemetry SDK's attribute handling on every call
        for every dimension; this costs a dict store.
        """
        try:
            if self._gauge is None:
                self._register_gauge()
            seen = self._gauge_values[dimension]
            if value not in seen:
                if len(seen) >= self._value_limit:
                    value = "_other"
                else:
                    seen.add(value)
            self._ratios[(dimension, value)] = ratio
        except Exception as exc:
            report("spend anomaly metric", exc)

    def _register_gauge(self) -> None:
        """Make this detector the one the meter provider's anomaly gauge reports.

        The SDK registers an observable gauge's callbacks once per provider and name; a second
        ``instrument()`` on the same provider gets the first one's instrument back. So the gauge
        reads whichever detector claimed it last (this one), not the closure it was made with.
        """
        owner = once_per_provider(self._meter_provider, METRIC_ANOMALY_RATIO, lambda: _GaugeOwner(self._meter_provider))
        owner.claim(self)
        self._gauge = owner

    def observations(self) -> List[Any]:
        from opentelemetry.metrics import Observation

        return [
            Observation(ratio, {"tokentrace.anomaly.dimension": dimension, "tokentrace.anomaly.value": value})
            for (dimension, value), ratio in list(self._ratios.items())
        ]

    def _announce(self, call: Any, alert: AnomalyAlert) -> None:
        self._log.warning((alert.dimension, alert.value), "%s", alert.message())  # bounded, like every per-call line
        try:
            call.span.add_event(EVENT_ANOMALY, alert.event_attributes())
        except Exception as exc:
            report("spend anomaly span event", exc)
        if self.settings.on_alert is not None:
            try:
                self.settings.on_alert(alert)
            except Exception as exc:
                report("anomaly on_alert callback", exc)

    def load_history(self, rows: Iterable[Tuple[float, str, str, float]]) -> None:
        """Seed the hourly history from ``(time, dimension, value, usd)`` rows (a ledger's past days)."""
        with self._lock:
            for moment, dimension, value, usd in rows:
                if dimension in self.settings.dimensions and value and usd:
                    series = self._get((dimension, value))
                    hour = int(moment // _HOUR)
                    series.hours[hour] = series.hours.get(hour, 0.0) + usd
            for series in self._series.values():
                if series.current_hour >= 0:  # the hour in progress gets its baseline again
                    series.baseline, series.baseline_kind = self._baseline(series, series.current_hour)
