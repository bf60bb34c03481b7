"""azure-ai-inference through the real SDK against the local server: chat (sync, async, streams), embeddings.

Costs are hand-computed from the catalog's list prices per 1M tokens of the answering model:
Mistral-Large-2411 (mistral-large-2411) input 2 / output 6; gpt-4o input 2.5 / output 10.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from azure.ai.inference import ChatCompletionsClient, EmbeddingsClient
from azure.ai.inference.aio import ChatCompletionsClient as AsyncChatCompletionsClient
from azure.ai.inference.models import SystemMessage, UserMessage
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from tokentrace.testing import ResponsePlan
from tokentrace.testing.wire.azure_inference import usage_of

KEY = AzureKeyCredential("azure-inference-test-key-0123456789")
MISTRAL_COST = (1000 * 2 + 250 * 6) / 1e6


@pytest.fixture
def client(server: Any) -> ChatCompletionsClient:
    return ChatCompletionsClient(endpoint=server.azure_inference_url, credential=KEY, retry_total=0)


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


def test_complete_with_sdk_message_objects(instrument: Any, server: Any, client: ChatCompletionsClient) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(1000, 250)))
    response = client.complete(messages=[SystemMessage("Be brief."), UserMessage("Is the invoice late?")],
                               model="Mistral-Large-2411", temperature=0.4, max_tokens=300)
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "azure.ai.inference"
    assert attrs["gen_ai.request.model"] == "Mistral-Large-2411"
    assert attrs["gen_ai.response.model"] == "Mistral-Large-2411"
    assert attrs["gen_ai.response.id"] == response.id
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.request.temperature"] == pytest.approx(0.4)
    assert attrs["gen_ai.request.max_tokens"] == 300
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["gen_ai.usage.input_tokens"] == 1000 and attrs["gen_ai.usage.output_tokens"] == 250
    assert attrs["tokentrace.cost.usd"] == pytest.approx(MISTRAL_COST)
    assert server.requests[-1].query.get("api-version")


def test_client_default_model_and_body_dict(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    client = ChatCompletionsClient(endpoint=server.azure_inference_url, credential=KEY, model="gpt-4o", retry_total=0)
    server.enqueue(ResponsePlan(usage=usage_of(1000, 100)))
    client.complete(messages=[UserMessage("hi")])
    server.enqueue(ResponsePlan(usage=usage_of(1000, 100)))
    client.complete({"messages": [{"role": "user", "content": "hi"}], "model": "gpt-4o"})
    spans = telemetry.llm_spans()
    assert [s.attributes["gen_ai.request.model"] for s in spans] == ["gpt-4o", "gpt-4o"]
    assert [s.attributes["tokentrace.cost.usd"] for s in spans] == [pytest.approx((1000 * 2.5 + 100 * 10) / 1e6)] * 2


def test_stream_usage_from_the_last_update(instrument: Any, server: Any, client: ChatCompletionsClient) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(1000, 250), chunks=4))
    with client.complete(messages=[UserMessage("hi")], model="Mistral-Large-2411", stream=True) as stream:
        updates = list(stream)
    assert updates[-1].usage.prompt_tokens == 1000
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["tokentrace.cost.usd"] == pytest.approx(MISTRAL_COST)


def test_async_complete_and_stream(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def run() -> None:
        async with AsyncChatCompletionsClient(endpoint=server.azure_inference_url, credential=KEY, retry_total=0) as client:
            server.enqueue(ResponsePlan(usage=usage_of(1000, 250)))
            await client.complete(messages=[UserMessage("hi")], model="Mistral-Large-2411")
            server.enqueue(ResponsePlan(usage=usage_of(1000, 250)))
            stream = await client.complete(messages=[UserMessage("hi")], model="Mistral-Large-2411", stream=True)
            async with stream:
                async for _ in stream:
                    pass

    asyncio.run(run())
    assert [s.attributes["tokentrace.cost.usd"] for s in telemetry.llm_spans()] == [pytest.approx(MISTRAL_COST)] * 2


def test_async_stream_closed_early_with_aclose_ends_its_span_once(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def run() -> Any:
        async with AsyncChatCompletionsClient(endpoint=server.azure_inference_url, credential=KEY, retry_total=0) as client:
            server.enqueue(ResponsePlan(usage=usage_of(1000, 250), chunks=4))
            stream = await client.complete(messages=[UserMessage("hi")], model="Mistral-Large-2411", stream=True)
            await stream.__anext__()
            await stream.aclose()
            ended_at_close = len(telemetry.llm_spans())  # the stream is still referenced here
            await stream.aclose()  # a second close is the SDK's business, not a second span
            return ended_at_close, hasattr(stream, "close"), stream

    ended_at_close, has_close, _ = asyncio.run(run())
    assert ended_at_close == 1
    assert has_close is False  # the SDK's async stream has no close(): the proxy offers none either
    span = telemetry.only_llm_span()
    assert span.end_time is not None
    assert span.attributes["gen_ai.request.model"] == "Mistral-Large-2411"


def test_embeddings(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    client = EmbeddingsClient(endpoint=server.azure_inference_url, credential=KEY, retry_total=0)
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 80, "total_tokens": 80}))
    result = client.embed(input=["late invoice"], model="embed-v4.0")
    assert len(result.data) == 1
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["tokentrace.cost.usd"] == pytest.approx(80 * 0.12 / 1e6)


def test_error_reaches_the_app(instrument: Any, server: Any, client: ChatCompletionsClient) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=429))
    with pytest.raises(HttpResponseError) as caught:
        client.complete(messages=[UserMessage("hi")], model="Mistral-Large-2411")
    assert caught.value.status_code == 429
    assert _attrs(telemetry.only_llm_span())["error.type"].endswith("HttpResponseError")
