"""Spend anomalies: baselines by hand over synthetic days, then an alert through the real SDK."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any, List

import openai
import pytest

import tokentrace
from tokentrace.budgets import AnomalyAlert, BudgetConfigError
from tokentrace.budgets.anomaly import AnomalyDetector, AnomalySettings, parse_settings
from tokentrace.testing import ProviderServer, ResponsePlan

HOUR = 3600
DAY = 86400
#: 14:00 UTC on 1 December 2026, as an hour index's start.
T0 = datetime(2026, 12, 1, 14, tzinfo=timezone.utc).timestamp()


def detector(**kw: Any) -> AnomalyDetector:
    return AnomalyDetector(AnomalySettings(**kw))


def test_same_hour_of_previous_days_is_the_baseline_so_the_daily_cycle_is_no_anomaly() -> None:
    d = detector()
    # Seven days of history: $10 at 14:00 every day, $1 at 03:00 (the nightly lull).
    for day in range(7, 0, -1):
        d.add(T0 - day * DAY + 60, 10.0, {"team": "search"}, "gpt-5")
        d.add(T0 - day * DAY - 11 * HOUR + 60, 1.0, {"team": "search"}, "gpt-5")
    # Today at 14:00: $25 is 2.5x the usual $10 -> below factor 3, no alert even though it is 25x 03:00.
    assert d.add(T0 + 60, 25.0, {"team": "search"}, "gpt-5") == []
    alerts = d.add(T0 + 120, 6.0, {"team": "search", "workflow": "reindex"}, "gpt-5")  # $31 = 3.1x
    assert [(a.dimension, a.value) for a in alerts] == [("team", "search"), ("model", "gpt-5")]
    team = alerts[0]
    assert team.spent_usd == pytest.approx(31.0) and team.baseline_usd == pytest.approx(10.0)
    assert team.ratio == pytest.approx(3.1) and team.baseline == "same_hour"
    # The hour's spend by workflow: 25 without one, 6 in reindex -> the top named workflow is reindex.
    assert team.top_workflow == "reindex" and team.top_workflow_usd == pytest.approx(6.0)
    assert team.top_model == "gpt-5" and team.top_model_usd == pytest.approx(31.0)
    assert "team search spent $31 since 14:00 UTC, 3.1x its usual $10" in team.message()
    # Once per key and hour.
    assert d.add(T0 + 180, 50.0, {"team": "search"}, "gpt-5") == []


def test_the_median_ignores_one_odd_day() -> None:
    d = detector()
    for day, usd in zip(range(7, 0, -1), [10, 10, 200, 10, 10, 10, 10], strict=True):
        d.add(T0 - day * DAY, float(usd), {"team": "ads"}, "m")
    alerts = d.add(T0, 35.0, {"team": "ads"}, "m")
    assert alerts and alerts[0].baseline_usd == pytest.approx(10.0)  # median, not the mean of 37.1


def test_without_days_of_history_the_previous_hours_of_today_are_used() -> None:
    d = detector()
    for hour in range(8, 0, -1):
        d.add(T0 - hour * HOUR, 2.0, {"feature": "chat"}, "m")
    (alert, _model) = d.add(T0, 7.0, {"feature": "chat"}, "m")
    assert alert.baseline == "previous_hours" and alert.baseline_usd == pytest.approx(2.0)
    assert alert.ratio == pytest.approx(3.5)


def test_a_new_process_and_small_amounts_raise_nothing() -> None:
    assert detector().add(T0, 1000.0, {"team": "x"}, "m") == []  # no history at all
    d = detector(min_usd=5.0)
    for day in range(7, 0, -1):
        d.add(T0 - day * DAY, 0.01, {"team": "x"}, "m")
    assert d.add(T0, 1.0, {"team": "x"}, "m") == []  # 100x, but only $1 < min_usd $5


def test_a_usually_silent_hour_has_a_floor() -> None:
    d = detector(min_usd=1.0, factor=3.0)
    for day in range(7, 0, -1):
        d.add(T0 - day * DAY - 5 * HOUR, 10.0, {"team": "night"}, "m")  # spend only at 09:00
    (alert, _model) = d.add(T0, 1.5, {"team": "night"}, "m")  # $1.50 at 14:00, usually $0
    assert alert.baseline_usd == pytest.approx(1.0 / 3.0) and alert.ratio == pytest.approx(4.5)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"factor": 0.5}, "factor must be above 1"),
        ({"factor": "lots"}, "factor must be a number, got 'lots'"),
        ({"factor": float("inf")}, "factor must be a finite number"),
        ({"factor": "nan"}, "factor must be a finite number"),
        ({"factor": 1e6}, "would never alert"),
        ({"min_usd": float("nan")}, "min_usd must be a finite number"),
        ({"min_usd": -1}, "cannot be negative"),
        ({"days": 2.5}, "days must be a whole number of days, got 2.5"),
        ({"days": True}, "days must be a whole number of days"),
        ({"min_days": "two"}, "min_days must be a whole number"),
        ({"days": 10_000}, "days (the baseline, in days) must be 1 to 90"),
        ({"days": 2, "min_days": 3}, "min_days (days of history needed before alerting) 1 to days"),
        ({"dimensions": ["colour"]}, "dimensions must be among"),
        ({"sensitivity": 2}, "unknown setting(s) sensitivity"),
    ],
)
def test_bad_settings_are_explained(raw: Any, message: str) -> None:
    with pytest.raises(BudgetConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_settings(raw)
    assert parse_settings("factor=4,min_usd=2").factor == 4.0
    assert parse_settings("off").enabled is False


def test_whole_and_textual_settings_still_parse() -> None:
    settings = parse_settings("factor=2.5,min_usd=0,days=14.0,min_days=2")
    assert (settings.factor, settings.min_usd, settings.days, settings.min_days) == (2.5, 0.0, 14, 2)


USAGE = {"prompt_tokens": 100_000, "completion_tokens": 10_000, "total_tokens": 110_000}
CALL_USD = 100_000 * 1.25e-6 + 10_000 * 10e-6  # gpt-5: $0.225


def test_anomaly_alert_through_the_real_sdk(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    alerts: List[AnomalyAlert] = []
    telemetry = instrument(anomaly={"factor": 3, "min_usd": 0.5, "on_alert": alerts.append})
    detector = next(o for o in tokentrace.instrumentation.active_pipeline().observers if isinstance(o, AnomalyDetector))
    now = time.time()
    # The usual level at this hour: $0.20 on each of the last 7 days (as a ledger would seed it).
    detector.load_history((now - day * DAY, "team", "support", 0.20) for day in range(1, 8))
    caplog.set_level(logging.WARNING, "tokentrace")
    server.enqueue(*[ResponsePlan(usage=dict(USAGE)) for _ in range(3)])
    with tokentrace.attribute(team="support", workflow="ticket-triage"):
        for _ in range(3):
            client.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "triage"}])
    (alert,) = alerts
    # 3 x $0.225 = $0.675 >= 3 x $0.20 after the third call (2 calls: $0.45 < $0.60).
    assert alert.dimension == "team" and alert.value == "support"
    assert alert.spent_usd == pytest.approx(3 * CALL_USD) and alert.ratio == pytest.approx(3 * CALL_USD / 0.20)
    assert alert.top_workflow == "ticket-triage" and alert.top_model.startswith("gpt-5")
    third = telemetry.llm_spans()[2]
    event = next(e for e in third.events if e.name == "tokentrace.spend.anomaly")
    assert event.attributes["tokentrace.anomaly.top_workflow"] == "ticket-triage"
    assert any("spend anomaly: team support" in r.getMessage() for r in caplog.records)
    ratios = {p.attributes["tokentrace.anomaly.value"]: p.value for p in telemetry.points("tokentrace.spend.anomaly_ratio")}
    assert ratios["support"] == pytest.approx(3 * CALL_USD / 0.20)


def test_reinstrumenting_on_the_same_meter_provider_reports_the_new_detector(
    instrument: Any, server: ProviderServer, client: openai.OpenAI
) -> None:
    """The SDK keeps the first observable gauge registered under a name on a meter provider; a
    second instrument() on that provider must still have its own detector's ratios reported."""
    ratios: List[float] = []
    for usual in (0.20, 0.45):  # $ at this hour on each of the last 7 days, per setup
        telemetry = instrument(anomaly={"factor": 3, "min_usd": 0.5})  # floor 0.5 / 3 < both levels
        detector = next(o for o in tokentrace.instrumentation.active_pipeline().observers if isinstance(o, AnomalyDetector))
        now = time.time()
        detector.load_history((now - day * DAY, "team", "support", usual) for day in range(1, 8))
        server.enqueue(ResponsePlan(usage=dict(USAGE)))
        with tokentrace.attribute(team="support"):
            client.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "triage"}])
        (point,) = [p for p in telemetry.points("tokentrace.spend.anomaly_ratio") if p.attributes["tokentrace.anomaly.value"] == "support"]
        ratios.append(point.value)
    # One $0.225 call against the usual $0.20, then (the second setup's own history) $0.45.
    assert ratios == [pytest.approx(CALL_USD / 0.20), pytest.approx(CALL_USD / 0.45)]
