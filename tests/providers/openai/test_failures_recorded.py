"""Failures the app sees are failures on the span, whichever SDK surface raised them.

An empty 200 body makes plain ``create()`` raise while parsing; through ``with_raw_response``
or ``with_streaming_response`` the same error comes from the app's own ``parse()``. A
``.stream()`` helper raises ``LengthFinishReasonError`` when a structured answer was cut,
although the HTTP stream itself completed. Each must give the span status ERROR and the
fully qualified ``error.type``, and the app must get exactly the exception it gets plain.
"""

from __future__ import annotations

import asyncio
import json

import openai
import pytest
from opentelemetry.trace import StatusCode
from pydantic import BaseModel

from tokentrace.core.pipeline import error_type
from tokentrace.testing import ResponsePlan

MESSAGES = [{"role": "user", "content": "weather in Paris?"}]


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


def _plain_error(server, client):
    server.enqueue(ResponsePlan(body=b""))
    with pytest.raises(Exception) as plain:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    return plain.value


def _assert_failed(telemetry, exc):
    span = telemetry.only_llm_span()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == error_type(exc) == "json.JSONDecodeError"


def test_plain_create_records_the_parse_error(instrument, server, client):
    telemetry = instrument()
    exc = _plain_error(server, client)
    _assert_failed(telemetry, exc)


def test_with_raw_response_parse_raising_is_a_failure(instrument, server, client):
    plain = _plain_error(server, client)
    telemetry = instrument()
    server.enqueue(ResponsePlan(body=b""))
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    with pytest.raises(type(plain)) as caught:
        raw.parse()
    assert str(caught.value) == str(plain)
    _assert_failed(telemetry, caught.value)


def test_with_streaming_response_parse_raising_is_a_failure(instrument, server, client):
    plain = _plain_error(server, client)
    telemetry = instrument()
    server.enqueue(ResponsePlan(body=b""))
    with client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=MESSAGES) as response:
        with pytest.raises(type(plain)) as caught:
            response.parse()
    assert str(caught.value) == str(plain)
    _assert_failed(telemetry, caught.value)


def test_async_with_raw_response_parse_raising_is_a_failure(instrument, server):
    telemetry = instrument()

    async def run():
        client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
        server.enqueue(ResponsePlan(body=b""))
        async with client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=MESSAGES) as response:
            await response.parse()

    with pytest.raises(json.JSONDecodeError) as caught:
        asyncio.run(run())
    _assert_failed(telemetry, caught.value)


class Location(BaseModel):
    city: str
    temperature: float


def _cut_stream():
    """A structured-output stream the model cut at the token limit (finish_reason length)."""
    base = {"id": "chatcmpl-cut1", "object": "chat.completion.chunk", "created": 1733000000, "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_1"}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"content": '{"city":"Par'}, "logprobs": None, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "length"}]},
        {**base, "choices": [], "usage": {"prompt_tokens": 61, "completion_tokens": 5, "total_tokens": 66}},
    ]
    return ResponsePlan(events=[json.dumps(c) for c in chunks] + ["[DONE]"])


def test_stream_helper_raising_after_the_http_stream_is_a_failure(instrument, server, client):
    def run():
        with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, response_format=Location, max_tokens=5) as stream:
            for _ in stream:
                pass

    server.enqueue(_cut_stream())
    with pytest.raises(openai.LengthFinishReasonError) as plain:
        run()
    telemetry = instrument()
    server.enqueue(_cut_stream())
    with pytest.raises(openai.LengthFinishReasonError) as caught:
        run()
    assert str(caught.value) == str(plain.value)
    span = telemetry.only_llm_span()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "openai.LengthFinishReasonError"
    assert tuple(span.attributes["gen_ai.response.finish_reasons"]) == ("length",)


def test_async_stream_helper_raising_is_a_failure(instrument, server):
    telemetry = instrument()

    async def run():
        client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
        server.enqueue(_cut_stream())
        async with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, response_format=Location) as stream:
            async for _ in stream:
                pass

    with pytest.raises(openai.LengthFinishReasonError):
        asyncio.run(run())
    span = telemetry.only_llm_span()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "openai.LengthFinishReasonError"


def test_stream_helper_that_succeeds_stays_a_success(instrument, server, client):
    telemetry = instrument()
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, response_format=Location) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.parsed is not None
    span = telemetry.only_llm_span()
    assert span.status.status_code == StatusCode.UNSET
    assert "error.type" not in span.attributes
