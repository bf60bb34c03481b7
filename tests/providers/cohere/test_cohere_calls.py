"""cohere (v2 API) through the real SDK against the local server: chat, streams, embed, rerank.

Costs are hand-computed on ``billed_units`` (never on ``tokens``, which include Cohere's preamble)
with the catalog's list prices per 1M tokens: command-a-03-2025 input 2.5 / output 10,
command-r-08-2024 0.15 / 0.6, embed-v4.0 0.12.
"""

from __future__ import annotations

import asyncio
from typing import Any

import cohere
import pytest

from tokentrace.testing import ResponsePlan
from tokentrace.testing.wire.cohere import PREAMBLE_TOKENS, usage_of

KEY = "cohere-test-key-0123456789abcdef"
COMMAND_A_COST = (1200 * 2.5 + 300 * 10) / 1e6


@pytest.fixture
def client(server: Any) -> cohere.ClientV2:
    return cohere.ClientV2(api_key=KEY, base_url=server.url, max_retries=0)


@pytest.fixture
def async_client(server: Any) -> cohere.AsyncClientV2:
    return cohere.AsyncClientV2(api_key=KEY, base_url=server.url, max_retries=0)


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


def test_chat_bills_billed_units_not_tokens(instrument: Any, server: Any, client: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(1200, 300, cached=64)))
    response = client.chat(model="command-a-03-2025", messages=[{"role": "user", "content": "Is the invoice late?"}],
                           temperature=0.3, max_tokens=500, p=0.9, k=40, seed=11)
    assert response.usage.tokens.input_tokens == 1200 + PREAMBLE_TOKENS
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "cohere"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "command-a-03-2025"
    assert attrs["gen_ai.response.id"] == response.id
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)  # the conventions' value
    assert attrs["tokentrace.provider.finish_reasons"] == ("COMPLETE",)  # Cohere's own
    assert attrs["gen_ai.request.temperature"] == pytest.approx(0.3)
    assert attrs["gen_ai.request.top_p"] == pytest.approx(0.9)
    assert attrs["gen_ai.request.top_k"] == pytest.approx(40)
    assert attrs["gen_ai.request.max_tokens"] == 500
    assert attrs["gen_ai.request.seed"] == 11
    assert attrs["gen_ai.usage.input_tokens"] == 1200
    assert attrs["gen_ai.usage.output_tokens"] == 300
    assert attrs["cohere.usage.tokens.input_tokens"] == 1200 + PREAMBLE_TOKENS
    assert attrs["cohere.usage.cached_tokens"] == 64
    assert attrs["tokentrace.cost.usd"] == pytest.approx(COMMAND_A_COST)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == 1200


def test_chat_stream_usage_from_message_end(instrument: Any, server: Any, client: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(1200, 300), chunks=4))
    events = list(client.chat_stream(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}]))
    assert events[-1].type == "message-end"
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.input_tokens"] == 1200
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)  # the conventions' value
    assert attrs["tokentrace.provider.finish_reasons"] == ("COMPLETE",)  # Cohere's own
    assert attrs["gen_ai.response.id"] == events[0].id
    assert attrs["tokentrace.cost.usd"] == pytest.approx(COMMAND_A_COST)


def test_async_chat_stream_embed_rerank(instrument: Any, server: Any, async_client: Any) -> None:
    telemetry = instrument()

    async def run() -> None:
        server.enqueue(ResponsePlan(usage=usage_of(1000, 100)))
        await async_client.chat(model="command-r-08-2024", messages=[{"role": "user", "content": "hi"}])
        server.enqueue(ResponsePlan(usage=usage_of(2000, 200)))
        async for _ in async_client.chat_stream(model="command-r-08-2024", messages=[{"role": "user", "content": "hi"}]):
            pass
        server.enqueue(ResponsePlan(usage={"input_tokens": 5000}))
        await async_client.embed(model="embed-v4.0", texts=["a", "b"], input_type="search_document", embedding_types=["float"])
        server.enqueue(ResponsePlan(usage={"search_units": 2}))
        await async_client.rerank(model="rerank-v3.5", query="late invoice", documents=["late invoice", "early"], top_n=1)

    asyncio.run(run())
    spans = sorted(telemetry.llm_spans(), key=lambda s: s.start_time)
    costs = [s.attributes.get("tokentrace.cost.usd") for s in spans]
    assert costs[:3] == [pytest.approx((1000 * 0.15 + 100 * 0.6) / 1e6), pytest.approx((2000 * 0.15 + 200 * 0.6) / 1e6),
                         pytest.approx(5000 * 0.12 / 1e6)]
    rerank = _attrs(spans[3])
    assert rerank["gen_ai.operation.name"] == "rerank"
    assert rerank["cohere.billed_units.search_units"] == 2
    assert "tokentrace.cost.usd" not in rerank and rerank["tokentrace.cost.status"] == "no_usage"


def test_embed_sync(instrument: Any, server: Any, client: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"input_tokens": 40}))
    result = client.embed(model="embed-v4.0", texts=["late invoice"], input_type="search_query", embedding_types=["float"])
    assert result.meta.billed_units.input_tokens == 40
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["gen_ai.embeddings.dimension.count"] == 8
    assert attrs["tokentrace.cost.usd"] == pytest.approx(40 * 0.12 / 1e6)


def test_v1_client_v2_namespace_is_traced_too(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(1200, 300)))
    cohere.Client(api_key=KEY, base_url=server.url).v2.chat(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}])
    assert _attrs(telemetry.only_llm_span())["tokentrace.cost.usd"] == pytest.approx(COMMAND_A_COST)


def test_error_reaches_the_app(instrument: Any, server: Any, client: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=429))
    with pytest.raises(cohere.TooManyRequestsError):
        client.chat(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}])
    assert _attrs(telemetry.only_llm_span())["error.type"].endswith("TooManyRequestsError")


def test_clients_created_before_instrument_are_traced_and_untraced_after(telemetry: Any, server: Any) -> None:
    import tokentrace

    early = cohere.ClientV2(api_key=KEY, base_url=server.url, max_retries=0)
    tokentrace.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
    try:
        early.chat(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}])
        during = cohere.ClientV2(api_key=KEY, base_url=server.url, max_retries=0)
    finally:
        tokentrace.uninstrument()
    during.chat(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}])
    early.chat(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}])
    assert len(telemetry.llm_spans()) == 1


def test_stream_closed_early_ends_its_span_once(instrument: Any, server: Any, client: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(1200, 300), chunks=6))
    stream = client.chat_stream(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}])
    next(stream)
    stream.close()
    span = telemetry.only_llm_span()
    assert span.end_time is not None
    assert "tokentrace.cost.usd" not in span.attributes or span.attributes["gen_ai.usage.input_tokens"]
