"""The ledger writer through the real SDKs: every call lands in the file, with hand-computed numbers.

Prices (the built-in catalog, per 1M tokens): gpt-4o-mini input 0.15 / cached 0.075 / output 0.60;
claude-haiku-4-5 input 1 / cache read 0.10 / 5 m write 1.25 / 1 h write 2 / output 5.
"""

from __future__ import annotations

import math
import sqlite3
import time
from pathlib import Path

import pytest

import tokentrace
from tokentrace.budgets import BudgetExceeded
from tokentrace.core.lifecycle import run_flush_hooks
from tokentrace.ledger import LedgerError, read_rows, store
from tokentrace.records import semconv as sc
from tokentrace.testing import ResponsePlan, openai_usage

M = 1_000_000
MESSAGES = [{"role": "user", "content": "Summarise the ticket."}]


def _rows(path: Path):
    return read_rows(ledger=path, start=0, end=time.time() + 3600)


def _by_type(rows):
    found = {}
    for row in rows:
        assert row.token_type not in found, f"two {row.token_type} rows: {rows}"
        found[row.token_type] = row
    return found


def test_openai_calls_are_summed_per_token_type_with_attribution(instrument, server, client, ledger_path) -> None:
    telemetry = instrument(ledger=str(ledger_path))
    server.enqueue(*(ResponsePlan(usage=openai_usage(1000, 200, cached=400)) for _ in range(3)))
    with tokentrace.attribute(team="support", feature="triage", env="prod"):
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert run_flush_hooks(5)
    rows = _rows(ledger_path)
    by_type = _by_type(rows)
    assert set(by_type) == {"input", "cache_read", "output"}
    assert (by_type["input"].tokens, by_type["cache_read"].tokens, by_type["output"].tokens) == (1800, 1200, 600)
    assert by_type["input"].effective_cost_usd == pytest.approx(1800 * 0.15 / M, rel=1e-9)
    assert by_type["cache_read"].effective_cost_usd == pytest.approx(1200 * 0.075 / M, rel=1e-9)
    assert by_type["output"].effective_cost_usd == pytest.approx(600 * 0.60 / M, rel=1e-9)
    # no discounts or overrides: list == effective
    for row in rows:
        assert row.list_cost_usd == pytest.approx(row.effective_cost_usd, rel=1e-12)
    # calls counted once per call, on the input row
    assert [by_type[t].calls for t in ("input", "cache_read", "output")] == [3, 0, 0]
    row = by_type["input"]
    assert row.provider == "openai" and row.request_model == "gpt-4o-mini"
    assert row.server_address == "127.0.0.1"
    assert row.cost_status == sc.COST_PRICED and row.usage_source == "provider" and row.rerouted is False
    assert row.dimensions == {"team": "support", "feature": "triage", "tag.env": "prod"}
    assert row.period_end - row.period_start == 60 and row.period_start % 60 == 0
    spans_total = math.fsum(s.attributes[sc.TT_COST_USD] for s in telemetry.llm_spans())
    assert math.fsum(r.effective_cost_usd for r in rows) == pytest.approx(spans_total, abs=1e-12)


def test_reasoning_is_reported_inside_output_and_not_charged_twice(instrument, server, client, ledger_path) -> None:
    telemetry = instrument(ledger=str(ledger_path))
    server.enqueue(ResponsePlan(usage=openai_usage(1000, 5000, reasoning=4500)))
    client.chat.completions.create(model="gpt-5", messages=MESSAGES)
    tokentrace.uninstrument()  # closing writes what is pending
    by_type = _by_type(_rows(ledger_path))
    assert by_type["output"].tokens == 5000 and by_type["reasoning"].tokens == 4500
    assert by_type["reasoning"].effective_cost_usd == 0.0
    total = math.fsum(r.effective_cost_usd for r in by_type.values())
    assert total == pytest.approx((1000 * 1.25 + 5000 * 10) / M, rel=1e-9)
    assert total == pytest.approx(telemetry.only_llm_span().attributes[sc.TT_COST_USD], abs=1e-15)


def test_anthropic_cache_writes_5m_and_1h_and_a_discount(instrument, server, claude, ledger_path, tmp_path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[[discount]]\nmodel = "claude-haiku-*"\npercent = 10\n')
    instrument(ledger=str(ledger_path), prices=str(prices))
    server.enqueue(ResponsePlan(usage={
        "input_tokens": 120,
        "cache_creation_input_tokens": 2500,
        "cache_read_input_tokens": 40000,
        "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 2000},
        "output_tokens": 800,
    }))
    claude.messages.create(model="claude-haiku-4-5", max_tokens=900, messages=MESSAGES)
    assert run_flush_hooks(5)
    by_type = _by_type(_rows(ledger_path))
    expected_list = {"input": 120 * 1.0, "cache_read": 40000 * 0.10, "cache_write_5m": 500 * 1.25, "cache_write_1h": 2000 * 2.0, "output": 800 * 5.0}
    assert {t: r.tokens for t, r in by_type.items()} == {"input": 120, "cache_read": 40000, "cache_write_5m": 500, "cache_write_1h": 2000, "output": 800}
    for token_type, micro in expected_list.items():
        assert by_type[token_type].list_cost_usd == pytest.approx(micro / M, rel=1e-9), token_type
        assert by_type[token_type].effective_cost_usd == pytest.approx(micro * 0.9 / M, rel=1e-9), token_type
    assert by_type["input"].provider == "anthropic"


def test_a_negotiated_price_is_effective_and_the_catalog_price_is_list(instrument, server, client, ledger_path, tmp_path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[[model]]\nmatch = "gpt-4o-mini*"\ninput = 0.10\noutput = 0.40\n')
    instrument(ledger=str(ledger_path), prices=str(prices))
    server.enqueue(ResponsePlan(usage=openai_usage(1000, 500)))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert run_flush_hooks(5)
    by_type = _by_type(_rows(ledger_path))
    assert by_type["input"].list_cost_usd == pytest.approx(1000 * 0.15 / M) and by_type["input"].effective_cost_usd == pytest.approx(1000 * 0.10 / M)
    assert by_type["output"].list_cost_usd == pytest.approx(500 * 0.60 / M) and by_type["output"].effective_cost_usd == pytest.approx(500 * 0.40 / M)


def test_unknown_model_has_no_cost_and_says_why(instrument, server, client, ledger_path) -> None:
    instrument(ledger=str(ledger_path))
    server.enqueue(ResponsePlan(usage=openai_usage(3000, 400)))
    client.chat.completions.create(model="acme-llama-70b-selfhosted", messages=MESSAGES)
    assert run_flush_hooks(5)
    rows = _rows(ledger_path)
    assert {r.token_type for r in rows} == {"input", "output"}
    for row in rows:
        assert row.effective_cost_usd is None and row.list_cost_usd is None
        assert row.cost_status == sc.COST_UNKNOWN_MODEL


def test_failed_and_budget_blocked_calls_are_counted(instrument, server, client, ledger_path) -> None:
    import openai

    instrument(ledger=str(ledger_path))
    server.enqueue(ResponsePlan(status=429), ResponsePlan(usage=openai_usage(1000, 500)))
    with tokentrace.budget(usd=0.00045):
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        with pytest.raises(BudgetExceeded):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert run_flush_hooks(5)
    rows = [r for r in _rows(ledger_path) if r.token_type == "input"]
    assert sum(r.calls for r in rows) == 3
    assert sum(r.blocked_calls for r in rows) == 1
    unbilled = [r for r in rows if r.cost_status == sc.COST_NO_USAGE]
    assert sum(r.calls for r in unbilled) == 2 and all(r.tokens == 0 and r.effective_cost_usd is None for r in unbilled)


def test_rows_outside_the_period_are_left_out(instrument, server, client, ledger_path) -> None:
    instrument(ledger=str(ledger_path), ledger_bucket=3600)
    server.enqueue(ResponsePlan(usage=openai_usage(10, 5)))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert run_flush_hooks(5)
    (row,) = [r for r in _rows(ledger_path) if r.token_type == "input"]
    assert row.period_end - row.period_start == 3600
    assert read_rows(ledger=ledger_path, start=row.period_end, end=row.period_end + 86400) == []
    assert read_rows(ledger=ledger_path, start=row.period_start, end=row.period_start + 1) != []


def test_ledger_errors_are_in_words(tmp_path) -> None:
    with pytest.raises(LedgerError, match="no ledger file at"):
        read_rows(ledger=tmp_path / "missing.sqlite", start=0, end=1)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(LedgerError, match="not a tokentrace ledger"):
        read_rows(ledger=other, start=0, end=1)
    newer = tmp_path / "newer.sqlite"
    store.connect(newer).execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(LedgerError, match="newer than this tokentrace"):
        read_rows(ledger=newer, start=0, end=1)
    with pytest.raises(ValueError, match="exactly one source"):
        read_rows(start=0, end=1)


def test_an_unwritable_ledger_never_reaches_the_app(instrument, server, client, tmp_path, caplog) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    instrument(ledger=str(blocker / "ledger.sqlite"))
    server.enqueue(ResponsePlan(usage=openai_usage(10, 5)))
    response = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert response.usage.prompt_tokens == 10
    assert run_flush_hooks(5) is False
    assert "writing the ledger file" in caplog.text


def test_an_unreachable_prometheus_is_explained() -> None:
    from tokentrace.ledger.prometheus import PrometheusError

    with pytest.raises(PrometheusError, match="cannot read the Prometheus API at http://127.0.0.1:9"):
        read_rows(prometheus="http://127.0.0.1:9", start=0, end=3600)
