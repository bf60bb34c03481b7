"""Budget forecasts and anomalies in the report: hand-made rows, then a ledger recorded through the SDK."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Any

import pytest

from tokentrace.budgets.anomaly import AnomalySettings
from tokentrace.budgets.spec import build_spec
from tokentrace.cli.main import main
from tokentrace.ledger import SpendRow
from tokentrace.report.outlook import anomalies, budget_outlook

DEC = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()
DAY, HOUR = 86400, 3600


def spend(at: float, usd: float, team: str = "search", model: str = "gpt-5", workflow: str = "", tokens: int = 0) -> SpendRow:
    dims = {"team": team, **({"workflow": workflow} if workflow else {})}
    return SpendRow(
        period_start=at, period_end=at + 60, provider="openai", model=model, token_type="output", tokens=tokens,
        list_cost_usd=usd, effective_cost_usd=usd, cost_status="priced", calls=1, dimensions=dims,
    )


def test_monthly_budget_forecast_from_the_trailing_rate() -> None:
    spec = build_spec({"name": "search-monthly", "usd": 310, "window": "month", "scope": "team", "forecast_over": "3d"}, "t")
    # $10/day on days 1-7 (Dec 1 .. Dec 7), then $40/day on days 8-10; the report looks at Dec 11 00:00.
    rows = [spend(DEC + d * DAY + HOUR, 10.0) for d in range(7)] + [spend(DEC + d * DAY + HOUR, 40.0) for d in range(7, 10)]
    rows.append(spend(DEC + 2 * DAY, 5.0, team="ads"))
    rows.append(spend(DEC - DAY, 999.0))  # November: another window
    at = DEC + 10 * DAY
    (search, ads) = budget_outlook([spec], rows, at)
    assert (search.scope_value, search.spent_usd) == ("search", 190.0)
    assert search.utilization == pytest.approx(190 / 310)
    # Trailing 3 days = $120 -> $40/day; 21 days left -> 190 + 840 = 1030 projected.
    assert search.forecast_utilization == pytest.approx(1030 / 310)
    # (310 - 190) / 40 = 3 days after Dec 11 00:00.
    assert search.exhausted_at == datetime(2026, 12, 14, tzinfo=timezone.utc)
    assert ads.spent_usd == 5.0 and ads.exhausted_at is None  # $0 in the last 3 days: no burn


def test_total_and_token_budgets() -> None:
    total = build_spec({"name": "t", "tokens": 1000, "window": "total", "scope": "global"}, "t")
    (line,) = budget_outlook([total], [spend(DEC, 0.0, tokens=600), spend(DEC + DAY, 0.0, tokens=300)], DEC + 2 * DAY)
    assert line.scope_value == "*" and line.spent_tokens == 900 and line.utilization == pytest.approx(0.9)
    assert line.forecast_utilization is None


def test_anomalous_hours_against_the_same_hour_of_previous_days() -> None:
    settings = AnomalySettings(factor=3.0, min_usd=1.0)
    start = DEC + 7 * DAY
    rows = []
    for d in range(7):  # the usual: $10 at 14:00 and $2 at 03:00 every day
        rows += [spend(DEC + d * DAY + 14 * HOUR, 10.0), spend(DEC + d * DAY + 3 * HOUR, 2.0)]
    # The report's day: 14:00 normal ($12), 03:00 five times usual ($10, all in workflow reindex).
    rows += [spend(start + 14 * HOUR, 12.0), spend(start + 3 * HOUR, 7.0, workflow="reindex"), spend(start + 3 * HOUR + 60, 3.0)]
    found = anomalies(rows, start, start + DAY, settings)
    keys = [(a.dimension, a.value, a.hour_start.hour) for a in found]
    assert sorted(keys) == [("model", "gpt-5", 3), ("team", "search", 3)]
    team = next(a for a in found if a.dimension == "team")
    assert team.spent_usd == 10.0 and team.baseline_usd == 2.0 and team.ratio == 5.0
    assert team.top_workflow == "reindex" and team.top_model == "gpt-5"


USAGE = {"prompt_tokens": 100_000, "completion_tokens": 10_000, "total_tokens": 110_000}


def test_report_shows_budget_forecasts_and_anomalies(
    instrument: Any, server: Any, tmp_path: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai

    import tokentrace
    from tokentrace.ledger import store
    from tokentrace.testing import ResponsePlan

    # A fixed moment of the day (12:20 UTC): the forecast's remaining window and "this hour" are
    # then the same whenever the suite runs (near midnight the day budget's remaining time is
    # minutes, and the calls could land in another hour than the report's).
    real_time, real_time_ns = time.time, time.time_ns
    today = datetime.fromtimestamp(real_time(), tz=timezone.utc).replace(hour=12, minute=20, second=0, microsecond=0)
    offset = today.timestamp() - real_time()
    monkeypatch.setattr(time, "time", lambda: real_time() + offset)
    monkeypatch.setattr(time, "time_ns", lambda: real_time_ns() + int(offset * 1e9))
    ledger = tmp_path / "ledger.sqlite"
    instrument(ledger=str(ledger))
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(*[ResponsePlan(usage=dict(USAGE)) for _ in range(4)])
    with tokentrace.attribute(team="support", workflow="ticket-triage"):
        for _ in range(4):  # 4 x gpt-5 at $1.25 / $10 per 1M: 4 x $0.225 = $0.90
            client.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "triage"}])
    tokentrace.uninstrument()  # flushes the ledger
    # The same minute on each of the previous 7 days: $0.05 (written as the writer would have).
    connection = store.connect(ledger)
    recorded_at = min(r.period_start for r in store.select(connection, 0, time.time() + 60))
    cells = []
    for d in range(1, 8):
        at = recorded_at - d * DAY
        key = (at, at + 60, "openai", "127.0.0.1", "", "gpt-5", "gpt-5-2025-08-07", "output", "priced", "provider", 0,
               store.dimensions_text({"team": "support", "workflow": "ticket-triage"}))
        cells.append((key, (1000, 0.05, 0.05, 1, 0)))
    store.add(connection, cells)
    connection.close()
    budgets = tmp_path / "budgets.toml"
    budgets.write_text('[[budget]]\nname = "support-daily"\nscope = "team"\nusd = 1.0\nwindow = "day"\nforecast_over = "1h"\n')
    monkeypatch.setenv("TOKENTRACE_ANOMALY", "min_usd=0.1")
    assert main(["report", "--ledger", str(ledger), "--last", "1d", "--budgets", str(budgets)]) == 0
    out = capsys.readouterr().out
    budget = re.search(r"^support-daily\s+team=support\s+day\s+\$0\.90+\s+\$1\.0+\s+90%\s+(\d[\d,]*)%", out, re.M)
    assert budget, out
    # $0.90 in the last hour (forecast_over), 11 h 40 min of the day left at that rate:
    # 0.90 + 0.90 x 11.67 = $11.40 of $1.00, 1,140 % (the seconds the test takes move it by < 1 %).
    assert 1130 <= int(budget.group(1).replace(",", "")) <= 1145
    assert "Anomalies (spend far above the same hour of previous days)" in out
    # $0.90 this hour against a usual $0.05 at this hour: 18x, mostly from workflow ticket-triage.
    assert re.search(r"team=support\s+\$0\.90+\s+\$0\.050+\s+18\.0x\s+ticket-triage\s+gpt-5", out), out
