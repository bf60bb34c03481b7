"""Stream and raw-response proxies shared by the provider adapters.

A proxy is a ``wrapt.ObjectProxy`` around the SDK's own object, so the application keeps every
attribute and method of it; only iteration, context management and closing pass through
tokentrace. Each proxy class offers exactly the protocol of the SDK object it wraps (a plain
generator has no context manager, a Stainless ``Stream`` has one), so wrapping never adds or
removes a capability the application could notice.

The provider-specific part is a *state* object: ``observe(item)`` reads what an item carries
(usage, model, finish reason) and may return ``False`` to keep an item tokentrace itself caused
from the application; ``end(error)`` completes the call. The proxies guarantee the call ends
exactly once, when the stream is exhausted, closed, fails or is garbage-collected, and that a
fault in the state never reaches the application.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Dict, Iterator, Optional, Protocol

import wrapt

from ..core.safety import report


class EndingState(Protocol):
    """What :func:`end_safely` needs of a stream's state: a way to settle the call."""

    def end(self, error: Optional[BaseException] = None) -> None: ...


class StreamState(EndingState, Protocol):
    def observe(self, item: Any) -> Optional[bool]:
        """Read one item; return ``False`` to hide it from the application."""
        ...


class RawResponseHandler(Protocol):
    def parsed(self, value: Any) -> Any:
        """What the application gets from ``parse()``: the value, or a stream proxy around it."""
        ...

    def abandon(self) -> None:
        """The response was closed or dropped unparsed: end the call with what is known."""
        ...

    def failed(self, error: BaseException) -> None:
        """The application's ``parse()`` raised (an empty or malformed body): the call failed."""
        ...


def own(state: StreamState) -> None:
    """Let the state end its call if the application never does (a stream still open at exit)."""
    call = getattr(state, "call", None)
    if call is not None:
        call.owner = state


def end_safely(state: EndingState, error: Optional[BaseException] = None) -> None:
    try:
        state.end(error)
    except Exception as exc:
        report(f"{type(state).__module__} stream end", exc)


def end_cut(state: EndingState) -> None:
    """End a call whose stream the application closed, left or dropped: if it had not ended yet
    (exhausted or failed), the stream was cut before its end (see ``CallRecord.stream_cut``)."""
    try:
        call = getattr(state, "call", None)
        if call is not None:
            if call.ended:
                return  # ended already (exhausted, failed, settled): the usual close() and GC
            call.record.stream_cut = True
    except Exception as exc:
        report(f"{type(state).__module__} stream cut", exc)
    end_safely(state)


def _exhausted(state: StreamState) -> None:
    """Tell a state that wants to know (OpenAI's host probe) that the stream ran to its end."""
    hook = getattr(state, "exhausted", None)
    if hook is None:
        return
    try:
        hook()
    except Exception as exc:
        report(f"{type(state).__module__} stream exhausted", exc)


def _deliver(state: StreamState, item: Any) -> bool:
    try:
        return state.observe(item) is not False
    except Exception as exc:
        return _fallback(state, item, exc)


def _fallback(state: StreamState, item: Any, exc: Exception) -> bool:
    """Whether the app sees ``item`` after the state's ``observe`` raised ``exc``."""
    report(f"{type(state).__module__} stream item", exc)
    try:
        # A state that can hide items it caused (OpenAI's usage chunk) must hide them even now.
        fallback = getattr(state, "visible_on_fault", None)
        return True if fallback is None else fallback(item) is not False
    except Exception as exc:
        report(f"{type(state).__module__} stream item fallback", exc)
        return True


#: Items read past the application's last one, at most, to reach a usage report already received.
TRAILING_ITEMS = 16


def _network_stream(stream: Any) -> Any:
    """The HTTP/1.1 connection stream under a Stainless stream's response (httpcore exposes it)."""
    try:
        network = stream.response.extensions.get("network_stream")
    except Exception:
        return None
    return network if callable(getattr(network, "read", None)) else None


def _trailing_target(stream: Any, state: StreamState) -> Any:
    """``(wants, network)`` when the state wants the items after the app's last one and the
    stream's connection can be read without waiting; ``None`` otherwise."""
    try:
        call = getattr(state, "call", None)
        if call is not None and call.ended:
            return None  # the usual close() or drop of a stream read to its end: nothing is owed
        wants = getattr(state, "wants_trailing", None)
        if wants is None or not wants():
            return None
        network = _network_stream(stream)
        return None if network is None else (wants, network)
    except Exception as exc:
        report("stream trailing read", exc)
        return None


@contextlib.contextmanager
def _bounded_reads(network: Any, bounded: Callable[[Any], Any]) -> Iterator[bool]:
    """The connection's ``read`` replaced by ``bounded(original read)`` inside the block, then
    restored; yields whether the replacement could be installed (sync and async trailing reads)."""
    try:
        original = network.read
    except Exception as exc:
        report("stream trailing read", exc)
        yield False
        return
    try:
        network.read = bounded(original)
    except Exception:
        yield False
        return
    try:
        yield True
    finally:
        try:
            del network.read
        except Exception:
            pass


def read_trailing(stream: Any, state: StreamState) -> None:
    """Before the app's ``close()``: read what the provider already sent after the app's last item.

    Apps often stop at the chunk with ``finish_reason``; the usage chunk tokentrace asked for
    comes right after it, usually in the same network read. A state that wants it says so
    (``wants_trailing()``); the socket is then read without waiting (timeout 0), so only bytes
    already received are parsed and the app's ``close()`` never blocks on the network. Items read
    here are observed, never delivered (the app closed the stream).
    """
    target = _trailing_target(stream, state)
    if target is None:
        return
    wants, network = target

    def bounded(original: Any) -> Any:
        def read_now(max_bytes: int, timeout: Optional[float] = None) -> Any:
            return original(max_bytes, timeout=0.0)

        return read_now

    with _bounded_reads(network, bounded) as installed:
        if not installed:
            return  # a stream that takes no attribute: nothing read, the call is estimated
        try:
            for _ in range(TRAILING_ITEMS):
                try:
                    item = stream.__next__()
                except Exception:  # ended, or nothing more received yet (a read that would wait)
                    break
                _deliver(state, item)
                if not wants():
                    break
        except Exception as exc:
            report("stream trailing read", exc)


#: How long an async trailing read may wait for bytes (seconds). anyio's ``fail_after(0)``
#: cancels before looking at the socket at all, so a zero timeout would never read anything;
#: one millisecond lets the event loop hand over bytes the kernel already holds, and no more.
ASYNC_TRAILING_WAIT_S = 0.001


async def aread_trailing(stream: Any, state: StreamState) -> None:
    """The asyncio twin of :func:`read_trailing`, before an async stream's ``close()`` / ``async with`` exit.

    The connection's reads are bounded by :data:`ASYNC_TRAILING_WAIT_S`: bytes already received
    are parsed, nothing not yet sent is waited for. The first read that would wait ends it.
    """
    target = _trailing_target(stream, state)
    if target is None:
        return
    wants, network = target

    def bounded(original: Any) -> Any:
        async def read_now(max_bytes: int, timeout: Optional[float] = None) -> Any:
            return await original(max_bytes, timeout=ASYNC_TRAILING_WAIT_S)

        return read_now

    with _bounded_reads(network, bounded) as installed:
        if not installed:
            return
        try:
            for _ in range(TRAILING_ITEMS):
                try:
                    item = await stream.__anext__()
                except Exception:  # ended, or nothing more received yet
                    break
                _deliver(state, item)
                if not wants():
                    break
        except Exception as exc:
            report("stream trailing read", exc)


class SyncIteratorProxy(wrapt.ObjectProxy):  # type: ignore[misc]
    """A synchronous iterator or generator (google-genai streams)."""

    def __init__(self, stream: Any, state: StreamState) -> None:
        super().__init__(stream)
        self._self_state = state
        own(state)

    def __iter__(self) -> SyncIteratorProxy:
        return self

    def __next__(self) -> Any:
        state = self._self_state
        try:
            while True:
                item = self.__wrapped__.__next__()
                try:  # _deliver() inlined: this runs once per chunk
                    if state.observe(item) is not False:
                        return item
                except Exception as exc:
                    if _fallback(state, item, exc):
                        return item
        except StopIteration:
            _exhausted(state)
            end_safely(state)
            raise
        except BaseException as exc:
            end_safely(state, exc)
            raise

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            end_cut(self._self_state)

    def __del__(self) -> None:
        end_cut(self._self_state)


class SyncStreamProxy(SyncIteratorProxy):
    """A Stainless ``Stream`` (openai, anthropic): also a context manager."""

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        read_trailing(self.__wrapped__, self._self_state)
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            end_cut(self._self_state)

    def close(self) -> None:
        read_trailing(self.__wrapped__, self._self_state)
        try:
            self.__wrapped__.close()
        finally:
            end_cut(self._self_state)

    def __del__(self) -> None:
        if not sys.is_finalizing():
            read_trailing(self.__wrapped__, self._self_state)
        end_cut(self._self_state)


class AsyncIteratorProxy(wrapt.ObjectProxy):  # type: ignore[misc]
    """An asynchronous iterator."""

    def __init__(self, stream: Any, state: StreamState) -> None:
        super().__init__(stream)
        self._self_state = state
        own(state)

    def __aiter__(self) -> AsyncIteratorProxy:
        return self

    async def __anext__(self) -> Any:
        state = self._self_state
        try:
            while True:
                item = await self.__wrapped__.__anext__()
                try:  # _deliver() inlined: this runs once per chunk
                    if state.observe(item) is not False:
                        return item
                except Exception as exc:
                    if _fallback(state, item, exc):
                        return item
        except StopAsyncIteration:
            _exhausted(state)
            end_safely(state)
            raise
        except BaseException as exc:
            end_safely(state, exc)
            raise

    def __del__(self) -> None:
        end_cut(self._self_state)


def async_closer(name: str) -> Any:
    """The proxy's awaitable ``name()`` (``close`` or ``aclose``, as the SDK spells it): what was
    already received after the app's last item (:func:`aread_trailing`), the SDK's own, then the
    call ends. One body for every async proxy, whatever the method's name."""

    async def closer(self: AsyncIteratorProxy) -> None:
        try:
            await aread_trailing(self.__wrapped__, self._self_state)
        finally:  # a task cancelled during that read still closes its stream, then is cancelled
            try:
                await getattr(self.__wrapped__, name)()
            finally:
                end_cut(self._self_state)

    closer.__name__ = closer.__qualname__ = name
    return closer


class AsyncGeneratorProxy(AsyncIteratorProxy):
    """An async generator (google-genai async streams): closed with ``aclose()``."""

    aclose = async_closer("aclose")


class AsyncContextStreamProxy(AsyncIteratorProxy):
    """An async stream that is also an async context manager; subclasses add the closing method
    under the SDK's name for it (:func:`async_closer`), so no proxy offers one the SDK lacks."""

    async def __aenter__(self) -> AsyncContextStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            await aread_trailing(self.__wrapped__, self._self_state)
        finally:  # a task cancelled during that read still closes its stream, then is cancelled
            try:
                result = await self.__wrapped__.__aexit__(*exc_info)
            finally:
                end_cut(self._self_state)
        return result


class AsyncStreamProxy(AsyncContextStreamProxy):
    """A Stainless ``AsyncStream``: an async context manager closed with ``await close()``."""

    close = async_closer("close")


class AsyncClosingStreamProxy(AsyncContextStreamProxy):
    """An async context-managed stream closed with ``aclose()`` (azure-ai-inference, LiteLLM)."""

    aclose = async_closer("aclose")


class _AsyncItems:
    """The iterator one ``async for`` over an :class:`AsyncIterableProxy` gets."""

    __slots__ = ("_items", "_state")

    def __init__(self, items: Any, state: StreamState) -> None:
        self._items = items
        self._state = state

    def __aiter__(self) -> _AsyncItems:
        return self

    async def __anext__(self) -> Any:
        state = self._state
        try:
            while True:
                item = await self._items.__anext__()
                if _deliver(state, item):
                    return item
        except StopAsyncIteration:
            _exhausted(state)
            end_safely(state)
            raise
        except BaseException as exc:
            end_safely(state, exc)
            raise

    async def aclose(self) -> None:
        close = getattr(self._items, "aclose", None)
        if close is not None:
            await close()


class AsyncIterableProxy(wrapt.ObjectProxy):  # type: ignore[misc]
    """An async *iterable* whose ``__aiter__`` hands out a new iterator over one underlying stream
    (aiobotocore's ``AioEventStream``, whose ``__aiter__`` returns a fresh async generator).

    Such a stream lets an app break out of ``async for`` and resume with another one later, so
    breaking out does not end the call: exhausting the stream, a failure, ``close()`` or garbage
    collection does.
    """

    def __init__(self, stream: Any, state: StreamState) -> None:
        super().__init__(stream)
        self._self_state = state
        own(state)

    def __aiter__(self) -> _AsyncItems:
        return _AsyncItems(self.__wrapped__.__aiter__(), self._self_state)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            end_cut(self._self_state)

    def __del__(self) -> None:
        end_cut(self._self_state)


def _parsed_safely(handler: RawResponseHandler, value: Any) -> Any:
    try:
        return handler.parsed(value)
    except Exception as exc:
        report("raw response parse", exc)
        _abandon_safely(handler)
        return value


def _failed_safely(handler: RawResponseHandler, error: BaseException) -> None:
    try:
        hook = getattr(handler, "failed", None)
        if hook is None:
            handler.abandon()
        else:
            hook(error)
    except Exception as exc:
        report("raw response failure", exc)


def _abandon_safely(handler: RawResponseHandler) -> None:
    try:
        handler.abandon()
    except Exception as exc:
        report("raw response end", exc)


class SyncRawResponseProxy(wrapt.ObjectProxy):  # type: ignore[misc]
    """A Stainless ``APIResponse`` / ``LegacyAPIResponse`` (``with_raw_response``, ``with_streaming_response``)."""

    def __init__(self, raw: Any, handler: RawResponseHandler) -> None:
        super().__init__(raw)
        self._self_handler = handler
        self._self_parsed: Dict[int, Any] = {}

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            value = self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            # What plain ``create()`` would have raised: the call failed, the app gets it as is.
            _failed_safely(self._self_handler, exc)
            raise
        key = id(value)
        if key not in self._self_parsed:
            self._self_parsed[key] = _parsed_safely(self._self_handler, value)
        return self._self_parsed[key]

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            if not self._self_parsed:
                _abandon_safely(self._self_handler)

    def __del__(self) -> None:
        if not self._self_parsed:
            _abandon_safely(self._self_handler)


class AsyncRawResponseProxy(wrapt.ObjectProxy):  # type: ignore[misc]
    """A Stainless ``AsyncAPIResponse``."""

    def __init__(self, raw: Any, handler: RawResponseHandler) -> None:
        super().__init__(raw)
        self._self_handler = handler
        self._self_parsed: Dict[int, Any] = {}

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            value = await self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            _failed_safely(self._self_handler, exc)
            raise
        key = id(value)
        if key not in self._self_parsed:
            self._self_parsed[key] = _parsed_safely(self._self_handler, value)
        return self._self_parsed[key]

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            if not self._self_parsed:
                _abandon_safely(self._self_handler)

    def __del__(self) -> None:
        if not self._self_parsed:
            _abandon_safely(self._self_handler)
