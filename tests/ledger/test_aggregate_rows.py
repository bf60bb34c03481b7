"""Summed reads (`aggregate_rows`): the sums report and focus read instead of a million ledger rows.

Two kinds of ledger: one recorded through the real SDKs (the FinOps workload of the shared
fixtures), and one written with the writer's own upsert (``store.add``) at hand-picked moments
around day and hour edges, whose sums are computed by hand below.
"""

from __future__ import annotations

import csv
import io
import math
import time
from datetime import datetime, timezone

import pytest

from tokentrace.budgets.anomaly import AnomalySettings
from tokentrace.core.config import Config
from tokentrace.focus import export, focus_rows, iter_focus_rows, write
from tokentrace.ledger import store
from tokentrace.ledger.aggregate import aggregate
from tokentrace.ledger.reader import aggregate_rows, read_rows
from tokentrace.pricing import load_catalog
from tokentrace.report import build, report
from tokentrace.report.outlook import anomalies

DEC = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()
DAY, HOUR = 86400, 3600


def cell(at, token_type, tokens, usd, *, team="search", model="gpt-4o-mini", calls=0, status="priced", dims=None, workflow=""):
    dimensions = dims if dims is not None else {"team": team, "feature": f"{team}-chat", **({"workflow": workflow} if workflow else {})}
    key = (at, at + 60, "openai", "api.openai.com", "", model, model, token_type, status, "provider", 0, store.dimensions_text(dimensions))
    return key, (tokens, usd, None if usd is None else usd * 0.9, calls, 0)


@pytest.fixture
def edges(tmp_path):
    """Minutes either side of midnight and of an hour, an unpriced model, and a tag the readers may drop."""
    path = tmp_path / "edges.sqlite"
    connection = store.connect(path)
    store.add(connection, [
        cell(DEC - 60, "input", 1000, 0.001, calls=2),                       # Nov 30, 23:59
        cell(DEC, "input", 2000, 0.002, calls=1),                            # Dec 1, 00:00
        cell(DEC + 59 * 60, "input", 4000, 0.004, calls=3),                  # Dec 1, 00:59
        cell(DEC + 60 * 60, "output", 500, 0.003),                           # Dec 1, 01:00
        cell(DEC + 120, "input", 8000, None, model="acme-70b", status="unknown_model", calls=1),
        cell(DEC + 180, "input", 16000, None, model="acme-70b", status="unknown_model", calls=1),
        cell(DEC + 240, "input", 100, 0.0001, calls=1, dims={"team": "search", "feature": "search-chat", "tag.env": "prod"}),
    ])
    store.add(connection, [cell(DEC, "input", 2000, 0.002, calls=1)])  # a second writer adds to the 00:00 row
    connection.close()
    return path


def test_day_rows_sum_exactly_what_the_minutes_hold(edges) -> None:
    rows = list(aggregate_rows(ledger=edges, start=DEC - DAY, end=DEC + DAY))
    days = [r.period_start // DAY for r in rows]
    assert days == sorted(days)  # bucket order, ready to stream
    by = {(r.period_start // DAY, r.model, r.token_type, r.dimensions.get("tag.env")): r for r in rows}
    nov = by[(DEC // DAY - 1, "gpt-4o-mini", "input", None)]
    assert (nov.tokens, nov.calls, nov.period_start, nov.period_end) == (1000, 2, DEC - 60, DEC)
    dec = by[(DEC // DAY, "gpt-4o-mini", "input", None)]
    assert dec.tokens == 2000 + 2000 + 4000 and dec.calls == 1 + 1 + 3
    assert dec.list_cost_usd == pytest.approx(0.002 + 0.002 + 0.004) and dec.effective_cost_usd == pytest.approx(0.9 * 0.008)
    assert (dec.period_start, dec.period_end) == (DEC, DEC + 59 * 60 + 60)  # the edges of what was summed
    unpriced = by[(DEC // DAY, "acme-70b", "input", None)]
    assert (unpriced.tokens, unpriced.calls, unpriced.list_cost_usd, unpriced.effective_cost_usd) == (24000, 2, None, None)
    assert unpriced.cost_status == "unknown_model" and unpriced.server_address == "api.openai.com" and unpriced.rerouted is False
    assert by[(DEC // DAY, "gpt-4o-mini", "input", "prod")].tokens == 100  # other dimensions: another row
    # Python's sum of the same rows gives the same rows (Prometheus and vendor rows go that way).
    assert sorted(_flat(aggregate(read_rows(ledger=edges, start=DEC - DAY, end=DEC + DAY)))) == sorted(_flat(rows))


def test_hour_rows_with_fewer_columns_and_keys(edges) -> None:
    rows = list(aggregate_rows(ledger=edges, start=DEC, end=DEC + DAY, granularity=HOUR, by=("model",), dimensions=("team",)))
    got = {(int((r.period_start - DEC) // HOUR), r.model): (r.tokens, r.calls, r.dimensions) for r in rows}
    assert got == {
        (0, "gpt-4o-mini"): (2000 + 2000 + 4000 + 100, 1 + 1 + 3 + 1, {"team": "search"}),  # tag.env merged away
        (0, "acme-70b"): (24000, 2, {"team": "search"}),
        (1, "gpt-4o-mini"): (500, 0, {"team": "search"}),
    }
    assert all(r.token_type == "" and r.cost_status is None and r.rerouted is None for r in rows)
    # a period starting inside a bucket: the bucket's row starts where the period does
    (late,) = [r for r in aggregate_rows(ledger=edges, start=DEC + 59 * 60, end=DEC + HOUR, granularity=HOUR)]
    assert (late.period_start, late.tokens) == (DEC + 59 * 60, 4000)


def test_bad_arguments_and_empty_ledgers(edges, tmp_path) -> None:
    with pytest.raises(ValueError, match="divide a day"):
        list(aggregate_rows(ledger=edges, start=DEC, end=DEC + DAY, granularity=7 * DAY))
    with pytest.raises(ValueError, match="unknown column"):
        list(aggregate_rows(ledger=edges, start=DEC, end=DEC + DAY, by=("team",)))
    with pytest.raises(ValueError, match="exactly one source"):
        aggregate_rows(start=DEC, end=DEC + DAY)
    empty = tmp_path / "empty.sqlite"
    store.connect(empty).close()
    assert list(aggregate_rows(ledger=empty, start=0, end=time.time())) == []
    assert list(aggregate_rows(ledger=edges, start=DEC + 2 * DAY, end=DEC + 3 * DAY)) == []


def test_report_from_summed_rows_equals_the_report_from_every_row(recorded) -> None:
    ledger, spans_usd = recorded
    prices = load_catalog(Config())
    end = time.time() + 3600
    start = end - 2 * DAY
    raw = build(read_rows(ledger=ledger, start=start, end=end), start, end, previous=[], prices=prices)
    summed = report(ledger=str(ledger), start=start, end=end, prices=prices, budgets=[], anomaly=False)
    assert summed.total.cost == pytest.approx(spans_usd, abs=1e-9) == pytest.approx(raw.total.cost, abs=1e-12)
    assert (summed.total.tokens, summed.total.calls) == (raw.total.tokens, raw.total.calls)
    for dimension, lines in raw.by.items():
        assert [(g.key, g.tokens, g.calls) for g in summed.by[dimension]] == [(g.key, g.tokens, g.calls) for g in lines]
        assert [g.cost for g in summed.by[dimension]] == pytest.approx([g.cost for g in lines], abs=1e-12)
    assert summed.cache_savings == pytest.approx(raw.cache_savings, abs=1e-12) and raw.cache_savings > 0
    assert [(r.requested, r.answered, r.calls) for r in summed.reroutes] == [(r.requested, r.answered, r.calls) for r in raw.reroutes]
    assert [r.cost_as_requested for r in summed.reroutes] == pytest.approx([r.cost_as_requested for r in raw.reroutes])
    assert [(u.model, u.status, u.calls, u.tokens) for u in summed.unpriced] == [(u.model, u.status, u.calls, u.tokens) for u in raw.unpriced]
    assert summed.tokens_by_type == raw.tokens_by_type and summed.cache_hit_ratio == raw.cache_hit_ratio


def test_anomalies_from_hour_rows_equal_those_from_every_row(tmp_path) -> None:
    """$0.50 every hour for 8 days, then one hour of $6 (two workflows, $4 + $2): the same anomaly either way."""
    path = tmp_path / "anomaly.sqlite"
    connection = store.connect(path)
    start = DEC + 8 * DAY
    cells = [cell(DEC + h * HOUR + 600, "output", 1000, 0.5 / 0.9) for h in range(8 * 24 + 24)]
    cells += [cell(start + 5 * HOUR + 60, "output", 1000, 4 / 0.9, workflow="nightly-digest"), cell(start + 5 * HOUR + 120, "output", 1000, 2 / 0.9, workflow="chat")]
    store.add(connection, cells)
    connection.close()
    settings = AnomalySettings()
    expected = anomalies(read_rows(ledger=path, start=DEC, end=start + DAY), start, start + DAY, settings)
    found = report(ledger=str(path), start=start, end=start + DAY, budgets=[], anomaly=True).anomalies
    assert [(a.dimension, a.value, a.hour_start, a.top_workflow, a.top_model) for a in found] == [
        (a.dimension, a.value, a.hour_start, a.top_workflow, a.top_model) for a in expected
    ]
    team = [a for a in found if a.dimension == "team"][0]
    assert team.value == "search" and team.top_workflow == "nightly-digest"
    assert team.spent_usd == pytest.approx(0.5 + 6.0) and team.baseline_usd == pytest.approx(0.5)


def test_focus_export_streams_the_same_file_as_focus_rows(recorded, edges, tmp_path) -> None:
    for ledger in (recorded[0], edges):
        end = time.time() + 3600 if ledger != edges else DEC + DAY
        start = end - 3 * DAY
        streamed = tmp_path / "streamed.csv"
        written = export(streamed, ledger=str(ledger), start=start, end=end)
        listed = tmp_path / "listed.csv"
        records = focus_rows(read_rows(ledger=ledger, start=start, end=end))
        write(records, listed)
        assert streamed.read_text() == listed.read_text()
        assert written.rows == len(records) > 0
        assert written.unpriced_rows == sum(1 for r in records if r["x_CostStatus"] not in ("priced", "provider_reported"))
    parsed = list(csv.DictReader(io.StringIO(streamed.read_text())))
    assert {r["ChargePeriodStart"] for r in parsed} == {"2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"}
    assert math.fsum(float(r["ListCost"]) for r in parsed) == pytest.approx(0.001 + 0.004 + 0.004 + 0.003 + 0.0001)


def test_streaming_focus_rows_need_day_order(edges) -> None:
    rows = read_rows(ledger=edges, start=DEC - DAY, end=DEC + DAY)
    backwards = sorted(rows, key=lambda r: -r.period_start)
    with pytest.raises(ValueError, match="day order"):
        list(iter_focus_rows(backwards))
    assert focus_rows(backwards) == list(iter_focus_rows(sorted(rows, key=lambda r: r.period_start)))


def _flat(rows):
    return [
        (r.period_start, r.period_end, r.provider, r.model, r.token_type, r.tokens, round(r.list_cost_usd or -1, 12), r.calls,
         r.cost_status, r.request_model, tuple(sorted(r.dimensions.items())))
        for r in rows
    ]


def test_budget_forecasts_from_summed_rows_equal_those_from_every_row(tmp_path) -> None:
    """Minutes either side of a day budget's window start and of its 90-minute trailing start, and a
    month budget whose 3-day trailing start falls before its window: the same use and forecast."""
    from tokentrace.budgets.spec import load_specs
    from tokentrace.report.outlook import budget_outlook

    OCT = datetime(2026, 10, 1, tzinfo=timezone.utc).timestamp()  # a past month: the report stops at the clock
    path = tmp_path / "budgets.sqlite"
    connection = store.connect(path)
    at = OCT + 2 * DAY + 10 * HOUR + 30 * 60  # Oct 3, 10:30: the report's end, in the past
    cells = []
    for minute in (-95, -91, -90, -89, -30, -1):  # around the trailing start (09:00)
        cells.append(cell(at + minute * 60, "output", 1000, 0.05, calls=1))
    for moment in (OCT + 2 * DAY - 60, OCT + 2 * DAY, OCT + 2 * DAY + 60, OCT + 5 * 60, OCT - 60):  # around midnight, the month's start
        cells.append(cell(moment, "input", 2000, 0.02, calls=1))
        cells.append(cell(moment, "input", 500, 0.01, team="ads", calls=1))
    cells.append(cell(at + 60, "output", 1000, 9.0))  # after the end: in no window
    store.add(connection, cells)
    connection.close()
    budgets = [
        {"name": "day", "scope": "team", "usd": 1.0, "window": "day", "forecast_over": "90m"},
        {"name": "month", "scope": "team", "usd": 10.0, "tokens": 20000, "window": "month", "forecast_over": "3d"},
        {"name": "all", "scope": "global", "usd": 5.0, "window": "day"},
    ]
    found = report(ledger=str(path), start=at - DAY, end=at, budgets=budgets, anomaly=False).budgets
    expected = budget_outlook(load_specs(budgets), read_rows(ledger=path, start=OCT - DAY, end=at + DAY), at)
    assert len(found) == len(expected) == 5  # day: search; month: search, ads; all: *, ... per scope value with spend
    fields = ("budget", "scope_value", "spent_tokens", "window_start", "exhausted_at")
    assert [tuple(getattr(o, f) for f in fields) for o in found] == [tuple(getattr(o, f) for f in fields) for o in expected]
    for got, want in zip(found, expected, strict=True):
        assert got.spent_usd == pytest.approx(want.spent_usd, abs=1e-12)
        assert got.utilization == pytest.approx(want.utilization, abs=1e-12)
        assert (got.forecast_utilization is None) == (want.forecast_utilization is None)
        if want.forecast_utilization is not None:
            assert got.forecast_utilization == pytest.approx(want.forecast_utilization, rel=1e-12)
    day = next(o for o in found if o.budget == "day")
    # that day (Oct 3) for search: 2 inputs at 00:00 and 00:01 ($0.02 list each, effective 0.9x) and six outputs
    assert day.spent_usd == pytest.approx(0.9 * (2 * 0.02 + 6 * 0.05))
