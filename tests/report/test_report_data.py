"""The report's numbers from hand-made spend rows, checked against hand calculations.

Built-in list prices per 1M tokens: gpt-4o-mini input 0.15 / cached 0.075 / output 0.60;
gpt-5 input 1.25 / cached 0.125 / output 10; gpt-5-mini input 0.25 / cached 0.025 / output 2.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tokentrace.core.config import Config
from tokentrace.ledger import SpendRow
from tokentrace.pricing import load_catalog
from tokentrace.report import build, render_text

M = 1_000_000
START = datetime(2026, 11, 23, tzinfo=timezone.utc).timestamp()
END = START + 7 * 86400


def row(token_type, tokens, rate, *, team="support", model="gpt-4o-mini", day=0, calls=0, **kw) -> SpendRow:
    cost = tokens * rate / M
    fields = dict(
        period_start=START + day * 86400, period_end=START + day * 86400 + 60, provider="openai", model=model,
        request_model=model, token_type=token_type, tokens=tokens, list_cost_usd=cost, effective_cost_usd=cost,
        cost_status="priced", usage_source="provider", rerouted=False, calls=calls, dimensions={"team": team, "feature": "f-" + team},
    )
    fields.update(kw)
    return SpendRow(**fields)


@pytest.fixture(scope="module")
def prices():
    return load_catalog(Config())


def test_spend_by_team_model_and_day(prices) -> None:
    rows = [
        row("input", 1000, 0.15, calls=2),
        row("output", 500, 0.60),
        row("input", 2000, 0.15, team="search", day=1, calls=1),
        row("output", 100, 0.60, team="search", day=1),
    ]
    data = build(rows, START, END, previous=[], prices=prices)
    assert data.total.cost == pytest.approx((3000 * 0.15 + 600 * 0.60) / M)
    assert data.total.calls == 3 and data.total.tokens == 3600
    teams = {g.key: g for g in data.by["team"]}
    assert teams["support"].cost == pytest.approx((1000 * 0.15 + 500 * 0.6) / M)
    assert teams["search"].cost == pytest.approx((2000 * 0.15 + 100 * 0.6) / M)
    assert [g.key for g in data.by["team"]] == ["support", "search"]  # biggest first
    assert [g.key for g in data.by["day"]] == ["2026-11-23", "2026-11-24"]
    text = render_text(data)
    assert "By team" in text and "support" in text and "$0.000450" in text


def test_movers_against_the_previous_period(prices) -> None:
    now = [row("input", 10_000, 0.15, team="search", calls=1), row("input", 1000, 0.15, calls=1)]
    before = [row("input", 4000, 0.15, calls=1, day=-7)]
    data = build(now, START, END, previous=before, prices=prices)
    movers = {(m.dimension, m.key): m for m in data.movers}
    assert movers[("team", "search")].change == pytest.approx(10_000 * 0.15 / M)
    assert movers[("team", "support")].change == pytest.approx(-3000 * 0.15 / M)
    assert data.previous_total == pytest.approx(4000 * 0.15 / M)
    assert data.movers[0].key in ("search", "f-search", "gpt-4o-mini", "openai")


def test_cache_hit_ratio_and_savings(prices) -> None:
    rows = [row("input", 1000, 0.15, calls=1), row("cache_read", 3000, 0.075), row("output", 100, 0.60)]
    data = build(rows, START, END, prices=prices)
    assert data.cache_hit_ratio == pytest.approx(3000 / 4000)
    # the 3,000 cached tokens would have cost 0.15 instead of 0.075 per 1M
    assert data.cache_savings == pytest.approx(3000 * (0.15 - 0.075) / M)


def test_reroutes_unpriced_estimated_and_blocked(prices) -> None:
    rows = [
        row("input", 16_000, 0.25, model="gpt-5-mini-2025-08-07", request_model="gpt-5", rerouted=True, calls=1),
        row("cache_read", 32_000, 0.025, model="gpt-5-mini-2025-08-07", request_model="gpt-5", rerouted=True),
        row("output", 900, 2.0, model="gpt-5-mini-2025-08-07", request_model="gpt-5", rerouted=True),
        row("input", 3000, 0.0, model="acme-llama", calls=1, list_cost_usd=None, effective_cost_usd=None, cost_status="unknown_model"),
        row("input", 50, 0.15, calls=1, usage_source="estimate"),
        row("input", 0, 0.0, calls=1, blocked_calls=1, team="search", list_cost_usd=None, effective_cost_usd=None, cost_status="no_usage"),
    ]
    data = build(rows, START, END, prices=prices)
    (reroute,) = data.reroutes
    assert (reroute.requested, reroute.answered, reroute.calls) == ("gpt-5", "gpt-5-mini-2025-08-07", 1)
    assert reroute.cost == pytest.approx((16_000 * 0.25 + 32_000 * 0.025 + 900 * 2) / M)
    assert reroute.cost_as_requested == pytest.approx((16_000 * 1.25 + 32_000 * 0.125 + 900 * 10) / M)
    (unpriced,) = data.unpriced
    assert (unpriced.model, unpriced.status, unpriced.calls, unpriced.tokens) == ("acme-llama", "unknown_model", 1, 3000)
    assert (data.estimated_calls, data.estimated_tokens) == (1, 50)
    assert [(b.key, b.calls) for b in data.blocked] == [("search", 1)]
    text = render_text(data)
    assert "gpt-5 -> gpt-5-mini-2025-08-07" in text and "unknown_model" in text and "blocked calls" in text
    assert "unpriced" in text


def test_an_empty_period_says_so(prices) -> None:
    assert "No spend recorded in this period." in render_text(build([], START, END, previous=[], prices=prices))
