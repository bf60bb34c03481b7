"""Hostile provider responses: the app sees what it would see without tokentrace, never an
exception of tokentrace's, and the span says why its cost is what it is.

Each example sends the same malformed body (or truncated stream) twice: uninstrumented, then
instrumented, and compares what the application got (result or exception type and message).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tokentrace
from tokentrace.testing import ResponsePlan

from .scenarios import SCENARIOS

_scalar = st.one_of(st.none(), st.integers(-(10**15), 10**18), st.floats(allow_nan=True), st.text(max_size=8), st.booleans())
_usage_value = st.one_of(_scalar, st.lists(_scalar, max_size=2), st.dictionaries(st.text(max_size=6), _scalar, max_size=3))

USAGE_KEYS: Dict[str, Any] = {
    "openai": ("usage", ["prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "completion_tokens_details"]),
    "anthropic": ("usage", ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "cache_creation"]),
    "google": ("usageMetadata", ["promptTokenCount", "candidatesTokenCount", "totalTokenCount", "cachedContentTokenCount", "thoughtsTokenCount"]),
    "bedrock": ("usage", ["inputTokens", "outputTokens", "totalTokens", "cacheReadInputTokens", "cacheWriteInputTokens"]),
    "vertexai": ("usageMetadata", ["promptTokenCount", "candidatesTokenCount", "totalTokenCount", "cachedContentTokenCount", "thoughtsTokenCount"]),
    "aiobotocore": ("usage", ["inputTokens", "outputTokens", "totalTokens", "cacheReadInputTokens", "cacheWriteInputTokens"]),
    "mistral": ("usage", ["prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "service_tier"]),
    "cohere": ("usage", ["billed_units", "tokens", "cached_tokens"]),
    "ollama": (None, ["prompt_eval_count", "eval_count", "total_duration", "eval_duration", "done_reason"]),
    "azure_ai_inference": ("usage", ["prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details"]),
    "groq": ("usage", ["prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details", "queue_time", "total_time"]),
}

BODIES: Dict[str, Callable[[], Dict[str, Any]]] = {
    "openai": lambda: {"id": "chatcmpl-1", "object": "chat.completion", "created": 1741570283, "model": "gpt-4o-2024-08-06",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]},
    "anthropic": lambda: {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
                          "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn", "stop_sequence": None},
    "google": lambda: {"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP", "index": 0}],
                       "modelVersion": "gemini-2.5-flash"},
    # Bedrock Converse, parsed by botocore against the service model.
    "bedrock": lambda: {"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}}, "stopReason": "end_turn",
                        "metrics": {"latencyMs": 412}},
    # The Vertex AI SDK parses the body into its protobuf types (google.protobuf.json_format).
    "vertexai": lambda: {"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP", "index": 0}],
                         "modelVersion": "gemini-2.5-flash"},
    "aiobotocore": lambda: {"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}}, "stopReason": "end_turn",
                            "metrics": {"latencyMs": 412}},
    "mistral": lambda: {"id": "cf79f7daaee244b1a0ae5c7b1444424a", "object": "chat.completion", "created": 1741570283,
                        "model": "mistral-small-2603",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]},
    # LiteLLM is not fuzzed here: its errors for a malformed body embed the call's own ids and
    # timestamps, so two identical calls never give the same message; its OpenAI route's bodies
    # are the openai entry's. Its truncated streams are tested below.
    "cohere": lambda: {"id": "c14c80c3-18eb-4519-9460-6c92edd8cfb4", "finish_reason": "COMPLETE",
                       "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}]}},
    "ollama": lambda: {"model": "llama3.2", "created_at": "2026-12-01T10:00:00.000000Z", "message": {"role": "assistant", "content": "ok"},
                       "done": True},
    "azure_ai_inference": lambda: {"id": "4d3b1e2f9a8c4b7d", "object": "chat.completion", "created": 1730241104, "model": "Mistral-Large-2411",
                                   "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}]},
    "groq": lambda: {"id": "chatcmpl-f51b2cd2-bef7-417e-964e-a08f0b513c22", "object": "chat.completion", "created": 1730241104,
                     "model": "llama-3.3-70b-versatile", "x_groq": {"id": "req_01jbd6g2qdfw2adyrt2az8hz4w"},
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "logprobs": None, "finish_reason": "stop"}]},
}


def _outcome(call: Callable[[Any], Any], server: Any) -> Any:
    try:
        return ("ok", repr(call(server)))
    except Exception as exc:  # the SDK's own reaction to the malformed body
        return ("raised", type(exc), str(exc))


@st.composite
def hostile_bodies(draw: Any, provider: str) -> Any:
    body = BODIES[provider]()
    field, keys = USAGE_KEYS[provider]
    shape = draw(st.sampled_from(["missing", "null", "garbage", "partial"]))
    if field is None:  # usage fields at the top level of the body (Ollama)
        if shape == "null":
            body.update(dict.fromkeys(keys))
        elif shape == "garbage":
            body[draw(st.sampled_from(keys))] = draw(_usage_value)
        elif shape == "partial":
            body.update({key: draw(_usage_value) for key in draw(st.lists(st.sampled_from(keys), max_size=len(keys), unique=True))})
    elif shape == "null":
        body[field] = None
    elif shape == "garbage":
        body[field] = draw(_usage_value)
    elif shape == "partial":
        body[field] = {key: draw(_usage_value) for key in draw(st.lists(st.sampled_from(keys), max_size=len(keys), unique=True))}
    if draw(st.booleans()):
        body[draw(st.text(min_size=1, max_size=8))] = draw(_usage_value)  # unknown field
    return body


@pytest.mark.parametrize("provider", [name for name in BODIES if name in SCENARIOS])
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # the SDK's models, fed garbage on purpose
def test_hostile_bodies_never_break_the_app(telemetry: Any, server: Any, provider: str) -> None:
    call = SCENARIOS[provider].call

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=hostile_bodies(provider))
    def check(body: Any) -> None:
        tokentrace.uninstrument()
        server.enqueue(ResponsePlan(body=body))
        expected = _outcome(call, server)
        telemetry.exporter.clear()
        tokentrace.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
        try:
            server.enqueue(ResponsePlan(body=body))
            assert _outcome(call, server) == expected
        finally:
            tokentrace.uninstrument()
        span = telemetry.only_llm_span()
        attributes = span.attributes or {}
        assert attributes.get("tokentrace.cost.status"), "the span must say why its cost is what it is"
        cost = attributes.get("tokentrace.cost.usd")
        assert cost is None or (math.isfinite(cost) and cost >= 0), f"nonsense cost {cost!r} from {body!r}"
        for key in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"):
            assert attributes.get(key, 0) >= 0

    check()


@pytest.mark.parametrize("provider", list(SCENARIOS))
@pytest.mark.parametrize("cut", [0, 1, 2, 4])
def test_truncated_streams_give_the_sdk_behaviour_and_one_span(telemetry: Any, server: Any, provider: str, cut: int) -> None:
    stream = SCENARIOS[provider].stream
    server.enqueue(ResponsePlan(chunks=5, truncate_after=cut))
    expected = _outcome(stream, server)
    tokentrace.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
    try:
        server.enqueue(ResponsePlan(chunks=5, truncate_after=cut))
        observed = _outcome(stream, server)
    finally:
        tokentrace.uninstrument()
    assert observed[:2] == expected[:2]
    span = telemetry.only_llm_span()
    assert span.attributes.get("tokentrace.cost.status")
