"""Streams stay transparent to the app and end their span exactly once with exact usage."""

from __future__ import annotations

import asyncio
import gc
from typing import Any, Dict, List

import openai
import pytest

import tokentrace
from tokentrace.testing import ResponsePlan

VOLATILE = ("id", "created")


def _shape(chunks: List[Any]) -> List[Dict[str, Any]]:
    """What the app can observe of each chunk, minus per-request ids and timestamps."""
    shaped = []
    for chunk in chunks:
        data = chunk.model_dump(exclude_unset=True)
        for key in VOLATILE:
            data.pop(key, None)
        shaped.append(data)
    return shaped


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


STREAM_USAGE = {
    "prompt_tokens": 1200,
    "completion_tokens": 80,
    "total_tokens": 1280,
    "prompt_tokens_details": {"cached_tokens": 1024},
    "completion_tokens_details": {"reasoning_tokens": 0},
}


def test_app_receives_exactly_the_chunks_it_would_without_tokentrace(instrument, server, client):
    request = dict(model="gpt-4o", messages=[{"role": "user", "content": "stream me"}], stream=True)
    baseline = _shape(list(client.chat.completions.create(**request)))
    assert server.requests[-1].json.get("stream_options") is None

    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=STREAM_USAGE))
    observed = _shape(list(client.chat.completions.create(**request)))

    assert server.requests[-1].json["stream_options"] == {"include_usage": True}
    assert observed == baseline
    assert all("usage" not in chunk for chunk in observed)
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.request.stream"] is True
    assert a["gen_ai.usage.input_tokens"] == 1200
    assert a["gen_ai.usage.cache_read.input_tokens"] == 1024
    assert a["gen_ai.usage.output_tokens"] == 80
    assert a["tokentrace.usage.source"] == "provider"
    assert a["gen_ai.response.time_to_first_chunk"] > 0
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("stop",)
    assert a["tokentrace.cost.usd"] == pytest.approx((176 * 2.5 + 1024 * 1.25 + 80 * 10) / 1e6, abs=1e-12)
    assert telemetry.points("gen_ai.client.operation.time_to_first_chunk")


def test_app_that_asked_for_usage_still_gets_the_usage_chunk(instrument, server, client):
    request = dict(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True, stream_options={"include_usage": True}
    )
    baseline = _shape(list(client.chat.completions.create(**request)))
    telemetry = instrument()
    observed = _shape(list(client.chat.completions.create(**request)))
    assert observed == baseline
    assert observed[-1]["choices"] == [] and observed[-1]["usage"]["prompt_tokens"] > 0
    assert telemetry.only_llm_span().attributes["gen_ai.usage.output_tokens"] == observed[-1]["usage"]["completion_tokens"]


def test_stream_as_context_manager_and_partial_consumption(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(chunks=6))
    with client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True) as stream:
        first = next(iter(stream))
        assert first.choices[0].delta.role == "assistant"
    spans = telemetry.llm_spans()
    assert len(spans) == 1
    # Closed before the usage chunk: usage is estimated locally and says so.
    a = spans[0].attributes
    assert a["tokentrace.usage.source"] == "estimate"


def test_stream_closed_explicitly_ends_span_once(instrument, server, client):
    telemetry = instrument()
    stream = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True)
    next(stream)
    stream.close()
    stream.close()
    assert len(telemetry.llm_spans()) == 1


def test_abandoned_stream_ends_span_when_garbage_collected(instrument, server, client):
    telemetry = instrument()
    stream = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True)
    next(stream)
    del stream
    gc.collect()
    assert len(telemetry.llm_spans()) == 1


def test_stream_failing_midway_propagates_the_sdk_error_and_marks_the_span(instrument, server, client):
    request = dict(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True)
    server.enqueue(ResponsePlan(truncate_after=2, chunks=5))
    with pytest.raises(Exception) as baseline:
        list(client.chat.completions.create(**request))
    telemetry = instrument()
    server.enqueue(ResponsePlan(truncate_after=2, chunks=5))
    with pytest.raises(Exception) as observed:
        list(client.chat.completions.create(**request))
    assert type(observed.value) is type(baseline.value)
    span = telemetry.only_llm_span()
    assert span.attributes["error.type"]
    assert span.status.status_code.name == "ERROR"


def test_chat_stream_helper_and_final_completion(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=STREAM_USAGE))
    with client.chat.completions.stream(model="gpt-4o", messages=[{"role": "user", "content": "x"}]) as stream:
        texts = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(texts) == final.choices[0].message.content
    assert final.usage is None  # the app did not ask for usage; tokentrace's request is invisible
    assert telemetry.only_llm_span().attributes["gen_ai.usage.input_tokens"] == 1200


def test_async_stream_iteration_and_context_manager(instrument, server):
    telemetry = instrument()

    async def main():
        client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
        server.enqueue(ResponsePlan(usage=STREAM_USAGE), ResponsePlan(usage=STREAM_USAGE))
        stream = await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True)
        first = [chunk async for chunk in stream]
        async with await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
        ) as stream2:
            second = [chunk async for chunk in stream2]
        return first, second

    first, second = asyncio.run(main())
    assert all(chunk.choices for chunk in first + second)
    spans = telemetry.llm_spans()
    assert len(spans) == 2
    assert all(s.attributes["gen_ai.usage.input_tokens"] == 1200 for s in spans)


def test_endpoint_without_stream_usage_is_estimated_off_thread(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(omit_usage=True, text="one two three four five six seven eight"))
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "count these words"}], stream=True))
    assert len(chunks) == 5
    a = telemetry.only_llm_span().attributes
    assert a["tokentrace.usage.source"] == "estimate"
    assert a["gen_ai.usage.output_tokens"] > 0
    assert a["tokentrace.usage.estimator"].startswith(("tiktoken:", "heuristic"))
    assert a["tokentrace.cost.status"] == "priced"


def test_estimation_falls_back_to_heuristic_when_no_encoding_loads(instrument, server, client, monkeypatch):
    import tiktoken

    from tokentrace.core import estimate

    def offline(name):
        raise ConnectionError("no network")

    monkeypatch.setattr(tiktoken, "get_encoding", offline)
    monkeypatch.setattr(estimate, "_encodings", estimate._EncodingCache())
    telemetry = instrument()
    text = "x" * 40
    server.enqueue(ResponsePlan(omit_usage=True, text=text))
    list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "y" * 20}], stream=True))
    a = telemetry.only_llm_span().attributes
    assert a["tokentrace.usage.estimator"] == "heuristic"
    assert a["gen_ai.usage.output_tokens"] == 10
    assert a["gen_ai.usage.input_tokens"] == 5


def test_hung_encoding_download_never_blocks_the_app(instrument, server, client, monkeypatch):
    import threading
    import time

    import tiktoken

    from tokentrace.core import estimate

    release = threading.Event()

    def hang(name):
        release.wait(30)
        raise ConnectionError("gave up")

    monkeypatch.setattr(tiktoken, "get_encoding", hang)
    monkeypatch.setattr(estimate, "_encodings", estimate._EncodingCache())
    monkeypatch.setattr(estimate, "ENCODING_LOAD_TIMEOUT_S", 0.2)
    telemetry = instrument()
    server.enqueue(ResponsePlan(omit_usage=True))
    started = time.perf_counter()
    list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True))
    elapsed = time.perf_counter() - started
    try:
        assert telemetry.only_llm_span().attributes["tokentrace.usage.estimator"] == "heuristic"
        # The app's stream finished long before the 30 s hang; the estimator gave up after 0.2 s.
        assert elapsed < 5
    finally:
        release.set()


def test_compatible_endpoint_rejecting_stream_options_is_retried_without_it(instrument, server, client):
    telemetry = instrument()
    error = {"message": "Unrecognized request argument supplied: stream_options", "type": "invalid_request_error", "param": None, "code": None}
    server.enqueue(ResponsePlan(status=400, error=error))
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True))
    assert chunks and all(c.choices for c in chunks)
    assert server.requests[-1].json.get("stream_options") is None
    list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True))
    assert server.requests[-1].json.get("stream_options") is None  # remembered for this host
    spans = telemetry.llm_spans()
    assert len(spans) == 2 and all(s.status.status_code.name != "ERROR" for s in spans)


def test_stream_usage_injection_can_be_turned_off(instrument, server, client):
    instrument(stream_usage=False)
    list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True))
    assert server.requests[-1].json.get("stream_options") is None
    tokentrace.uninstrument()
