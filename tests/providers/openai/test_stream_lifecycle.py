"""A stream's telemetry is complete when the app's stream ends, and bounded while it runs.

* the usage chunk that follows ``finish_reason`` is read when the app stops at that chunk and the
  bytes are already there, without waiting for more;
* a call whose usage is known is settled before the app's ``close()`` / ``with`` exit returns;
* ``tokentrace.flush()`` completes an estimated call;
* no text is kept when usage will arrive, and an estimate of a huge text is extrapolated from a
  bounded sample.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import openai
import pytest
import tiktoken

import tokentrace
from tokentrace.core.estimate import SAMPLE_CHARS
from tokentrace.providers.openai import streams
from tokentrace.testing import ResponsePlan

USAGE = {
    "prompt_tokens": 1200,
    "completion_tokens": 80,
    "total_tokens": 1280,
    "prompt_tokens_details": {"cached_tokens": 1024},
    "completion_tokens_details": {"reasoning_tokens": 30},
}
REQUEST = dict(model="gpt-4o", messages=[{"role": "user", "content": "stream me"}], stream=True)


@pytest.fixture
def client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


def _finished_now(telemetry: Any) -> list:
    """Spans exported so far, without flushing anything first."""
    return [s for s in telemetry.exporter.get_finished_spans() if "gen_ai.operation.name" in (s.attributes or {})]


def _read_until_finish_reason(stream: Any) -> None:
    for chunk in stream:
        if chunk.choices and chunk.choices[0].finish_reason:
            break


def _assert_provider_usage(attributes: Any) -> None:
    assert attributes["tokentrace.usage.source"] == "provider"
    assert attributes["gen_ai.usage.input_tokens"] == 1200
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 1024
    assert attributes["gen_ai.usage.output_tokens"] == 80
    assert attributes["gen_ai.usage.reasoning.output_tokens"] == 30
    # gpt-4o: 176 uncached input at $2.50/M, 1024 cached at $1.25/M, 80 output at $10/M.
    assert attributes["tokentrace.cost.usd"] == pytest.approx((176 * 2.50 + 1024 * 1.25 + 80 * 10.0) / 1e6)


def test_app_stopping_at_finish_reason_in_a_with_block_gets_provider_usage(instrument: Any, server: Any, client: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=USAGE))
    with client.chat.completions.create(**REQUEST) as stream:
        _read_until_finish_reason(stream)
    # Settled before the with block ended: no flush, no waiting.
    spans = _finished_now(telemetry)
    assert len(spans) == 1
    _assert_provider_usage(spans[0].attributes)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="cache_read") == 1024


def test_app_stopping_at_finish_reason_then_close_gets_provider_usage(instrument: Any, server: Any, client: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=USAGE))
    stream = client.chat.completions.create(**REQUEST)
    _read_until_finish_reason(stream)
    stream.close()
    spans = _finished_now(telemetry)
    assert len(spans) == 1
    _assert_provider_usage(spans[0].attributes)


def test_usage_chunk_not_yet_received_is_not_waited_for(instrument: Any, server: Any, client: Any) -> None:
    # Each event comes 0.4 s after the previous one: when the app closes at finish_reason the
    # usage chunk is not there yet; close() does not wait for it, the call is estimated.
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=USAGE, chunks=1, chunk_delay_s=0.4))
    with client.chat.completions.create(**REQUEST) as stream:
        _read_until_finish_reason(stream)
    assert tokentrace.flush(10) is True
    attributes = telemetry.only_llm_span().attributes
    assert attributes["tokentrace.usage.source"] == "estimate"


def test_flush_completes_an_estimated_call(instrument: Any, server: Any, client: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=USAGE, chunks=5))
    with client.chat.completions.create(**REQUEST) as stream:
        next(iter(stream))
    assert tokentrace.flush(10) is True
    spans = _finished_now(telemetry)
    assert len(spans) == 1
    assert spans[0].attributes["tokentrace.usage.source"] == "estimate"
    assert telemetry.total("tokentrace.calls") == 1


def _peak_while_reading(client: Any) -> int:
    tracemalloc.start()
    try:
        for _ in client.chat.completions.create(**REQUEST):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_stream_keeps_no_text_when_usage_will_arrive(instrument: Any, server: Any, client: Any) -> None:
    text = "the quick brown fox jumps over the lazy dog " * 10_000  # 440,000 characters
    server.enqueue(ResponsePlan(usage=USAGE, text=text, chunks=300))
    baseline = _peak_while_reading(client)
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=USAGE, text=text, chunks=300))
    observed = _peak_while_reading(client)
    assert telemetry.only_llm_span().attributes["gen_ai.usage.output_tokens"] == 80
    # Keeping the 300 deltas of ~1,470 characters would hold ~450 KB.
    assert observed - baseline < 128 * 1024, (baseline, observed)


def test_a_huge_stream_without_usage_is_estimated_from_a_bounded_sample(instrument: Any, server: Any, client: Any) -> None:
    text = "the quick brown fox jumps over the lazy dog " * 10_000  # 440,000 characters
    assert len(text) > 4 * SAMPLE_CHARS
    # Without stream usage asked for (a host that rejects stream_options), the text is sampled.
    telemetry = instrument(stream_usage=False)
    server.enqueue(ResponsePlan(text=text, chunks=2_000, omit_usage=True))
    for _ in client.chat.completions.create(**REQUEST):
        pass
    attributes = telemetry.only_llm_span().attributes
    assert attributes["tokentrace.usage.source"] == "estimate"
    estimator = attributes["tokentrace.usage.estimator"]
    assert "+extrapolated" in estimator
    if "tiktoken" in estimator:
        exact = len(tiktoken.get_encoding(estimator.split(":")[1].split("+")[0].split(",")[0]).encode(text))
    else:
        exact = (len(text) + 3) // 4
    assert attributes["gen_ai.usage.output_tokens"] == pytest.approx(exact, rel=0.01)


@pytest.mark.parametrize("chunks", [1, 5])
def test_an_estimate_counts_every_chunks_text_however_the_text_is_split(instrument: Any, server: Any, client: Any, chunks: int) -> None:
    # The app closes at finish_reason before the usage chunk is there (each event 0.2 s after the
    # previous one): the estimate comes from the length of all the text the app read, whether the
    # chunks after the first went through the lean per-chunk path (ChatStreamState) or not.
    telemetry = instrument()
    text = "Retries, summaries and model variants all cost tokens; " * 4
    server.enqueue(ResponsePlan(text=text, usage=USAGE, chunks=chunks, chunk_delay_s=0.2))
    with client.chat.completions.create(**REQUEST) as stream:
        read = []
        for chunk in stream:
            read.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
            if chunk.choices and chunk.choices[0].finish_reason:
                break
    assert "".join(read) == text
    assert tokentrace.flush(10) is True
    attributes = telemetry.only_llm_span().attributes
    assert attributes["tokentrace.usage.source"] == "estimate"
    # No text is kept when usage will arrive: the count is the estimator's for the whole length,
    # the same as when the text arrives in one chunk.
    one_chunk = instrument()
    server.enqueue(ResponsePlan(text=text, usage=USAGE, chunks=1, chunk_delay_s=0.2))
    with client.chat.completions.create(**REQUEST) as stream:
        _read_until_finish_reason(stream)
    assert tokentrace.flush(10) is True
    expected = max(one_chunk.llm_spans(), key=lambda s: s.start_time).attributes["gen_ai.usage.output_tokens"]
    assert expected > 0
    assert attributes["gen_ai.usage.output_tokens"] == expected


def test_a_stream_read_to_its_end_is_ended_once_whatever_the_app_does_after(
    instrument: Any, server: Any, client: Any, monkeypatch: Any
) -> None:
    # close(), the with block's exit and garbage collection of a stream already read to its end
    # owe nothing: no trailing read and no second run of the stream's end.
    ends: list = []
    original = streams.StreamState.end
    monkeypatch.setattr(streams.StreamState, "end", lambda self, error=None: (ends.append(error), original(self, error))[1])
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=USAGE))
    with client.chat.completions.create(**REQUEST) as stream:
        list(stream)
        stream.close()
    del stream
    gc.collect()
    assert ends == [None]
    _assert_provider_usage(telemetry.only_llm_span().attributes)
