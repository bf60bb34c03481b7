"""Chat completions through the real openai SDK over HTTP: spans, usage, cost, metrics."""

from __future__ import annotations

import asyncio

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from tokentrace.testing import ResponsePlan

OPENAI_USAGE_WITH_CACHE = {
    "prompt_tokens": 2006,
    "completion_tokens": 300,
    "total_tokens": 2306,
    "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 64, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
}


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test-secret-key-123456", max_retries=0)


def test_non_streaming_span_has_request_response_and_usage(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=OPENAI_USAGE_WITH_CACHE))
    result = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Summarise the incident"}],
        temperature=0.2,
        max_tokens=300,
        top_p=0.9,
        seed=7,
        stop=["END"],
    )
    span = telemetry.only_llm_span()
    a = span.attributes
    assert span.name == "chat gpt-4o"
    assert span.kind == SpanKind.CLIENT
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["server.address"] == "127.0.0.1"
    assert a["server.port"] == server.port
    assert a["gen_ai.request.model"] == "gpt-4o"
    assert a["gen_ai.request.temperature"] == 0.2
    assert a["gen_ai.request.max_tokens"] == 300
    assert a["gen_ai.request.top_p"] == 0.9
    assert a["gen_ai.request.seed"] == 7
    assert tuple(a["gen_ai.request.stop_sequences"]) == ("END",)
    assert a["gen_ai.response.model"] == result.model == "gpt-4o-2024-08-06"
    assert a["gen_ai.response.id"] == result.id
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("stop",)
    # OpenAI's prompt_tokens already include the cached tokens: input stays 2006.
    assert a["gen_ai.usage.input_tokens"] == 2006
    assert a["gen_ai.usage.cache_read.input_tokens"] == 1920
    assert a["gen_ai.usage.output_tokens"] == 300
    assert a["gen_ai.usage.reasoning.output_tokens"] == 64
    assert a["tokentrace.usage.source"] == "provider"
    assert a["tokentrace.model.rerouted"] is False
    assert a["openai.response.service_tier"] == "default"
    # gpt-4o: $2.50 input, $1.25 cached input, $10 output per 1M tokens.
    expected = (86 * 2.50 + 1920 * 1.25 + 300 * 10.0) / 1e6
    assert a["tokentrace.cost.usd"] == pytest.approx(expected, abs=1e-12)
    assert a["tokentrace.cost.status"] == "priced"
    assert "gen_ai.request.stream" not in a
    assert span.status.status_code != StatusCode.ERROR


def test_cache_write_tokens_are_read_from_prompt_details(instrument, server, client):
    telemetry = instrument()
    usage = {
        "prompt_tokens": 5000,
        "completion_tokens": 10,
        "total_tokens": 5010,
        "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 4096},
    }
    server.enqueue(ResponsePlan(usage=usage))
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.usage.input_tokens"] == 5000
    assert a["gen_ai.usage.cache_write.input_tokens"] == 4096
    assert "gen_ai.usage.cache_read.input_tokens" not in a


def test_metrics_count_tokens_by_type_and_cost(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=OPENAI_USAGE_WITH_CACHE), ResponsePlan(usage=OPENAI_USAGE_WITH_CACHE))
    for _ in range(2):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == 4012
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="cache_read") == 3840
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="output") == 600
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="reasoning") == 128
    expected = 2 * (86 * 2.50 + 1920 * 1.25 + 300 * 10.0) / 1e6
    assert telemetry.total("tokentrace.cost", gen_ai__request__model="gpt-4o") == pytest.approx(expected, abs=1e-12)
    assert telemetry.total("tokentrace.calls", tokentrace__cost__status="priced") == 2
    usage_points = telemetry.points("gen_ai.client.token.usage")
    by_type = {p.attributes["gen_ai.token.type"]: p for p in usage_points}
    assert by_type["input"].sum == 4012 and by_type["input"].count == 2
    assert by_type["output"].sum == 600
    # Bucket advice from the GenAI conventions.
    assert tuple(by_type["input"].explicit_bounds)[:4] == (1, 4, 16, 64)
    duration = telemetry.points("gen_ai.client.operation.duration")
    assert duration and tuple(duration[0].explicit_bounds)[:3] == (0.01, 0.02, 0.04)
    assert duration[0].attributes["gen_ai.response.model"] == "gpt-4o-2024-08-06"


def test_rerouted_call_is_marked_and_priced_at_the_answering_model(instrument, server, client):
    telemetry = instrument()
    server.reroutes["gpt-5"] = "gpt-5-mini-2025-08-07"
    usage = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}
    server.enqueue(ResponsePlan(usage=usage))
    client.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "x"}])
    a = telemetry.only_llm_span().attributes
    assert a["tokentrace.model.rerouted"] is True
    assert a["gen_ai.response.model"] == "gpt-5-mini-2025-08-07"
    # gpt-5-mini: $0.25 input, $2 output per 1M.
    assert a["tokentrace.cost.usd"] == pytest.approx((1000 * 0.25 + 100 * 2.0) / 1e6, abs=1e-12)
    assert telemetry.total("tokentrace.calls", tokentrace__model__rerouted=True) == 1


def test_dated_snapshot_answer_is_not_a_reroute(instrument, server, client):
    telemetry = instrument()
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert a["tokentrace.model.rerouted"] is False


def test_unknown_model_has_no_cost_and_a_marker(instrument, server, client):
    telemetry = instrument()
    client.chat.completions.create(model="acme-internal-llm-v9", messages=[{"role": "user", "content": "x"}])
    a = telemetry.only_llm_span().attributes
    assert "tokentrace.cost.usd" not in a
    assert a["tokentrace.cost.status"] == "unknown_model"
    assert a["gen_ai.usage.input_tokens"] > 0
    assert telemetry.points("tokentrace.cost") == []
    assert telemetry.total("tokentrace.calls", tokentrace__cost__status="unknown_model") == 1


def test_choice_count_and_finish_reasons_per_choice(instrument, server, client):
    telemetry = instrument()
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], n=3)
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.request.choice.count"] == 3
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("stop", "stop", "stop")


def test_parse_with_pydantic_response_format(instrument, server, client):
    from pydantic import BaseModel

    class Verdict(BaseModel):
        label: str
        score: int

    telemetry = instrument()
    parsed = client.chat.completions.parse(model="gpt-4o", messages=[{"role": "user", "content": "x"}], response_format=Verdict)
    assert isinstance(parsed.choices[0].message.parsed, Verdict)
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.output.type"] == "json"
    assert a["gen_ai.usage.output_tokens"] > 0


def test_async_client(instrument, server):
    telemetry = instrument()

    async def main():
        client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
        server.enqueue(ResponsePlan(usage=OPENAI_USAGE_WITH_CACHE))
        return await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])

    result = asyncio.run(main())
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.response.id"] == result.id
    assert a["gen_ai.usage.cache_read.input_tokens"] == 1920


def test_llm_span_is_current_during_the_request_so_http_spans_nest(instrument, server, client):
    from opentelemetry import trace

    telemetry = instrument()
    seen = []
    original = client._prepare_request

    def spy(request):
        seen.append(trace.get_current_span().get_span_context().span_id)
        return original(request)

    client._prepare_request = spy
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert seen == [telemetry.only_llm_span().context.span_id]
    assert trace.get_current_span().get_span_context().is_valid is False


def test_tool_calls_finish_reason_is_normalized_and_raw_kept(instrument, server, client):
    telemetry = instrument()
    body = {
        "id": "chatcmpl-tool1",
        "object": "chat.completion",
        "created": 1733000000,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "tool_calls": [
                        {"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
                    ],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99},
    }
    server.enqueue(ResponsePlan(body=body))
    result = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "weather?"}])
    assert result.choices[0].finish_reason == "tool_calls"  # the app's object is untouched
    a = telemetry.only_llm_span().attributes
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("tool_call",)
    assert tuple(a["tokentrace.provider.finish_reasons"]) == ("tool_calls",)
