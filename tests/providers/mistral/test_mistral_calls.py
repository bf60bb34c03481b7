"""mistralai through the real SDK against the local server: chat, FIM, embeddings, sync, async, streams.

Expected costs are hand-computed from the catalog's list prices per 1M tokens (mistral-small-2603
input 0.15, cached 0.015, output 0.6; codestral-2501 0.3 / 0.9; mistral-embed 0.1) and Mistral's
usage semantics (prompt_tokens include prompt_tokens_details.cached_tokens).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from mistralai.client import Mistral, errors as mistral_errors

from tokentrace.testing import ResponsePlan
from tokentrace.testing.wire.mistral import usage_of

KEY = "mistral-test-key-0123456789abcdef"
SMALL_COST = (1000 * 0.15 + 4000 * 0.015 + 200 * 0.6) / 1e6  # 1,000 uncached + 4,000 cached in, 200 out


@pytest.fixture
def client(server: Any) -> Mistral:
    return Mistral(api_key=KEY, server_url=server.mistral_url)


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


def test_chat_complete_with_cached_tokens(instrument: Any, server: Any, client: Mistral) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(5000, 200, cached=4000)))
    response = client.chat.complete(model="mistral-small-2603", messages=[{"role": "user", "content": "Is the invoice late?"}],
                                    temperature=0.2, max_tokens=300, random_seed=7)
    assert response.usage.prompt_tokens == 5000
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "mistral_ai"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "mistral-small-2603"
    assert attrs["gen_ai.response.model"] == "mistral-small-2603"
    assert attrs["gen_ai.response.id"] == response.id
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.request.temperature"] == pytest.approx(0.2)
    assert attrs["gen_ai.request.max_tokens"] == 300
    assert attrs["gen_ai.request.seed"] == 7
    assert attrs["server.address"] == "127.0.0.1" and attrs["server.port"] == server.port
    assert attrs["gen_ai.usage.input_tokens"] == 5000
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 4000
    assert attrs["gen_ai.usage.output_tokens"] == 200
    assert attrs["tokentrace.cost.usd"] == pytest.approx(SMALL_COST)
    assert telemetry.total("tokentrace.cost") == pytest.approx(SMALL_COST)
    assert server.requests[-1].path == "/mistral/v1/chat/completions"


def test_chat_stream_usage_from_the_last_chunk(instrument: Any, server: Any, client: Mistral) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(5000, 200, cached=4000), chunks=4))
    with client.chat.stream(model="mistral-small-2603", messages=[{"role": "user", "content": "hi"}]) as stream:
        texts = [event.data.choices[0].delta.content for event in stream]
    assert "".join(t for t in texts if isinstance(t, str))
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.input_tokens"] == 5000
    assert attrs["gen_ai.usage.output_tokens"] == 200
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["tokentrace.cost.usd"] == pytest.approx(SMALL_COST)
    assert "gen_ai.response.time_to_first_chunk" in attrs or telemetry.only_llm_span().end_time


def test_async_chat_and_stream(instrument: Any, server: Any, client: Mistral) -> None:
    telemetry = instrument()

    async def run() -> None:
        server.enqueue(ResponsePlan(usage=usage_of(1000, 100)))
        await client.chat.complete_async(model="mistral-small-2603", messages=[{"role": "user", "content": "hi"}])
        server.enqueue(ResponsePlan(usage=usage_of(2000, 50)))
        stream = await client.chat.stream_async(model="mistral-small-2603", messages=[{"role": "user", "content": "hi"}])
        async with stream as events:
            async for _ in events:
                pass

    asyncio.run(run())
    spans = sorted(telemetry.llm_spans(), key=lambda s: s.start_time)
    assert [s.attributes["gen_ai.usage.input_tokens"] for s in spans] == [1000, 2000]
    assert spans[0].attributes["tokentrace.cost.usd"] == pytest.approx((1000 * 0.15 + 100 * 0.6) / 1e6)
    assert spans[1].attributes["tokentrace.cost.usd"] == pytest.approx((2000 * 0.15 + 50 * 0.6) / 1e6)


def test_fim_complete_and_stream(instrument: Any, server: Any, client: Mistral) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage_of(300, 40)))
    client.fim.complete(model="codestral-2501", prompt="def fib(n):", suffix="return a")
    server.enqueue(ResponsePlan(usage=usage_of(600, 80)))
    for _ in client.fim.stream(model="codestral-2501", prompt="def fib(n):"):
        pass
    spans = sorted(telemetry.llm_spans(), key=lambda s: s.start_time)
    assert [s.attributes["gen_ai.operation.name"] for s in spans] == ["text_completion", "text_completion"]
    assert spans[0].attributes["tokentrace.cost.usd"] == pytest.approx((300 * 0.3 + 40 * 0.9) / 1e6)
    assert spans[1].attributes["tokentrace.cost.usd"] == pytest.approx((600 * 0.3 + 80 * 0.9) / 1e6)
    assert server.requests[-1].path == "/mistral/v1/fim/completions"


def test_embeddings(instrument: Any, server: Any, client: Mistral) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 1200, "total_tokens": 1200, "completion_tokens": 0}))
    result = client.embeddings.create(model="mistral-embed", inputs=["late invoice", "early invoice"])
    assert len(result.data) == 2
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["gen_ai.usage.input_tokens"] == 1200
    assert attrs["gen_ai.embeddings.dimension.count"] == 16
    assert attrs["tokentrace.cost.usd"] == pytest.approx(1200 * 0.1 / 1e6)


def test_provider_error_reaches_the_app_unchanged(instrument: Any, server: Any, client: Mistral) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=429))
    with pytest.raises(mistral_errors.SDKError) as caught:
        client.chat.complete(model="mistral-small-2603", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 429
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["error.type"].endswith("SDKError")


def test_stream_without_usage_is_not_priced_as_zero(instrument: Any, server: Any, client: Mistral) -> None:
    telemetry = instrument(estimate_usage=False)
    server.enqueue(ResponsePlan(omit_usage=True))
    for _ in client.chat.stream(model="mistral-small-2603", messages=[{"role": "user", "content": "hi"}]):
        pass
    attrs = _attrs(telemetry.only_llm_span())
    assert "tokentrace.cost.usd" not in attrs
    assert attrs["tokentrace.cost.status"] == "no_usage"


def test_uninstrument_restores_the_sdk(instrument: Any) -> None:
    from mistralai.client import chat

    original = vars(chat.Chat)["complete"]
    instrument()
    assert vars(chat.Chat)["complete"] is not original
    import tokentrace

    tokentrace.uninstrument()
    assert vars(chat.Chat)["complete"] is original
