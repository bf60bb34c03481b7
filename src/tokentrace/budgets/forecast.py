"""Burn-rate forecasts: will this budget's window run out before the window ends?

A hard stop at the limit comes too late for a team that burns a month's budget in ten days; what
they need is the warning on day three. After every settlement of a windowed budget (hour, day,
month) tokentrace projects the window's spend at the current burn rate:

    rate      = (spent now - spent at the start of the trailing period) / trailing period
    projected = spent now + rate * (time left in the window)

and reports ``projected / limit`` as the ``tokentrace.budget.forecast_utilization`` gauge. The
store's counter is shared by every process that uses the same store, so the spend samples (and
the rate) are the fleet's, not this process's. When the projection reaches the limit before the
window ends, one :class:`ForecastAlert` per window and counter goes out through the budget's
alert channels ("team search will use its monthly budget up on 19 December at the current
rate"); with a shared store the first process to see it claims the alert for everyone.

The trailing period is the budget's ``forecast_over`` (15 minutes for hourly budgets, 3 hours
for daily, 3 days for monthly by default). Until this process has seen that much history, the
rate is measured over the history it has (once that is a minute or the whole trailing period
long), and before that it is the window's average so far (the counter was zero when the
window began).
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

from .alerts import BudgetAlert
from .errors import format_usd
from .spec import ENTRY_SCOPE, NANO, BudgetSpec
from .store import Amount

#: Samples kept per counter (older ones are thinned out, the oldest is always kept).
MAX_SAMPLES = 64
#: Counters followed at once; the least recently settled is forgotten beyond it.
MAX_COUNTERS = 10_000
#: History this process needs before its own samples beat the window's average as the rate.
MIN_HISTORY_S = 60.0
_WINDOW_WORDS = {"hour": "hourly", "day": "daily", "month": "monthly"}


@dataclass(frozen=True)
class Forecast:
    """What the current burn rate means for one budget window."""

    #: Projected spend at the end of the window divided by the limit (the larger of usd and tokens).
    utilization: float
    #: When the limit is reached at the current rate (``None``: not within the window, or never).
    exhausted_at: Optional[datetime]
    #: The limit that runs out first: ``usd`` or ``tokens``.
    unit: str
    #: The burn rate per hour in that unit (USD or tokens).
    rate_per_hour: float
    #: Seconds of history the rate was measured over.
    measured_over_s: float


@dataclass(frozen=True)
class ForecastAlert(BudgetAlert):
    """A budget that will run out before its window ends; ``on_exceed`` callbacks receive it too.

    It carries every :class:`BudgetAlert` field (``threshold`` is 1.0, ``utilization`` the
    fraction used *so far*) plus the forecast.
    """

    forecast_utilization: float = 0.0
    exhausted_at: Optional[datetime] = None
    rate_per_hour: float = 0.0
    rate_unit: str = "usd"

    kind = "forecast"
    event_name = "tokentrace.budget.forecast"

    def message(self) -> str:
        who = "this block" if self.scope == ENTRY_SCOPE else f"{self.scope} {self.scope_value}"
        if self.scope == "global":
            who = "all calls"
        word = _WINDOW_WORDS.get(self.window, self.window)
        when = _when(self.exhausted_at, self.window) if self.exhausted_at else "before the window ends"
        if self.rate_unit == "usd":
            rate = f"{format_usd(round(self.rate_per_hour, 4))}/hour"
            spent = f"{format_usd(self.spent_usd)} of {format_usd(self.limit_usd or 0)}"
        else:
            rate = f"{self.rate_per_hour:,.0f} tokens/hour"
            spent = f"{self.spent_tokens:,} of {self.limit_tokens or 0:,} tokens"
        if self.forecast_utilization >= 10:
            projected = f"{self.forecast_utilization:,.0f}x the limit"
        else:
            projected = f"{self.forecast_utilization:.0%} of the limit"
        return (
            f"tokentrace budget {self.budget!r}: {who} will use its {word} budget up {when} at the current "
            f"rate ({rate}; {spent} spent so far, {projected} projected for the window)."
        )

    def event_attributes(self) -> Dict[str, Any]:
        attributes = super().event_attributes()
        attributes["tokentrace.budget.forecast_utilization"] = self.forecast_utilization
        attributes["tokentrace.budget.rate_per_hour"] = self.rate_per_hour
        attributes["tokentrace.budget.rate_unit"] = self.rate_unit
        if self.exhausted_at is not None:
            attributes["tokentrace.budget.exhausted_at"] = self.exhausted_at.isoformat()
        return attributes


def _when(moment: datetime, window: str) -> str:
    """``on 19 December`` for a monthly window (with the year when it is not this year's);
    ``by 14:20 UTC`` for a daily or hourly one, which ends the same day."""
    if window != "month":
        return f"by {moment:%H:%M} UTC"
    text = f"on {moment.day} {moment:%B}"
    if moment.year != datetime.now(timezone.utc).year:
        text += f" {moment.year}"
    return text


class _Samples:
    __slots__ = ("times", "nano_usd", "tokens")

    def __init__(self) -> None:
        self.times: List[float] = []
        self.nano_usd: List[int] = []
        self.tokens: List[int] = []

    def add(self, now: float, spent: Amount) -> None:
        if self.times and now < self.times[-1]:
            return  # a clock step backwards: keep the history monotonic
        self.times.append(now)
        self.nano_usd.append(spent.nano_usd)
        self.tokens.append(spent.tokens)
        if len(self.times) > MAX_SAMPLES:
            # Drop every other sample of the older half: the history stays spread over time.
            half = len(self.times) // 2
            keep = list(range(0, half, 2)) + list(range(half, len(self.times)))
            self.times = [self.times[i] for i in keep]
            self.nano_usd = [self.nano_usd[i] for i in keep]
            self.tokens = [self.tokens[i] for i in keep]

    def base(self, since: float) -> Optional[Tuple[float, int, int]]:
        """The latest sample at or before ``since`` (``None`` when the history is shorter)."""
        index = bisect.bisect_right(self.times, since) - 1
        if index < 0:
            return None
        return self.times[index], self.nano_usd[index], self.tokens[index]


class Forecaster:
    """Keeps recent spend samples per budget counter and projects each window's end."""

    def __init__(self) -> None:
        self._samples: OrderedDict[str, _Samples] = OrderedDict()
        self._lock = threading.Lock()

    def observe(
        self, spec: BudgetSpec, key: str, window_start: datetime, window_end: datetime, spent: Amount, now: float
    ) -> Optional[Forecast]:
        """Record ``spent`` (the counter's settled total) at ``now`` and forecast the window."""
        if not spec.forecast or spec.forecast_over is None:
            return None
        start, end = window_start.timestamp(), window_end.timestamp()
        if now >= end:
            return None
        with self._lock:
            samples = self._samples.get(key)
            if samples is None:
                samples = self._samples[key] = _Samples()
                while len(self._samples) > MAX_COUNTERS:
                    self._samples.popitem(last=False)
            else:
                self._samples.move_to_end(key)
            samples.add(now, spent)
            base = samples.base(now - spec.forecast_over)
            if base is None and samples.times and now - samples.times[0] >= min(MIN_HISTORY_S, spec.forecast_over):
                base = (samples.times[0], samples.nano_usd[0], samples.tokens[0])
        if base is None or base[0] < start:
            # Not enough history yet (or it belongs to the previous window): the window's average.
            base = (start, 0, 0)
        elapsed = max(now - base[0], 1.0)
        best: Optional[Forecast] = None
        for unit, used, then, limit in (
            ("usd", spent.nano_usd, base[1], spec.limit_nano_usd),
            ("tokens", spent.tokens, base[2], spec.tokens),
        ):
            if not limit:
                continue
            rate = max(0, used - then) / elapsed
            projected = used + rate * (end - now)
            utilization = projected / limit
            exhausted_at = None
            if used >= limit:
                exhausted_at = datetime.fromtimestamp(now, tz=timezone.utc)
            elif rate > 0:
                moment = now + (limit - used) / rate
                if moment < end:
                    exhausted_at = datetime.fromtimestamp(moment, tz=timezone.utc)
            per_hour = rate * 3600 / (NANO if unit == "usd" else 1)
            forecast = Forecast(utilization, exhausted_at, unit, per_hour, elapsed)
            if best is None or forecast.utilization > best.utilization:
                best = forecast
        return best

    def forget(self) -> None:
        with self._lock:
            self._samples.clear()


def make_forecast_alert(base: BudgetAlert, forecast: Forecast) -> ForecastAlert:
    fields = {name: getattr(base, name) for name in BudgetAlert.__dataclass_fields__}
    return ForecastAlert(
        **fields,
        forecast_utilization=forecast.utilization,
        exhausted_at=forecast.exhausted_at,
        rate_per_hour=forecast.rate_per_hour,
        rate_unit=forecast.unit,
    )
