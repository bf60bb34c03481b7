"""messages.create through the real anthropic SDK over HTTP: spans, usage, cost, metrics."""

from __future__ import annotations

import asyncio
import json

import anthropic
import pytest
from opentelemetry.trace import SpanKind

import tokentrace
from tokentrace.testing import ResponsePlan

from .conftest import CACHED_COST_HAIKU, CACHED_INPUT_TOTAL, CACHED_USAGE, MESSAGES, no_secret


def _assert_cached_usage(a) -> None:
    assert a["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert a["gen_ai.usage.output_tokens"] == 800
    assert a["gen_ai.usage.cache_read.input_tokens"] == 40000
    assert a["gen_ai.usage.cache_write.input_tokens"] == 2500
    assert a["anthropic.usage.cache_creation.ephemeral_5m_input_tokens"] == 500
    assert a["anthropic.usage.cache_creation.ephemeral_1h_input_tokens"] == 2000
    assert a["tokentrace.usage.source"] == "provider"


def test_sync_create_one_span_with_canonical_usage_and_cost(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    message = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=1024,
        messages=MESSAGES,
        stop_sequences=["END"],
        output_config={"effort": "high"},
        service_tier="auto",
    )
    assert isinstance(message, anthropic.types.Message)
    assert message.usage.input_tokens == 120  # the app sees the provider's own numbers
    span = telemetry.only_llm_span()
    a = span.attributes
    assert span.name == "chat claude-haiku-4-5"
    assert span.kind == SpanKind.CLIENT
    assert a["gen_ai.provider.name"] == "anthropic"
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.request.model"] == "claude-haiku-4-5"
    assert a["gen_ai.response.model"] == "claude-haiku-4-5-20251001"
    assert a["gen_ai.response.id"] == message.id
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["anthropic.message.stop_reason"] == "end_turn"
    assert a["gen_ai.request.max_tokens"] == 1024
    assert a["gen_ai.request.reasoning.level"] == "high"
    assert a["gen_ai.request.stop_sequences"] == ("END",)
    assert a["anthropic.request.service_tier"] == "auto"
    assert a["anthropic.response.service_tier"] == "standard"
    assert a["server.address"] == "127.0.0.1"
    assert a["server.port"] == server.port
    assert a["tokentrace.model.rerouted"] is False
    _assert_cached_usage(a)
    assert a["tokentrace.cost.usd"] == pytest.approx(CACHED_COST_HAIKU)
    no_secret(span)


def test_metrics_count_each_token_type_once(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == CACHED_INPUT_TOTAL
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="cache_read") == 40000
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="cache_write") == 2500
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="output") == 800
    assert telemetry.total("tokentrace.calls") == 1
    histogram = [p for p in telemetry.points("gen_ai.client.token.usage") if p.attributes["gen_ai.token.type"] == "input"]
    assert len(histogram) == 1 and histogram[0].sum == CACHED_INPUT_TOTAL
    assert telemetry.total("tokentrace.cost") == pytest.approx(CACHED_COST_HAIKU)


def test_async_create(instrument, server, async_client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))

    async def main():
        return await async_client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES)

    message = asyncio.run(main())
    assert isinstance(message, anthropic.types.Message)
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.response.model"] == "claude-haiku-4-5-20251001"
    _assert_cached_usage(a)
    assert a["tokentrace.cost.usd"] == pytest.approx(CACHED_COST_HAIKU)


def test_default_usage_without_cache_is_plain_input(instrument, server, client):
    telemetry = instrument()
    message = client.messages.create(model="claude-opus-4-5", max_tokens=200, messages=MESSAGES)
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.usage.input_tokens"] == message.usage.input_tokens
    assert a["gen_ai.usage.output_tokens"] == message.usage.output_tokens
    assert "gen_ai.usage.cache_read.input_tokens" not in a
    # claude-opus-4-5: input 5, output 25 per 1M tokens.
    expected = (message.usage.input_tokens * 5 + message.usage.output_tokens * 25) / 1e6
    assert a["tokentrace.cost.usd"] == pytest.approx(expected)


def test_beta_messages_create(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    message = client.beta.messages.create(
        model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES, betas=["context-management-2025-06-27"]
    )
    assert isinstance(message, anthropic.types.beta.BetaMessage)
    assert server.requests[-1].headers["anthropic-beta"] == "context-management-2025-06-27"
    a = telemetry.only_llm_span().attributes
    _assert_cached_usage(a)
    assert a["tokentrace.cost.usd"] == pytest.approx(CACHED_COST_HAIKU)


def test_thinking_tokens_are_reasoning_inside_output(instrument, server, client):
    telemetry = instrument()
    usage = {"input_tokens": 300, "output_tokens": 1500, "output_tokens_details": {"thinking_tokens": 1200}, "service_tier": "standard"}
    server.enqueue(ResponsePlan(usage=usage))
    message = client.messages.create(
        model="claude-haiku-4-5", max_tokens=4096, messages=MESSAGES, thinking={"type": "enabled", "budget_tokens": 2048}
    )
    assert [block.type for block in message.content] == ["thinking", "text"]
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.usage.output_tokens"] == 1500
    assert a["gen_ai.usage.reasoning.output_tokens"] == 1200
    assert a["anthropic.thinking.type"] == "enabled"
    assert a["anthropic.thinking.budget_tokens"] == 2048
    # Thinking is billed as output, once: 300 * 1 + 1500 * 5 per 1M.
    assert a["tokentrace.cost.usd"] == pytest.approx((300 * 1 + 1500 * 5) / 1e6)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="output") == 1500
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="reasoning") == 1200


def test_priority_service_tier_is_recorded(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"input_tokens": 10, "output_tokens": 5, "service_tier": "priority"}))
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES, service_tier="auto")
    a = telemetry.only_llm_span().attributes
    assert a["tokentrace.service_tier"] == "priority"
    assert a["anthropic.response.service_tier"] == "priority"


def test_unknown_model_has_no_cost_and_says_why(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"input_tokens": 10, "output_tokens": 5}))
    client.messages.create(model="claude-internal-experiment-9", max_tokens=10, messages=MESSAGES)
    a = telemetry.only_llm_span().attributes
    assert "tokentrace.cost.usd" not in a
    assert a["tokentrace.cost.status"] == "unknown_model"
    assert a["gen_ai.usage.input_tokens"] == 10
    assert telemetry.total("tokentrace.cost") == 0


def test_malformed_usage_never_crashes_the_app(instrument, server, client):
    telemetry = instrument()
    body = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5-20251001",
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": 17,
        "usage": {"input_tokens": "many", "output_tokens": -3, "cache_creation": "x"},
    }
    server.enqueue(ResponsePlan(body=body))
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    assert message.usage.input_tokens == "many"  # the app gets what the SDK built, untouched
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.usage.input_tokens"] == 0
    assert a["gen_ai.usage.output_tokens"] == 0
    assert "gen_ai.response.finish_reasons" not in a


def test_missing_usage_means_no_usage_not_zero_cost(instrument, server, client):
    telemetry = instrument()
    body = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001", "content": [], "stop_reason": "end_turn"}
    server.enqueue(ResponsePlan(body=body))
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    a = telemetry.only_llm_span().attributes
    assert a["tokentrace.cost.status"] == "no_usage"
    assert "tokentrace.cost.usd" not in a
    assert "gen_ai.usage.input_tokens" not in a


def test_with_raw_response(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    raw = client.messages.with_raw_response.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES)
    assert raw.headers["request-id"].startswith("req_011C")
    message = raw.parse()
    assert isinstance(message, anthropic.types.Message)
    _assert_cached_usage(telemetry.only_llm_span().attributes)


def test_with_streaming_response(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    with client.messages.with_streaming_response.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES) as raw:
        message = raw.parse()
    assert message.usage.output_tokens == 800
    _assert_cached_usage(telemetry.only_llm_span().attributes)


def test_count_tokens_is_not_an_llm_call(instrument, server, client):
    telemetry = instrument()
    result = client.messages.count_tokens(model="claude-haiku-4-5", messages=MESSAGES)
    assert result.input_tokens > 0
    assert telemetry.llm_spans() == []


def test_content_is_not_captured_by_default(instrument, server, client):
    telemetry = instrument()
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES, system="You are terse.")
    a = telemetry.only_llm_span().attributes
    assert not any(key.startswith(("gen_ai.input", "gen_ai.output.messages", "gen_ai.system")) for key in a)
    assert not any("invoice" in str(value) for value in a.values())


def test_content_capture_opt_in(instrument, server, client):
    telemetry = instrument(capture_content="SPAN_ONLY")
    server.enqueue(ResponsePlan(text="No fee."))
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES, system="You are terse.")
    a = telemetry.only_llm_span().attributes
    assert json.loads(a["gen_ai.system_instructions"]) == [{"type": "text", "content": "You are terse."}]
    assert json.loads(a["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": MESSAGES[0]["content"]}]}
    ]
    assert json.loads(a["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "No fee."}], "finish_reason": "stop"}
    ]
    no_secret(telemetry.only_llm_span())


def test_attribution_reaches_the_span(instrument, server, client):
    telemetry = instrument()
    with tokentrace.attribute(team="billing", feature="late-fees"):
        client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    a = telemetry.only_llm_span().attributes
    assert a["tokentrace.team"] == "billing"
    assert a["tokentrace.feature"] == "late-fees"
    assert telemetry.total("tokentrace.calls", tokentrace__team="billing") == 1
