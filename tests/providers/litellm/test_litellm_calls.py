"""litellm through the real library against the local server: LiteLLM's OpenAI route goes through the
real ``openai`` SDK, its Anthropic route through LiteLLM's own HTTP client; both speak the local
server's OpenAI and Anthropic wire formats.

One span per call, never a second one from the openai adapter; costs hand-computed from the
catalog (gpt-4o 2.5 / cached 1.25 / output 10; claude-haiku-4-5 1 / cache read 0.1 / 5-min cache
write 1.25 / output 5, per 1M tokens). LiteLLM's ``response_cost`` only for a model the catalog
has no price for (a model registered in LiteLLM's map at 30 / 60).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest

litellm = pytest.importorskip("litellm")

from tokentrace.testing import ResponsePlan, openai_usage  # noqa: E402

MESSAGES = [{"role": "user", "content": "Is the invoice late?"}]
KEY = "sk-litellm-test-0123456789"
GPT4O_COST = ((2006 - 1920) * 2.5 + 1920 * 1.25 + 300 * 10) / 1e6


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


def _openai(server: Any, **kwargs: Any) -> Any:
    return litellm.completion(model="openai/gpt-4o", messages=MESSAGES, api_base=server.openai_url, api_key=KEY, **kwargs)


def test_openai_route_is_one_span_with_the_catalog_cost(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=openai_usage(2006, 300, cached=1920)))
    response = _openai(server, temperature=0.2, max_tokens=400)
    attrs = _attrs(telemetry.only_llm_span())  # the openai SDK call inside LiteLLM opened no span
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["litellm.provider"] == "openai"
    assert attrs["gen_ai.request.model"] == "gpt-4o"
    assert attrs["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert attrs["gen_ai.request.max_tokens"] == 400
    assert attrs["gen_ai.usage.input_tokens"] == 2006 and attrs["gen_ai.usage.cache_read.input_tokens"] == 1920
    assert attrs["tokentrace.cost.usd"] == pytest.approx(GPT4O_COST)
    assert attrs["tokentrace.cost.status"] == "priced"  # LiteLLM's own response_cost is not used here
    assert response._hidden_params["response_cost"] > 0
    assert telemetry.total("tokentrace.cost") == pytest.approx(GPT4O_COST)


def test_anthropic_route_with_cache_reads_and_writes(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"input_tokens": 50, "output_tokens": 100, "cache_read_input_tokens": 1000,
                                       "cache_creation_input_tokens": 200}))
    litellm.completion(model="anthropic/claude-haiku-4-5", messages=MESSAGES, api_base=server.url, api_key="sk-ant-test", max_tokens=256)
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert attrs["gen_ai.usage.input_tokens"] == 1250
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 1000
    assert attrs["gen_ai.usage.cache_write.input_tokens"] == 200
    assert attrs["tokentrace.cost.usd"] == pytest.approx((50 * 1 + 1000 * 0.1 + 200 * 1.25 + 100 * 5) / 1e6)


def test_stream_gets_exact_usage_and_the_app_sees_the_same_chunks(instrument: Any, server: Any) -> None:
    server.enqueue(ResponsePlan(usage=openai_usage(2006, 300, cached=1920), text="fixed reply"))
    expected = [(c.model_dump(exclude={"id", "created"}), c.model_fields_set) for c in _openai(server, stream=True)]
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=openai_usage(2006, 300, cached=1920), text="fixed reply"))
    observed = [(c.model_dump(exclude={"id", "created"}), c.model_fields_set) for c in _openai(server, stream=True)]
    assert observed == expected
    assert server.requests[-1].json["stream_options"] == {"include_usage": True}
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["tokentrace.usage.source"] == "provider"
    assert attrs["tokentrace.cost.usd"] == pytest.approx(GPT4O_COST)


def test_stream_the_app_asked_usage_for_keeps_its_usage_chunk(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=openai_usage(2006, 300, cached=1920)))
    with _openai(server, stream=True, stream_options={"include_usage": True}) as stream:
        chunks = list(stream)
    assert chunks[-1].usage.prompt_tokens == 2006
    assert _attrs(telemetry.only_llm_span())["tokentrace.cost.usd"] == pytest.approx(GPT4O_COST)


def test_acompletion_async_stream_and_aembedding(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def run() -> None:
        server.enqueue(ResponsePlan(usage=openai_usage(2006, 300, cached=1920)))
        await litellm.acompletion(model="openai/gpt-4o", messages=MESSAGES, api_base=server.openai_url, api_key=KEY)
        server.enqueue(ResponsePlan(usage=openai_usage(2006, 300, cached=1920)))
        stream = await litellm.acompletion(model="openai/gpt-4o", messages=MESSAGES, api_base=server.openai_url, api_key=KEY, stream=True)
        async for _ in stream:
            pass
        server.enqueue(ResponsePlan(usage={"prompt_tokens": 5000, "total_tokens": 5000}))
        await litellm.aembedding(model="openai/text-embedding-3-small", input=["late invoice"], api_base=server.openai_url, api_key=KEY)

    asyncio.run(run())
    spans = sorted(telemetry.llm_spans(), key=lambda s: s.start_time)
    assert [s.attributes["gen_ai.operation.name"] for s in spans] == ["chat", "chat", "embeddings"]
    assert [s.attributes["tokentrace.cost.usd"] for s in spans] == [pytest.approx(GPT4O_COST)] * 2 + [pytest.approx(5000 * 0.02 / 1e6)]


def test_async_stream_in_async_with_closed_early_with_aclose_is_one_span(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def run() -> Any:
        server.enqueue(ResponsePlan(usage=openai_usage(2006, 300, cached=1920), chunks=4))
        stream = await litellm.acompletion(model="openai/gpt-4o", messages=MESSAGES, api_base=server.openai_url, api_key=KEY, stream=True)
        async with stream:
            await stream.__anext__()
            await stream.aclose()
            ended_at_close = len(telemetry.llm_spans())  # the stream is still referenced here
        return ended_at_close, stream

    ended_at_close, _ = asyncio.run(run())
    assert ended_at_close == 1
    span = telemetry.only_llm_span()
    assert span.end_time is not None
    assert span.attributes["gen_ai.request.model"] == "gpt-4o"


def test_response_cost_only_where_tokentrace_cannot_price(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    # A model only LiteLLM knows a price for (registered in its map, absent from tokentrace's catalog).
    litellm.register_model({"acme-gateway-model": {"input_cost_per_token": 30e-6, "output_cost_per_token": 60e-6,
                                                   "litellm_provider": "openai", "mode": "chat"}})
    server.enqueue(ResponsePlan(usage=openai_usage(1000, 100)))
    response = litellm.completion(model="openai/acme-gateway-model", messages=MESSAGES, api_base=server.openai_url, api_key=KEY)
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["tokentrace.cost.status"] == "provider_reported"
    assert attrs["gen_ai.usage.cost.source"] == "gateway"
    assert attrs["tokentrace.cost.usd"] == pytest.approx((1000 * 30 + 100 * 60) / 1e6)
    assert attrs["litellm.response_cost"] == pytest.approx(response._hidden_params["response_cost"])


def test_error_reaches_the_app_and_one_span_records_it(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=429))
    with pytest.raises(litellm.RateLimitError):
        _openai(server, num_retries=0)
    spans = telemetry.llm_spans()
    assert len(spans) == 1 and spans[0].attributes["error.type"].endswith("RateLimitError")


def test_patches_applied_when_litellm_is_imported_after_instrument(tmp_path: Any) -> None:
    script = (
        "import os, sys\n"
        "os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] = 'True'\n"
        "import tokentrace\n"
        "tokentrace.instrument()\n"
        "assert 'litellm' not in sys.modules\n"
        "import litellm\n"
        "from tokentrace.providers.base import _TokentraceFunctionWrapper as W\n"
        "assert isinstance(litellm.completion, W) and isinstance(litellm.main.acompletion, W)\n"
        "tokentrace.uninstrument()\n"
        "assert not isinstance(litellm.completion, W)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert result.stdout.strip().endswith("ok"), result.stderr[-2000:]


def test_anthropic_stream_is_unchanged_for_the_app_and_exactly_counted(instrument: Any, server: Any) -> None:
    usage = {"input_tokens": 50, "output_tokens": 100, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 0}

    def run() -> Any:
        server.enqueue(ResponsePlan(usage=usage, text="fixed reply"))
        chunks = litellm.completion(model="anthropic/claude-haiku-4-5", messages=MESSAGES, api_base=server.url, api_key="sk-ant-test",
                                    max_tokens=256, stream=True)
        return [(c.model_dump(exclude={"id", "created"}), c.model_fields_set) for c in chunks]

    expected = run()
    telemetry = instrument()
    assert run() == expected
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.input_tokens"] == 1050
    assert attrs["tokentrace.cost.usd"] == pytest.approx((50 * 1 + 1000 * 0.1 + 100 * 5) / 1e6)
