"""Attempts a provider may have billed become ``attempt`` ledger rows, apart from counted spend.

A call whose first attempt the server processes but answers after the client's timeout: the SDK
retries, tokentrace records the answer as usual and the lost attempt as ``usage_source=attempt``
with the answer's tokens and cost; ``report`` and ``focus`` leave those rows out.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import openai

from tokentrace.focus.build import focus_rows
from tokentrace.ledger.reader import read_rows
from tokentrace.report.data import build
from tokentrace.testing import ProviderServer, ResponsePlan, openai_usage

USAGE = openai_usage(2006, 300, cached=1024)


def test_a_timed_out_attempt_is_an_attempt_row(instrument: Any, server: ProviderServer, tmp_path: Path) -> None:
    ledger = tmp_path / "spend.sqlite"
    instrument(ledger=str(ledger))
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", timeout=0.3, max_retries=1)
    server.enqueue(ResponsePlan(usage=USAGE, delay_s=0.8), ResponsePlan(usage=USAGE))
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    import tokentrace

    tokentrace.uninstrument()  # writes the ledger
    rows = read_rows(ledger=str(ledger), start=time.time() - 3600, end=time.time() + 3600)
    answered = {r.token_type: r for r in rows if r.usage_source == "provider"}
    attempts = {r.token_type: r for r in rows if r.usage_source == "attempt"}
    assert {t: r.tokens for t, r in attempts.items()} == {"input": 982, "cache_read": 1024, "output": 300}
    assert attempts["input"].calls == 1 and answered["input"].calls == 1
    # 982 * 2.50 + 1024 * 1.25 + 300 * 10 = 6735 micro-USD, for the answer and for the lost attempt
    assert sum(r.effective_cost_usd for r in attempts.values()) == sum(r.effective_cost_usd for r in answered.values() if r.token_type != "reasoning")
    assert abs(sum(r.effective_cost_usd for r in attempts.values()) - 0.006735) < 1e-12
    with_attempts = build(rows, time.time() - 3600, time.time() + 3600)
    without = build([r for r in rows if r.usage_source != "attempt"], time.time() - 3600, time.time() + 3600)
    assert with_attempts.total.cost == without.total.cost and with_attempts.total.tokens == without.total.tokens == 2306
    assert focus_rows(rows) == focus_rows([r for r in rows if r.usage_source != "attempt"])


def test_a_call_that_never_got_an_answer_has_its_prompt_estimated(instrument: Any, server: ProviderServer, tmp_path: Path) -> None:
    import anthropic
    import pytest

    import tokentrace

    ledger = tmp_path / "spend.sqlite"
    instrument(ledger=str(ledger))
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", timeout=0.3, max_retries=1)
    usage = {"input_tokens": 10, "output_tokens": 5}
    server.enqueue(ResponsePlan(usage=usage, delay_s=0.8), ResponsePlan(usage=usage, delay_s=0.8))
    prompt = "Explain the quarterly infrastructure spend in three bullet points. " * 20
    with pytest.raises(anthropic.APITimeoutError):
        client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": prompt}])
    tokentrace.uninstrument()
    rows = read_rows(ledger=str(ledger), start=time.time() - 3600, end=time.time() + 3600)
    failed = [r for r in rows if r.usage_source != "attempt"]
    attempts = [r for r in rows if r.usage_source == "attempt"]
    assert [(r.token_type, r.tokens, r.calls, r.cost_status) for r in failed] == [("input", 0, 1, "no_usage")]
    # both attempts timed out: each may have been billed for the prompt, counted locally, and for
    # at most max_tokens (10) of output
    assert sorted((r.token_type, r.calls) for r in attempts) == [("input", 2), ("output", 0)]
    assert [r.tokens for r in attempts if r.token_type == "output"] == [2 * 10]
    attempts = [r for r in attempts if r.token_type == "input"]
    per_attempt = attempts[0].tokens // 2
    from tokentrace.core.estimate import count_tokens

    assert attempts[0].tokens == 2 * per_attempt and abs(per_attempt - count_tokens(prompt, "claude-sonnet-4-5")[0]) <= 8
    assert attempts[0].effective_cost_usd is None  # an estimate of what may be billed, never a $0 charge


def _rows(ledger: Path) -> list:
    return read_rows(ledger=str(ledger), start=time.time() - 3600, end=time.time() + 3600)


def test_a_stream_closed_early_leaves_max_tokens_possibly_billed(instrument: Any, server: ProviderServer, tmp_path: Path) -> None:
    import tokentrace

    ledger = tmp_path / "spend.sqlite"
    instrument(ledger=str(ledger))
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test")
    text = "The outage began at nine when the primary database ran out of connections."
    for max_tokens in (120, None):
        server.enqueue(ResponsePlan(usage=openai_usage(900, 40), text=text, chunks=6))
        extra = {} if max_tokens is None else {"max_tokens": max_tokens}
        stream = client.chat.completions.create(model="gpt-4o" if max_tokens else "gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True, **extra)
        chunks = iter(stream)
        for _ in range(3):
            next(chunks)
        stream.close()
    tokentrace.flush()
    tokentrace.uninstrument()
    rows = _rows(ledger)
    seen = sum(r.tokens for r in rows if r.model.startswith("gpt-4o-2024") and r.token_type == "output" and r.usage_source == "estimate")
    attempts = [(r.model, r.token_type, r.tokens, r.calls) for r in rows if r.usage_source == "attempt"]
    assert 0 < seen < 120 and attempts == [("gpt-4o-2024-08-06", "output", 120 - seen, 0)]  # without max_tokens: unknown, no row


def test_a_stream_closed_after_its_usage_arrived_is_not_cut(instrument: Any, server: ProviderServer, tmp_path: Path) -> None:
    import anthropic

    import tokentrace

    ledger = tmp_path / "spend.sqlite"
    instrument(ledger=str(ledger))
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test")
    server.enqueue(ResponsePlan(usage={"input_tokens": 100, "output_tokens": 10}, chunks=5, text="one two three four five six"))
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi"}]) as stream:
        for _ in stream.text_stream:
            break  # the rest, usage included, was already received: tokentrace reads it on close
    tokentrace.uninstrument()
    rows = _rows(ledger)
    assert sorted((r.token_type, r.tokens, r.usage_source) for r in rows) == [("input", 100, "provider"), ("output", 10, "provider")]
