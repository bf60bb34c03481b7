"""One finish-reason vocabulary for every adapter, the provider's own spelling kept beside it."""

from __future__ import annotations

import pytest

from tokentrace.core import finish_reasons
from tokentrace.records.call import CallRecord


@pytest.mark.parametrize(
    "raw, expected",
    [
        # OpenAI chat / legacy completions
        ("stop", "stop"), ("length", "length"), ("tool_calls", "tool_call"), ("function_call", "tool_call"),
        ("content_filter", "content_filter"),
        # Anthropic Messages (also Claude on Bedrock and Vertex)
        ("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_call"),
        ("refusal", "content_filter"), ("model_context_window_exceeded", "length"),
        # Gemini FinishReason
        ("STOP", "stop"), ("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("RECITATION", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        # Bedrock Converse StopReason, Titan completionReason, Cohere, AI21
        ("guardrail_intervened", "content_filter"), ("content_filtered", "content_filter"),
        ("FINISH", "stop"), ("LENGTH", "length"), ("CONTENT_FILTERED", "content_filter"),
        ("COMPLETE", "stop"), ("MAX_TOKENS", "length"), ("ERROR_TOXIC", "content_filter"), ("endoftext", "stop"),
        # Responses API statuses that end a response
        ("completed", "stop"), ("failed", "error"), ("cancelled", "error"), ("max_output_tokens", "length"),
        # unknown values pass through, lowercased, never guessed
        ("pause_turn", "pause_turn"), ("OTHER", "other"),
    ],
)
def test_normalize(raw, expected):
    assert finish_reasons.normalize(raw) == expected


def test_apply_keeps_order_and_raw_values_and_skips_missing():
    record = CallRecord(provider="gcp.gemini", operation="generate_content")
    finish_reasons.apply(record, ["STOP", None, "MAX_TOKENS", ""])
    assert record.finish_reasons == ["stop", "length"]
    assert record.response_attributes[finish_reasons.RAW_ATTRIBUTE] == ["STOP", "MAX_TOKENS"]


def test_apply_reads_sdk_enums():
    from google.genai import types

    record = CallRecord(provider="gcp.gemini", operation="generate_content")
    finish_reasons.apply(record, [types.FinishReason.SAFETY])
    assert record.finish_reasons == ["content_filter"]
    assert record.response_attributes[finish_reasons.RAW_ATTRIBUTE] == ["SAFETY"]


def test_no_reason_clears_both():
    record = CallRecord(provider="openai", operation="chat")
    finish_reasons.apply(record, ["stop"])
    finish_reasons.apply(record, [])
    assert record.finish_reasons == []
    assert finish_reasons.RAW_ATTRIBUTE not in record.response_attributes
