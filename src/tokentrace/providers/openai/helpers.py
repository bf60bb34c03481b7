"""The SDK's ``.stream()`` helpers: a failure the helper raises is the call's failure.

``client.chat.completions.stream(...)`` and ``client.responses.stream(...)`` read the raw stream
(tokentrace's proxy) and raise their own errors while doing so: ``LengthFinishReasonError`` and
``ContentFilterFinishReasonError`` when a structured-output answer was cut, a parse error, a
lifecycle error. The HTTP stream itself was fine, so the proxy alone would record a success. The
helpers' event generators (``__stream__``) are wrapped: an exception they raise ends the call with
that exception (the call ends once, so an error the proxy already recorded stays as it was),
and reaches the application unchanged.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterator, Tuple

from ...core.pipeline import Pipeline
from ..proxies import end_safely

HELPER_MODULES = (
    ("openai.lib.streaming.chat._completions", "ChatCompletionStream", "AsyncChatCompletionStream"),
    ("openai.lib.streaming.responses._responses", "ResponseStream", "AsyncResponseStream"),
)


def _fail(helper: Any, error: BaseException) -> None:
    state = getattr(getattr(helper, "_raw_stream", None), "_self_state", None)
    if state is not None:
        end_safely(state, error)


def _watch(events: Iterator[Any], helper: Any) -> Iterator[Any]:
    try:
        yield from events
    except Exception as exc:
        _fail(helper, exc)
        raise


async def _watch_async(events: AsyncIterator[Any], helper: Any) -> AsyncIterator[Any]:
    try:
        async for event in events:
            yield event
    except Exception as exc:
        _fail(helper, exc)
        raise


def sync_helper(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        return _watch(wrapped(*args, **kwargs), instance)

    return wrapper


def async_helper(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        return _watch_async(wrapped(*args, **kwargs), instance)

    return wrapper
