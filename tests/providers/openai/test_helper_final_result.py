"""``get_final_completion()`` / ``get_final_response()`` / Anthropic's ``get_final_message()``
raising after the stream was read is the call's failure, with the billed usage kept.

The SDK's helpers raise from the final-result accessor even when every event went through:
``get_final_completion()`` raises ``LengthFinishReasonError`` for *any* answer cut at the token
limit (iteration only raises it with a response format), and a validation error for
structured content whose stream never sent a finish reason; ``get_final_response()`` raises when
the stream ended ``response.incomplete``. The call's span must say ERROR with ``error.type``,
keep the usage the stream reported (it was billed) and end when the stream ended.

Prices (catalog): gpt-4o $2.50 / $10.00 per million input / output tokens; claude-haiku-4-5
$1.00 / $5.00.
"""

from __future__ import annotations

import asyncio
import json
import time

import anthropic
import openai
import pydantic
import pytest
from opentelemetry.trace import StatusCode
from pydantic import BaseModel

from tokentrace.core.pipeline import error_type
from tokentrace.testing import ResponsePlan, openai_usage

MESSAGES = [{"role": "user", "content": "weather in Paris?"}]


class Location(BaseModel):
    city: str
    temperature: float


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


def _chunks(content: str, finish_reason, usage) -> ResponsePlan:
    base = {"id": "chatcmpl-final1", "object": "chat.completion.chunk", "created": 1733000000, "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_1", "usage": None}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"content": content}, "logprobs": None, "finish_reason": None}]},
    ]
    if finish_reason is not None:
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish_reason}]})
    chunks.append({**base, "choices": [], "usage": usage})
    return ResponsePlan(events=[json.dumps(c) for c in chunks] + ["[DONE]"])


def _assert_failed_with_usage(span, exc, input_tokens, output_tokens, usd):
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == error_type(exc)
    assert span.attributes["gen_ai.usage.input_tokens"] == input_tokens
    assert span.attributes["gen_ai.usage.output_tokens"] == output_tokens
    assert span.attributes["tokentrace.usage.source"] == "provider"
    assert span.attributes["tokentrace.cost.usd"] == pytest.approx(usd)


def test_get_final_completion_length_error_after_full_iteration(instrument, server, client):
    """No response format: iteration is fine, only get_final_completion() raises."""

    def run():
        # The app asks for the usage chunk: the scripted stream sends one, as OpenAI does when asked.
        with client.chat.completions.stream(
            model="gpt-4o", messages=MESSAGES, max_tokens=4, stream_options={"include_usage": True}
        ) as stream:
            events = [event.type for event in stream]
            stream.get_final_completion()
        return events

    server.enqueue(_chunks("It is sunny", "length", openai_usage(1200, 4)))
    with pytest.raises(openai.LengthFinishReasonError) as plain:
        run()
    telemetry = instrument()
    server.enqueue(_chunks("It is sunny", "length", openai_usage(1200, 4)))
    with pytest.raises(openai.LengthFinishReasonError) as caught:
        run()
    assert str(caught.value) == str(plain.value)
    span = telemetry.only_llm_span()
    # 1200 x $2.50/M + 4 x $10/M = $0.003 + $0.00004
    _assert_failed_with_usage(span, caught.value, 1200, 4, 0.00304)
    assert span.attributes["error.type"] == "openai.LengthFinishReasonError"
    assert tuple(span.attributes["gen_ai.response.finish_reasons"]) == ("length",)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == 1200


def test_get_final_completion_validation_error_without_finish_reason(instrument, server, client):
    """Structured content that never got a finish reason is validated only by get_final_completion()."""
    content = '{"city":"Paris","temperature":"warm"}'
    telemetry = instrument()
    server.enqueue(_chunks(content, None, openai_usage(80, 14)))
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, response_format=Location) as stream:
        for _ in stream:
            pass
        with pytest.raises(pydantic.ValidationError) as caught:
            stream.get_final_completion()
        # Settled when get_final_completion() raised, not at the end of the with block.
        span = telemetry.only_llm_span()
    # 80 x $2.50/M + 14 x $10/M = $0.0002 + $0.00014
    _assert_failed_with_usage(span, caught.value, 80, 14, 0.00034)


def test_async_get_final_completion_length_error(instrument, server):
    telemetry = instrument()

    async def run():
        client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
        server.enqueue(_chunks("It is sunny", "length", openai_usage(1200, 4)))
        async with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, max_tokens=4) as stream:
            async for _ in stream:
                pass
            await stream.get_final_completion()

    with pytest.raises(openai.LengthFinishReasonError) as caught:
        asyncio.run(run())
    _assert_failed_with_usage(telemetry.only_llm_span(), caught.value, 1200, 4, 0.00304)


def _incomplete_response_stream() -> ResponsePlan:
    """A Responses stream cut at max_output_tokens: it ends with response.incomplete (usage included)."""
    response = {
        "id": "resp_final1", "object": "response", "created_at": 1733000000, "status": "in_progress", "background": False,
        "error": None, "incomplete_details": None, "instructions": None, "max_output_tokens": 16, "model": "gpt-4o-2024-08-06",
        "output": [], "parallel_tool_calls": True, "previous_response_id": None, "reasoning": {"effort": None, "summary": None},
        "service_tier": "default", "store": True, "temperature": 1.0, "text": {"format": {"type": "text"}}, "tool_choice": "auto",
        "tools": [], "top_p": 1.0, "truncation": "disabled", "usage": None, "user": None, "metadata": {},
    }
    item = {"id": "msg_final1", "type": "message", "status": "incomplete", "role": "assistant",
            "content": [{"type": "output_text", "text": "It is sunny and", "annotations": [], "logprobs": []}]}
    done = {**response, "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": [item],
            "usage": {"input_tokens": 500, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 16,
                      "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 516}}
    events = [
        ("response.created", {"type": "response.created", "sequence_number": 0, "response": response}),
        ("response.output_item.added", {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
                                        "item": {**item, "status": "in_progress", "content": []}}),
        ("response.output_item.done", {"type": "response.output_item.done", "sequence_number": 2, "output_index": 0, "item": item}),
        ("response.incomplete", {"type": "response.incomplete", "sequence_number": 3, "response": done}),
    ]
    return ResponsePlan(events=[(kind, json.dumps(data)) for kind, data in events])


def test_get_final_response_after_an_incomplete_stream(instrument, server, client):
    server.enqueue(_incomplete_response_stream())
    with pytest.raises(RuntimeError) as plain:
        with client.responses.stream(model="gpt-4o", input="weather in Paris?", max_output_tokens=16) as stream:
            stream.get_final_response()
    telemetry = instrument()
    server.enqueue(_incomplete_response_stream())
    with pytest.raises(RuntimeError) as caught:
        with client.responses.stream(model="gpt-4o", input="weather in Paris?", max_output_tokens=16) as stream:
            stream.get_final_response()
    assert str(caught.value) == str(plain.value)
    # 500 x $2.50/M + 16 x $10/M = $0.00125 + $0.00016
    _assert_failed_with_usage(telemetry.only_llm_span(), caught.value, 500, 16, 0.00141)


def test_final_result_that_succeeds_settles_at_once_and_ends_when_the_stream_did(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=openai_usage(300, 20)))
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, response_format=Location) as stream:
        for _ in stream:
            pass
        time.sleep(0.3)  # the app works on between the end of the stream and asking for the result
        final = stream.get_final_completion()
        span = telemetry.only_llm_span()  # settled by get_final_completion(), inside the with block
    assert final.choices[0].message.parsed is not None
    assert span.status.status_code == StatusCode.UNSET
    assert "error.type" not in span.attributes
    assert (span.end_time - span.start_time) / 1e9 < 0.25  # the span ended when the stream did
    assert span.attributes["gen_ai.usage.output_tokens"] == 20


def test_helper_read_without_final_result_settles_at_close(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=openai_usage(300, 20)))
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        for _ in stream:
            pass
        assert telemetry.llm_spans() == []  # held until the app has the helper's result
    span = telemetry.only_llm_span()
    assert span.status.status_code == StatusCode.UNSET
    # 300 x $2.50/M + 20 x $10/M = $0.00075 + $0.0002
    assert span.attributes["tokentrace.cost.usd"] == pytest.approx(0.00095)


def test_anthropic_get_final_message_validation_error_keeps_the_billed_usage(instrument, server):
    """``output_format`` content that does not validate: the helper raises at content_block_stop,
    before message_delta (the billed output count); that count is read from what already arrived."""
    claude = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    usage = {"input_tokens": 900, "output_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}

    def run():
        with claude.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES, output_format=Location) as stream:
            stream.get_final_message()

    server.enqueue(ResponsePlan(text='{"city":"Paris","temperature":"warm"}', usage=usage))
    with pytest.raises(pydantic.ValidationError) as plain:
        run()
    telemetry = instrument()
    server.enqueue(ResponsePlan(text='{"city":"Paris","temperature":"warm"}', usage=usage))
    with pytest.raises(pydantic.ValidationError) as caught:
        run()
    assert str(caught.value) == str(plain.value)
    # 900 x $1/M + 40 x $5/M = $0.0009 + $0.0002
    _assert_failed_with_usage(telemetry.only_llm_span(), caught.value, 900, 40, 0.0011)
