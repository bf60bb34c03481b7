"""Streaming through the real anthropic SDK: stream=True, the messages.stream() helper, async.

Each test compares what the application receives with an uninstrumented run of the same
scripted response, and checks the one span tokentrace emits.
"""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any, Callable, List

import anthropic
import pytest
from opentelemetry.trace import StatusCode

import tokentrace
from tokentrace.testing import ResponsePlan

from .conftest import CACHED_COST_HAIKU, CACHED_INPUT_TOTAL, CACHED_USAGE, MESSAGES

THINKING = {"type": "enabled", "budget_tokens": 2048}


def _normal(events: List[Any]) -> List[Any]:
    """Event dumps without the per-response message id and signature."""
    dumps = []
    for event in events:
        data = event.model_dump() if hasattr(event, "model_dump") else event
        text = json.dumps(data, default=str, sort_keys=True)
        for key in ("id", "signature"):
            text = _blank(text, key)
        dumps.append(text)
    return dumps


def _blank(text: str, key: str) -> str:
    import re

    return re.sub(rf'"{key}": "[^"]*"', f'"{key}": "_"', text)


def _uninstrumented_then_instrumented(server, instrument, plan: ResponsePlan, run: Callable[[], Any]):
    tokentrace.uninstrument()
    server.enqueue(plan)
    baseline = run()
    telemetry = instrument()
    server.enqueue(plan)
    observed = run()
    return baseline, observed, telemetry


def test_stream_true_is_transparent_and_usage_is_last_not_summed(instrument, server, client):
    def run():
        return list(client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES, stream=True))

    baseline, observed, telemetry = _uninstrumented_then_instrumented(server, instrument, ResponsePlan(usage=CACHED_USAGE), run)
    assert [e.type for e in observed] == [
        "message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_delta", "content_block_stop", "message_delta", "message_stop",
    ]
    assert _normal(observed) == _normal(baseline)
    span = telemetry.only_llm_span()
    a = span.attributes
    assert a["gen_ai.request.stream"] is True
    assert a["gen_ai.response.model"] == "claude-haiku-4-5-20251001"
    assert a["gen_ai.response.id"] == observed[0].message.id
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    # message_start says output_tokens=1, message_delta says 800 (cumulative): 800, not 801.
    assert a["gen_ai.usage.output_tokens"] == 800
    assert a["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert a["gen_ai.usage.cache_read.input_tokens"] == 40000
    assert a["gen_ai.usage.cache_write.input_tokens"] == 2500
    assert a["gen_ai.response.time_to_first_chunk"] > 0
    assert a["tokentrace.cost.usd"] == pytest.approx(CACHED_COST_HAIKU)


def test_usage_only_in_message_start_and_delta_output(instrument, server, client):
    """The classic API: message_delta carries only output_tokens; input and cache come from message_start."""
    telemetry = instrument()
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 25, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 0, "output_tokens": 1},
        },
    }
    events = [
        json.dumps(start),
        json.dumps({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json.dumps({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
        json.dumps({"type": "content_block_stop", "index": 0}),
        json.dumps({"type": "message_delta", "delta": {"stop_reason": "max_tokens", "stop_sequence": None}, "usage": {"output_tokens": 15}}),
        json.dumps({"type": "message_stop"}),
    ]
    server.enqueue(ResponsePlan(events=events))
    list(client.messages.create(model="claude-haiku-4-5", max_tokens=15, messages=MESSAGES, stream=True))
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.usage.input_tokens"] == 1025
    assert a["gen_ai.usage.cache_read.input_tokens"] == 1000
    assert a["gen_ai.usage.output_tokens"] == 15
    assert a["gen_ai.response.finish_reasons"] == ("length",)
    assert a["tokentrace.cost.usd"] == pytest.approx((25 * 1 + 1000 * 0.1 + 15 * 5) / 1e6)


def test_stream_helper_text_stream_and_final_message(instrument, server, client):
    def run():
        with client.messages.stream(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES) as stream:
            texts = list(stream.text_stream)
            final = stream.get_final_message()
        return texts, final

    (base_texts, base_final), (texts, final), telemetry = _uninstrumented_then_instrumented(
        server, instrument, ResponsePlan(usage=CACHED_USAGE, text="No fee applies."), run
    )
    assert texts == base_texts and "".join(texts) == "No fee applies."
    assert _normal([final]) == _normal([base_final])
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.usage.output_tokens"] == final.usage.output_tokens == 800
    assert a["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert a["tokentrace.cost.usd"] == pytest.approx(CACHED_COST_HAIKU)


def test_stream_helper_events_with_thinking_are_transparent(instrument, server, client):
    def run():
        with client.messages.stream(model="claude-haiku-4-5", max_tokens=4096, messages=MESSAGES, thinking=THINKING) as stream:
            return list(stream)

    usage = {"input_tokens": 300, "output_tokens": 1500, "output_tokens_details": {"thinking_tokens": 1200}}
    baseline, observed, telemetry = _uninstrumented_then_instrumented(server, instrument, ResponsePlan(usage=usage), run)
    assert _normal(observed) == _normal(baseline)
    assert "thinking" in [e.type for e in observed] and "signature" in [e.type for e in observed]
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.usage.output_tokens"] == 1500
    assert a["gen_ai.usage.reasoning.output_tokens"] == 1200


def test_async_stream_true_and_helper(instrument, server):
    async def run():
        # A client per event loop: its connection pool belongs to the loop that opened it.
        async_client = anthropic.AsyncAnthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
        stream = await async_client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES, stream=True)
        events = [event async for event in stream]
        async with async_client.messages.stream(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES) as helper:
            texts = [text async for text in helper.text_stream]
            final = await helper.get_final_message()
        return events, texts, final

    plan = ResponsePlan(usage=CACHED_USAGE)
    tokentrace.uninstrument()
    server.enqueue(plan, plan)
    base_events, base_texts, base_final = asyncio.run(run())
    telemetry = instrument()
    server.enqueue(plan, plan)
    events, texts, final = asyncio.run(run())
    assert _normal(events) == _normal(base_events)
    assert texts == base_texts
    assert _normal([final]) == _normal([base_final])
    spans = telemetry.llm_spans()
    assert len(spans) == 2
    for span in spans:
        assert span.attributes["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
        assert span.attributes["gen_ai.usage.output_tokens"] == 800
        assert span.attributes["tokentrace.cost.usd"] == pytest.approx(CACHED_COST_HAIKU)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == 2 * CACHED_INPUT_TOTAL


def test_partial_consumption_then_close_ends_the_span_once(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE, chunks=6))
    stream = client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES, stream=True)
    first = next(iter(stream))
    assert first.type == "message_start"
    stream.close()
    stream.close()
    span = telemetry.only_llm_span()
    # What message_start said is kept: input and cache counts; output as far as known.
    assert span.attributes["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert telemetry.total("tokentrace.calls") == 1


def test_stream_as_context_manager(instrument, server, client):
    telemetry = instrument()
    with client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES, stream=True) as stream:
        assert isinstance(stream, anthropic.Stream)
        kinds = [event.type for event in stream]
    assert kinds[-1] == "message_stop"
    assert len(telemetry.llm_spans()) == 1


def test_dropped_stream_ends_the_span_on_gc(instrument, server, client):
    telemetry = instrument()
    stream = client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES, stream=True)
    next(iter(stream))
    del stream
    gc.collect()
    assert len(telemetry.llm_spans()) == 1


def test_error_event_mid_stream_propagates_and_marks_the_span(instrument, server, client):
    error = {"type": "overloaded_error", "message": "Overloaded"}
    telemetry = instrument()
    server.enqueue(ResponsePlan(error=error))
    stream = client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES, stream=True)
    seen = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        for event in stream:
            seen.append(event.type)
    assert "overloaded_error" in str(caught.value)
    assert seen[-1] == "content_block_delta"
    span = telemetry.only_llm_span()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"].startswith("anthropic.")
    # Input usage from message_start is still recorded: those tokens were billed.
    assert span.attributes["gen_ai.usage.input_tokens"] > 0


def test_truncated_stream_raises_the_same_error(instrument, server, client):
    def run():
        stream = client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES, stream=True)
        try:
            for _ in stream:
                pass
        except Exception as exc:  # noqa: BLE001 - the type is what is compared
            return type(exc)
        return None

    baseline, observed, telemetry = _uninstrumented_then_instrumented(server, instrument, ResponsePlan(truncate_after=3), run)
    assert baseline is not None and observed is baseline
    span = telemetry.only_llm_span()
    assert span.status.status_code == StatusCode.ERROR


def test_stream_without_usage_is_estimated(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(omit_usage=True, text="No fee applies to this invoice."))
    list(client.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=MESSAGES, stream=True))
    a = telemetry.only_llm_span().attributes
    assert a["tokentrace.usage.source"] == "estimate"
    assert a["gen_ai.usage.output_tokens"] > 0
    assert a["gen_ai.usage.input_tokens"] > 0


def test_stream_content_capture(instrument, server, client):
    telemetry = instrument(capture_content="SPAN_ONLY")
    server.enqueue(ResponsePlan(text="No fee."))
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=4096, messages=MESSAGES, thinking=THINKING) as stream:
        stream.until_done()
    output = json.loads(telemetry.only_llm_span().attributes["gen_ai.output.messages"])
    assert output[0]["parts"][-1] == {"type": "text", "content": "No fee."}
    assert output[0]["parts"][0]["type"] == "reasoning"
