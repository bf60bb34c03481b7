"""Spans from the real openai SDK, over HTTP to the local server, carry the hand-computed cost."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from tokentrace.records import semconv as sc
from tokentrace.testing import ResponsePlan

M = 1_000_000


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test-secret-key-123456", max_retries=0)


def _chat(client, model: str = "gpt-4o", **kwargs):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], **kwargs)


def test_cached_and_cache_write_tokens_priced_once(instrument, server, client) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={
        "prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920, "cache_write_tokens": 50},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }))
    _chat(client)
    span = telemetry.only_llm_span()
    # gpt-4o answers as gpt-4o-2024-08-06; writes have no own rate on gpt-4o: input rate.
    expected = (36 * 2.5 + 50 * 2.5 + 1920 * 1.25 + 300 * 10) / M
    assert span.attributes[sc.TT_COST_USD] == pytest.approx(expected, rel=1e-12)
    assert span.attributes[sc.TT_COST_STATUS] == sc.COST_PRICED
    assert span.attributes[sc.TT_COST_MODEL] == "gpt-4o"
    assert telemetry.total(sc.METRIC_TT_COST) == pytest.approx(expected, rel=1e-12)


def test_reasoning_and_priority_tier_from_the_response(instrument, server, client) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(
        usage={"prompt_tokens": 1000, "completion_tokens": 5000, "total_tokens": 6000,
               "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 4500}},
        extra={"service_tier": "priority"},
    ))
    _chat(client, model="gpt-5", service_tier="priority")
    span = telemetry.only_llm_span()
    assert span.attributes[sc.TT_COST_USD] == pytest.approx((1000 * 2.5 + 5000 * 20) / M, rel=1e-12)


def test_long_context_tier_boundary_through_the_sdk(instrument, server, client) -> None:
    telemetry = instrument()
    usage = {"prompt_tokens": 272_001, "completion_tokens": 100, "total_tokens": 272_101}
    server.enqueue(ResponsePlan(usage=usage))
    _chat(client, model="gpt-5.4")
    assert telemetry.only_llm_span().attributes[sc.TT_COST_USD] == pytest.approx((272_001 * 5 + 100 * 22.5) / M, rel=1e-12)


def test_embeddings_cost(instrument, server, client) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 12_345, "total_tokens": 12_345}))
    client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert telemetry.only_llm_span().attributes[sc.TT_COST_USD] == pytest.approx(12_345 * 0.02 / M, rel=1e-12)


def test_override_file_price_on_the_span(instrument, server, client, tmp_path: Path) -> None:
    prices = tmp_path / "negotiated.toml"
    prices.write_text('[[model]]\nmatch = "gpt-4o"\ninput = 2.0\noutput = 8.0\ncached_input = 1.0\n[[discount]]\nprovider = "openai"\npercent = 10\n')
    telemetry = instrument(prices=str(prices))
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100,
                                       "prompt_tokens_details": {"cached_tokens": 400}}))
    _chat(client)
    expected = (600 * 2.0 + 400 * 1.0 + 100 * 8.0) * 0.9 / M
    assert telemetry.only_llm_span().attributes[sc.TT_COST_USD] == pytest.approx(expected, rel=1e-12)


def test_unknown_model_span_and_metrics(instrument, server, client) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(model="in-house-model-7", usage={"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}))
    _chat(client, model="in-house-model-7")
    span = telemetry.only_llm_span()
    assert sc.TT_COST_USD not in span.attributes
    assert span.attributes[sc.TT_COST_STATUS] == sc.COST_UNKNOWN_MODEL
    unpriced = [p for p in telemetry.points(sc.METRIC_TT_CALLS) if p.attributes.get(sc.TT_COST_STATUS) == sc.COST_UNKNOWN_MODEL]
    assert len(unpriced) == 1 and unpriced[0].value == 1
    assert telemetry.points(sc.METRIC_TT_COST) == []
