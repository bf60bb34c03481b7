"""groq through the real SDK against the local server: chat (sync, async, streams, raw responses), embeddings.

Costs hand-computed from the catalog's Groq list prices per 1M tokens: llama-3.3-70b-versatile
input 0.59 / output 0.79; openai/gpt-oss-120b input 0.15 / cached 0.075 / output 0.6.
"""

from __future__ import annotations

import asyncio
from typing import Any

import groq
import pytest

from tokentrace.testing import ResponsePlan
from tokentrace.testing.wire.groq import usage_of

KEY = "gsk_test0groq0secret0key0123456789"
LLAMA_COST = (1000 * 0.59 + 500 * 0.79) / 1e6
MESSAGES = [{"role": "user", "content": "Is the invoice late?"}]


@pytest.fixture
def client(server: Any) -> groq.Groq:
    return groq.Groq(api_key=KEY, base_url=server.groq_url, max_retries=0)


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


def test_chat(instrument: Any, server: Any, client: groq.Groq) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(1000, 500)))
    response = client.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES, temperature=0.1, max_tokens=600)
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "groq"
    assert attrs["gen_ai.request.model"] == "llama-3.3-70b-versatile"
    assert attrs["gen_ai.response.id"] == response.id
    assert attrs["gen_ai.request.max_tokens"] == 600
    assert attrs["gen_ai.usage.input_tokens"] == 1000 and attrs["gen_ai.usage.output_tokens"] == 500
    assert attrs["groq.usage.queue_time"] == pytest.approx(0.0374)
    assert attrs["groq.request_id"] == response.x_groq.id
    assert attrs["tokentrace.cost.usd"] == pytest.approx(LLAMA_COST)


def test_stream_usage_from_x_groq(instrument: Any, server: Any, client: groq.Groq) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(1000, 500), chunks=4))
    with client.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES, stream=True) as stream:
        chunks = list(stream)
    assert chunks[-1].x_groq.usage.prompt_tokens == 1000
    assert "stream_options" not in server.requests[-1].json  # nothing asked on the app's behalf
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.input_tokens"] == 1000
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["tokentrace.cost.usd"] == pytest.approx(LLAMA_COST)


def test_stream_with_include_usage_and_cache(instrument: Any, server: Any, client: groq.Groq) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(4000, 100, cached=3000)))
    chunks = list(client.chat.completions.create(model="openai/gpt-oss-120b", messages=MESSAGES, stream=True,
                                                 extra_body={"stream_options": {"include_usage": True}}))
    assert chunks[-1].choices == []  # the app asked for the usage chunk and gets it
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 3000
    assert attrs["tokentrace.cost.usd"] == pytest.approx((1000 * 0.15 + 3000 * 0.075 + 100 * 0.6) / 1e6)


def test_async_and_raw_responses(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def run() -> None:
        client = groq.AsyncGroq(api_key=KEY, base_url=server.groq_url, max_retries=0)
        server.enqueue(ResponsePlan(usage=usage_of(1000, 500)))
        await client.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES)
        server.enqueue(ResponsePlan(usage=usage_of(1000, 500)))
        stream = await client.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES, stream=True)
        async for _ in stream:
            pass
        server.enqueue(ResponsePlan(usage=usage_of(1000, 500)))
        raw = await client.chat.completions.with_raw_response.create(model="llama-3.3-70b-versatile", messages=MESSAGES)
        await raw.parse()

    asyncio.run(run())
    spans = telemetry.llm_spans()
    assert [s.attributes["tokentrace.cost.usd"] for s in spans] == [pytest.approx(LLAMA_COST)] * 3


def test_sync_raw_and_streaming_response(instrument: Any, server: Any, client: groq.Groq) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(1000, 500)))
    raw = client.chat.completions.with_raw_response.create(model="llama-3.3-70b-versatile", messages=MESSAGES)
    assert raw.parse().usage.prompt_tokens == 1000
    server.enqueue(ResponsePlan(usage=usage_of(1000, 500)))
    with client.chat.completions.with_streaming_response.create(model="llama-3.3-70b-versatile", messages=MESSAGES, stream=True) as response:
        for _ in response.parse():
            pass
    spans = telemetry.llm_spans()
    assert [s.attributes["tokentrace.cost.usd"] for s in spans] == [pytest.approx(LLAMA_COST)] * 2


def test_embeddings_and_untraced_endpoints(instrument: Any, server: Any, client: groq.Groq) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 30, "total_tokens": 30}))
    client.embeddings.create(model="nomic-embed-text-v1_5", input=["late invoice"])
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["gen_ai.usage.input_tokens"] == 30
    assert attrs["tokentrace.cost.status"] == "unknown_model"  # no Groq embedding price: no cost, never $0
    assert "tokentrace.cost.usd" not in attrs


def test_rate_limit_reaches_the_app(instrument: Any, server: Any, client: groq.Groq) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=429))
    with pytest.raises(groq.RateLimitError):
        client.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES)
    assert _attrs(telemetry.only_llm_span())["error.type"] == "groq.RateLimitError"


def test_raw_parse_failure_ends_the_call_as_failed(instrument: Any, server: Any, client: groq.Groq) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(body=b"{not json"))
    raw = client.chat.completions.with_raw_response.create(model="llama-3.3-70b-versatile", messages=MESSAGES)
    with pytest.raises(ValueError):  # the SDK's json.loads of the body
        raw.parse()
    span = telemetry.only_llm_span()
    assert span.end_time is not None and "error.type" in span.attributes
