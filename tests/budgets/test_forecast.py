"""Burn-rate forecasts: the arithmetic by hand, then the alert through the real openai SDK."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any, List

import openai
import pytest

import tokentrace
from tokentrace.budgets import ForecastAlert
from tokentrace.budgets.forecast import Forecaster
from tokentrace.budgets.spec import build_spec
from tokentrace.budgets.store import Amount
from tokentrace.testing import ProviderServer, ResponsePlan

NANO = 1_000_000_000
DEC = datetime(2026, 12, 1, tzinfo=timezone.utc)
JAN = datetime(2027, 1, 1, tzinfo=timezone.utc)


def monthly(usd: float, over: str = "3d") -> Any:
    return build_spec({"name": "search-monthly", "usd": usd, "window": "month", "scope": "team", "forecast_over": over}, "test")


def at(day: float) -> float:
    return (DEC + timedelta(days=day)).timestamp()


def test_rate_over_the_trailing_period_projects_the_window_end() -> None:
    spec = monthly(310.0)
    forecaster = Forecaster()
    # $10 a day from 1 December: the samples say so; 3-day trailing rate = $10/day.
    for day in range(1, 11):
        result = forecaster.observe(spec, "k", DEC, JAN, Amount(nano_usd=day * 10 * NANO), at(day))
    assert result is not None
    # At day 10: spent $100, rate $10/day, 21 days left -> $310 projected = exactly the limit.
    assert result.utilization == pytest.approx(310 / 310)
    assert result.unit == "usd" and result.rate_per_hour == pytest.approx(10 / 24)
    assert result.measured_over_s == pytest.approx(3 * 86400)
    # The limit is reached when $210 more are spent at $10/day: 21 days later, 1 January 00:00.
    assert result.exhausted_at is None  # exactly at the window's end is not "before the window ends"


def test_an_accelerating_burn_is_caught_from_the_trailing_rate_not_the_average() -> None:
    spec = monthly(500.0)
    forecaster = Forecaster()
    spent = 0.0
    for day in range(1, 8):  # $10/day for a week ...
        spent += 10
        forecaster.observe(spec, "k", DEC, JAN, Amount(nano_usd=int(spent * NANO)), at(day))
    for day in range(8, 11):  # ... then $40/day
        spent += 40
        result = forecaster.observe(spec, "k", DEC, JAN, Amount(nano_usd=int(spent * NANO)), at(day))
    assert result is not None and spent == 190
    # Trailing 3 days (day 7 -> day 10): $120 in 3 days = $40/day; 21 days left -> 190 + 840 = 1030.
    assert result.utilization == pytest.approx(1030 / 500)
    # (500 - 190) / 40 = 7.75 days after day 10 -> 18 December 18:00 UTC.
    assert result.exhausted_at == datetime(2026, 12, 18, 18, 0, tzinfo=timezone.utc)


def test_before_any_history_the_window_average_is_used() -> None:
    spec = monthly(100.0)
    result = Forecaster().observe(spec, "k", DEC, JAN, Amount(nano_usd=20 * NANO), at(5))
    # $20 over the first 5 days = $4/day; 26 days left -> 20 + 104 = 124.
    assert result is not None and result.utilization == pytest.approx(124 / 100)


def test_token_limits_and_the_unit_that_runs_out_first() -> None:
    spec = build_spec({"name": "t", "usd": 1000, "tokens": 1_000_000, "window": "day", "forecast_over": "1h"}, "test")
    day = datetime(2026, 12, 1, tzinfo=timezone.utc)
    forecaster = Forecaster()
    forecaster.observe(spec, "k", day, day + timedelta(days=1), Amount(NANO, 100_000), (day + timedelta(hours=1)).timestamp())
    result = forecaster.observe(spec, "k", day, day + timedelta(days=1), Amount(2 * NANO, 200_000), (day + timedelta(hours=2)).timestamp())
    # 100k tokens/hour, 22 h left: 200k + 2.2M = 2.4M tokens = 240 % of the token limit; USD 2 + 22 = 2.4 %.
    assert result is not None and result.unit == "tokens"
    assert result.utilization == pytest.approx(2.4)
    assert result.exhausted_at == day + timedelta(hours=10)


def test_total_budgets_and_forecast_off_have_no_forecast() -> None:
    assert Forecaster().observe(build_spec({"usd": 1, "window": "total"}, "t"), "k", DEC, JAN, Amount(NANO), at(1)) is None
    spec = build_spec({"usd": 1, "window": "month", "forecast": False}, "t")
    assert Forecaster().observe(spec, "k", DEC, JAN, Amount(NANO), at(1)) is None


@pytest.mark.parametrize("raw, message", [("soon", "duration such as"), ("-3h", "positive duration"), (0, "positive duration")])
def test_bad_forecast_periods_are_explained(raw: Any, message: str) -> None:
    from tokentrace.budgets import BudgetConfigError

    with pytest.raises(BudgetConfigError, match=message):
        build_spec({"usd": 1, "window": "day", "forecast_over": raw}, "budget entry #1")
    with pytest.raises(BudgetConfigError, match="only applies to hour, day and month"):
        build_spec({"usd": 1, "window": "total", "forecast_over": "1h"}, "budget entry #1")


USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}
CALL_USD = 1000 * 0.15e-6 + 500 * 0.60e-6  # gpt-4o-mini: $0.15 / $0.60 per 1M tokens


def test_forecast_alert_once_per_window_through_every_channel(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    alerts: List[Any] = []
    telemetry = instrument(
        budgets=[
            {
                "name": "team-monthly",
                "usd": 100 * CALL_USD,
                "window": "month",
                "scope": "team",
                "forecast_over": "1s",
                "on_exceed": alerts.append,
            }
        ]
    )
    caplog.set_level(logging.WARNING, "tokentrace")
    server.enqueue(*[ResponsePlan(usage=dict(USAGE)) for _ in range(4)])
    with tokentrace.attribute(team="search"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        time.sleep(1.1)  # one call per ~second for a month runs far past 100 calls
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    forecasts = [a for a in alerts if isinstance(a, ForecastAlert)]
    assert len(forecasts) == 1, "one forecast alert per window and counter"
    alert = forecasts[0]
    assert alert.kind == "forecast" and alert.budget == "team-monthly" and alert.scope_value == "search"
    assert alert.forecast_utilization > 1 and alert.exhausted_at is not None
    assert alert.exhausted_at < datetime.now(timezone.utc) + timedelta(minutes=10)
    day = f"{alert.exhausted_at.day} {alert.exhausted_at:%B}"
    assert f"team search will use its monthly budget up on {day} at the current rate (" in alert.message()
    assert any("will use its monthly budget up on" in r.getMessage() for r in caplog.records)
    events = [e for s in telemetry.llm_spans() for e in s.events if e.name == "tokentrace.budget.forecast"]
    assert len(events) == 1 and events[0].attributes["tokentrace.budget.forecast_utilization"] > 1
    gauge = telemetry.points("tokentrace.budget.forecast_utilization")
    assert gauge and gauge[-1].value > 1  # later calls keep the projection over the limit


def test_a_slow_burn_reports_the_gauge_and_no_alert(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    alerts: List[Any] = []
    telemetry = instrument(
        budgets=[{"name": "roomy", "usd": 1000.0, "window": "day", "scope": "global", "on_exceed": alerts.append}]
    )
    server.enqueue(ResponsePlan(usage=dict(USAGE)))
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert not [a for a in alerts if isinstance(a, ForecastAlert)]
    (point,) = telemetry.points("tokentrace.budget.forecast_utilization")
    assert 0 < point.value < 1
    assert point.attributes["tokentrace.budget.name"] == "roomy"


def test_the_message_says_the_day_for_a_month_and_the_time_for_a_day() -> None:
    exhausted = datetime(2026, 12, 19, 14, 20, tzinfo=timezone.utc)
    fields = dict(
        budget="search", scope="team", scope_value="search", window_start=None, threshold=1.0, utilization=0.3,
        spent_usd=6120.0, spent_tokens=0, limit_usd=20_000.0, limit_tokens=None, exceeded_since=None, hard=False,
        forecast_utilization=1.8, exhausted_at=exhausted, rate_per_hour=41.6,
    )
    monthly = ForecastAlert(window="month", **fields).message()  # type: ignore[arg-type]
    assert "team search will use its monthly budget up on 19 December" in monthly
    assert "at the current rate ($41.6/hour; $6,120 of $20,000 spent so far, 180% of the limit projected" in monthly
    daily = ForecastAlert(window="day", **fields).message()  # type: ignore[arg-type]
    assert "team search will use its daily budget up by 14:20 UTC at the current rate" in daily
