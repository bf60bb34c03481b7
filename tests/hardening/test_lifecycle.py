"""Lifecycle and stress: every stream ends its span exactly once, patching is fully reversible,
and concurrent threads and tasks each get their own span."""

from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any, Callable, Dict, List

import anthropic
import openai
import pytest
import wrapt

import tokentrace
from tokentrace.providers import load_instrumentors
from tokentrace.providers.base import _resolve
from tokentrace.testing import ResponsePlan

from .scenarios import (
    ANTHROPIC_REQUEST,
    OPENAI_REQUEST,
    anthropic_client,
    openai_async_calls,
    openai_async_client,
    openai_client,
)


def _openai_stream(server: Any) -> Any:
    return openai_client(server).chat.completions.create(stream=True, **OPENAI_REQUEST)


def _anthropic_stream(server: Any) -> Any:
    return anthropic_client(server).messages.create(stream=True, **ANTHROPIC_REQUEST)


STREAMS: Dict[str, Callable[[Any], Any]] = {"openai": _openai_stream, "anthropic": _anthropic_stream}
STREAM_ERRORS = (openai.APIError, anthropic.APIError, Exception)


def _take_one_then(action: str, stream: Any) -> None:
    it = iter(stream)
    next(it)
    if action == "close":
        stream.close()
    elif action == "abandon":
        del it, stream
        gc.collect()
    elif action == "exhaust_then_close":
        for _ in it:
            pass
        stream.close()


@pytest.mark.parametrize("provider", STREAMS)
@pytest.mark.parametrize("action", ["close", "abandon", "exhaust_then_close"])
def test_stream_ends_its_span_exactly_once(instrument: Any, server: Any, provider: str, action: str) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(chunks=5))
    _take_one_then(action, STREAMS[provider](server))
    gc.collect()
    spans = telemetry.llm_spans()
    assert len(spans) == 1, [s.name for s in spans]
    assert spans[0].end_time is not None


@pytest.mark.parametrize("provider", STREAMS)
def test_stream_left_early_from_a_with_block_ends_once(instrument: Any, server: Any, provider: str) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(chunks=5))
    with STREAMS[provider](server) as stream:
        for _ in stream:
            break
    gc.collect()
    assert len(telemetry.llm_spans()) == 1


@pytest.mark.parametrize("provider", STREAMS)
def test_stream_failing_midway_gives_the_sdk_error_and_one_error_span(instrument: Any, server: Any, provider: str) -> None:
    server.enqueue(ResponsePlan(chunks=6, truncate_after=3))
    with pytest.raises(Exception) as baseline:
        list(STREAMS[provider](server))
    telemetry = instrument()
    server.enqueue(ResponsePlan(chunks=6, truncate_after=3))
    with pytest.raises(type(baseline.value)) as observed:
        list(STREAMS[provider](server))
    assert str(observed.value) == str(baseline.value)
    gc.collect()
    span = telemetry.only_llm_span()
    assert span.attributes["error.type"]
    assert span.status.status_code.name == "ERROR"


def test_async_stream_abandoned_and_collected_ends_once(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(chunks=5))

    async def main() -> None:
        stream = await openai_async_client(server).chat.completions.create(stream=True, **OPENAI_REQUEST)
        await stream.__anext__()
        del stream

    asyncio.run(main())
    gc.collect()
    assert len(telemetry.llm_spans()) == 1


def _patch_targets() -> Dict[Any, Any]:
    """Every (owner, attribute) any adapter patches, mapped to what is there now."""
    found: Dict[Any, Any] = {}
    for instrumentor in load_instrumentors():
        for patch in instrumentor.patches():
            resolved = _resolve(patch)
            if resolved is not None:
                owner, name, _, own = resolved
                found[(owner, name)] = vars(owner).get(name) if isinstance(owner, type) else getattr(owner, name, None)
    return found


def test_a_thousand_instrument_cycles_leave_every_sdk_as_it_was(telemetry: Any, server: Any) -> None:
    tokentrace.uninstrument()
    before = _patch_targets()
    assert len(before) >= 8, "expected the patch targets of several SDKs"
    assert not any(isinstance(v, wrapt.FunctionWrapper) for v in before.values())
    for _ in range(1000):
        tokentrace.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
        tokentrace.uninstrument()
    after = _patch_targets()
    assert after.keys() == before.keys()
    changed = [key for key in before if after[key] is not before[key]]
    assert not changed, f"not restored: {changed}"
    # ... and the SDKs still work, untraced.
    openai_client(server).chat.completions.create(**OPENAI_REQUEST)
    assert telemetry.llm_spans() == []
    # One more cycle still traces exactly once (no stacked wrappers).
    tokentrace.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
    try:
        openai_client(server).chat.completions.create(**OPENAI_REQUEST)
        assert len(telemetry.llm_spans()) == 1
    finally:
        tokentrace.uninstrument()


def test_threads_and_asyncio_under_load_get_one_span_per_call(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    errors: List[BaseException] = []
    client = openai_client(server)

    def worker() -> None:
        try:
            for i in range(50):
                if i % 5 == 0:
                    list(client.chat.completions.create(stream=True, **OPENAI_REQUEST))
                else:
                    client.chat.completions.create(**OPENAI_REQUEST)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def async_worker() -> None:
        try:
            asyncio.run(openai_async_calls(server, 100))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)] + [threading.Thread(target=async_worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors[:3]
    spans = telemetry.llm_spans()
    assert len(spans) == 8 * 50 + 100
    assert len({s.context.span_id for s in spans}) == len(spans)
    assert all(s.attributes.get("gen_ai.usage.input_tokens") for s in spans)
    assert telemetry.total("tokentrace.calls") == 500
