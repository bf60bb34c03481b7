"""Async streams: the usage chunk after ``finish_reason`` is read when the app stops there.

The asyncio twins of the sync tests in ``test_stream_lifecycle.py``: an app that leaves its
``async for`` at the chunk with ``finish_reason`` and exits the ``async with`` (or awaits
``close()``) gets the provider's usage on the span, settled before the exit returns, when the
usage chunk has already been received; a usage chunk not yet sent is not waited for.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, List

import openai
import pytest

import tokentrace
from tokentrace.testing import ResponsePlan

from .test_stream_lifecycle import REQUEST, USAGE, _assert_provider_usage, _finished_now


@pytest.fixture
def async_client(server: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


async def _read_until_finish_reason(stream: Any) -> List[Any]:
    seen = []
    async for chunk in stream:
        seen.append(chunk)
        if chunk.choices and chunk.choices[0].finish_reason:
            break
    return seen


def _visible(chunk: Any) -> Any:
    """What a chunk says, without the per-response id and timestamp."""
    return [(c.delta.content, c.finish_reason) for c in chunk.choices], chunk.usage


def test_async_app_stopping_at_finish_reason_in_async_with_gets_provider_usage(instrument: Any, server: Any, async_client: Any) -> None:
    async def run() -> List[Any]:
        async with await async_client.chat.completions.create(**REQUEST) as stream:
            seen = await _read_until_finish_reason(stream)
        return seen

    server.enqueue(ResponsePlan(usage=USAGE))
    baseline = asyncio.run(run())
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=USAGE))
    seen = asyncio.run(run())
    # Settled before the async with block ended: no flush, no waiting.
    spans = _finished_now(telemetry)
    assert len(spans) == 1
    _assert_provider_usage(spans[0].attributes)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="reasoning") == 30
    # The app saw exactly the chunks it sees without tokentrace (the usage chunk stays hidden).
    assert [_visible(c) for c in seen] == [_visible(c) for c in baseline]
    assert len(seen) >= 2 and all(c.usage is None for c in seen)


def test_async_app_stopping_at_finish_reason_then_close_gets_provider_usage(instrument: Any, server: Any, async_client: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=USAGE))

    async def run() -> None:
        stream = await async_client.chat.completions.create(**REQUEST)
        await _read_until_finish_reason(stream)
        await stream.close()

    asyncio.run(run())
    spans = _finished_now(telemetry)
    assert len(spans) == 1
    _assert_provider_usage(spans[0].attributes)
    assert telemetry.total("tokentrace.cost") == pytest.approx((176 * 2.50 + 1024 * 1.25 + 80 * 10.0) / 1e6)


def test_async_usage_chunk_not_yet_received_is_not_waited_for(instrument: Any, server: Any, async_client: Any) -> None:
    # Each event comes 0.4 s after the previous one: when the app leaves at finish_reason the
    # usage chunk is not there yet; the exit does not wait for it, the call is estimated.
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=USAGE, chunks=1, chunk_delay_s=0.4))

    async def run() -> float:
        async with await async_client.chat.completions.create(**REQUEST) as stream:
            await _read_until_finish_reason(stream)
            left = time.perf_counter()
        return time.perf_counter() - left

    exit_s = asyncio.run(run())
    assert exit_s < 0.2, exit_s
    assert tokentrace.flush(10) is True
    attributes = telemetry.only_llm_span().attributes
    assert attributes["tokentrace.usage.source"] == "estimate"
