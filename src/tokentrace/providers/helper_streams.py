"""The SDKs' stream helpers (``.stream()`` managers): a failure the helper raises is the call's failure.

``client.chat.completions.stream(...)``, ``client.responses.stream(...)`` and Anthropic's
``client.messages.stream(...)`` read the raw stream (tokentrace's proxy) and raise their own
errors: while reading (``LengthFinishReasonError``, a structured answer that does not validate,
a lifecycle error) and *after* reading, when the application asks for the final result
(``get_final_completion()`` raises ``LengthFinishReasonError`` for any answer cut at the token
limit, and a validation error for structured content that never got a finish reason;
``get_final_response()`` raises when no ``response.completed`` arrived). The HTTP stream itself
was fine, so the proxy alone would record a success.

So, for a raw stream a helper reads:

* its end at exhaustion is *held* (:class:`HeldState`): the moment is kept as the call's end
  (span end time, duration), and the call is settled when the application has the helper's
  result: ``get_final_*()`` returned (success) or raised (that error), the helper was closed
  (its ``with`` block ended), the proxy was garbage-collected, or the exit flush ran;
* an error the helper raises while reading ends the call with that error, after reading what
  the provider already sent (the usage report follows the chunk the helper stopped at, and it
  was billed), without waiting on the network.

Provider adapters only say which helper methods these wrappers go on.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterator, Optional, Tuple

from ..core.pipeline import Pipeline
from ..core.safety import report
from ..records import semconv as sc
from .proxies import end_cut, end_safely, own, read_trailing

Wrapped = Callable[..., Any]


class HeldState:
    """A stream state whose end at exhaustion waits for the helper's final result.

    Forwards everything to the provider's state; only the first ``end(None)`` right after the
    stream ran out is held (the end moment is kept on the call). Any later end, or an end with an
    error, settles the call; the provider's state ends its call once, whatever comes after.
    """

    __slots__ = ("inner", "call", "held", "just_exhausted")

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.call = getattr(inner, "call", None)
        self.held = False
        self.just_exhausted = False

    def observe(self, item: Any) -> Optional[bool]:
        return self.inner.observe(item)

    def wants_trailing(self) -> bool:
        wants = getattr(self.inner, "wants_trailing", None)
        return bool(wants()) if wants is not None else False

    def visible_on_fault(self, item: Any) -> bool:
        fallback = getattr(self.inner, "visible_on_fault", None)
        return True if fallback is None else fallback(item) is not False

    def exhausted(self) -> None:
        self.just_exhausted = True
        hook = getattr(self.inner, "exhausted", None)
        if hook is not None:
            hook()

    def end(self, error: Optional[BaseException] = None) -> None:
        if error is None and self.just_exhausted and not self.held:
            self.just_exhausted = False
            self.held = True
            if self.call is not None:
                self.call.mark_end()
            return
        if self.held and self.call is not None:
            # Ran to its end: not "incomplete" even when the exit flush is what settles it.
            self.call.record.response_attributes.pop(sc.TT_CALL_INCOMPLETE, None)
        self.held = False
        self.inner.end(error)


def _raw(helper: Any) -> Any:
    return getattr(helper, "_raw_stream", None)


def hold(helper: Any) -> None:
    """Hold the end of the raw stream ``helper`` reads (a tokentrace proxy), once."""
    try:
        raw = _raw(helper)
        state = getattr(raw, "_self_state", None)
        if state is None or isinstance(state, HeldState):
            return
        held = HeldState(state)
        raw._self_state = held
        own(held)
    except Exception as exc:
        report("stream helper hold", exc)


def settle(helper: Any, error: Optional[BaseException] = None, *, read: bool = True) -> None:
    """End the helper's call (with ``error`` when given), after reading what was already received."""
    raw = _raw(helper)
    state = getattr(raw, "_self_state", None)
    if state is None:
        return
    if read:
        try:
            read_trailing(raw.__wrapped__, state)
        except Exception as exc:
            report("stream helper trailing read", exc)
    end_safely(state, error)


def _watch(events: Iterator[Any], helper: Any) -> Iterator[Any]:
    try:
        yield from events
    except Exception as exc:
        settle(helper, exc)
        raise


async def _watch_async(events: AsyncIterator[Any], helper: Any) -> AsyncIterator[Any]:
    try:
        async for event in events:
            yield event
    except Exception as exc:
        settle(helper, exc, read=False)
        raise


# -- patch factories (the adapters list the helper classes) ----------------------------------------


def sync_events(pipeline: Pipeline) -> Callable[..., Any]:
    """For a helper's ``__stream__`` (called in its ``__init__``, after ``_raw_stream`` is set)."""

    def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        hold(instance)
        return _watch(wrapped(*args, **kwargs), instance)

    return wrapper


def async_events(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        hold(instance)
        return _watch_async(wrapped(*args, **kwargs), instance)

    return wrapper


def sync_final(pipeline: Pipeline) -> Callable[..., Any]:
    """For ``get_final_*()``: its result settles the call, its exception fails it."""

    def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        try:
            result = wrapped(*args, **kwargs)
        except Exception as exc:
            settle(instance, exc)
            raise
        settle(instance)
        return result

    return wrapper


def async_final(pipeline: Pipeline) -> Callable[..., Any]:
    async def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        try:
            result = await wrapped(*args, **kwargs)
        except Exception as exc:
            settle(instance, exc, read=False)
            raise
        settle(instance, read=False)
        return result

    return wrapper


def sync_close(pipeline: Pipeline) -> Callable[..., Any]:
    """For a helper's ``close()`` that closes the HTTP response, not the raw stream (OpenAI's)."""

    def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        raw = _raw(instance)
        state = getattr(raw, "_self_state", None)
        if state is not None:
            try:
                read_trailing(raw.__wrapped__, state)
            except Exception as exc:
                report("stream helper trailing read", exc)
        try:
            return wrapped(*args, **kwargs)
        finally:
            if state is not None:
                end_cut(state)

    return wrapper


def async_close(pipeline: Pipeline) -> Callable[..., Any]:
    async def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        try:
            return await wrapped(*args, **kwargs)
        finally:
            settle(instance, read=False)

    return wrapper
