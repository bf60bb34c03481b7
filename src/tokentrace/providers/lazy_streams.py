"""Streams whose request goes out on the first ``next()``, after the patched method returned.

Several SDKs return a generator from their streaming method: google-genai's and the Vertex AI
SDK's ``_generate_content_stream``, ollama's ``chat(stream=True)``, cohere's ``chat_stream``.
Calling it sends nothing; the HTTP request is made inside the generator's first step, when the
application iterates — outside the wrapper, so outside the call's span and its baggage-free
context. Left alone, the HTTP client's span (from an HTTP instrumentation) would not nest under
the LLM span, and baggage injected there would be the application's, not the call's.

The proxies here make the call's span current for exactly that first step, then iterate as
their parents do. A generator that had already started gains nothing and loses nothing: the
first item is read in the call's context, which is where it belongs anyway.

:func:`stream_wrappers` is the patch-factory pair for methods that return such a stream (sync)
or await the request and return an async generator: the google-genai and Vertex AI adapters
differ only in how they open the call.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

from ..core.pipeline import Call, Pipeline
from ..core.safety import report
from . import flow
from .proxies import AsyncGeneratorProxy, StreamState, SyncIteratorProxy

Wrapped = Callable[..., Any]
#: (pipeline, the SDK object, args, kwargs) -> (the call, the args and kwargs to send), or None
#: for "call the SDK untouched".
Begin = Callable[[Pipeline, Any, Tuple[Any, ...], Dict[str, Any]], Optional[Tuple[Call, Tuple[Any, ...], Dict[str, Any]]]]
#: Builds the stream's state from its call.
StateFactory = Callable[[Call, Pipeline], StreamState]


def _activate(state: Any) -> Optional[object]:
    call = getattr(state, "call", None)
    pipeline = getattr(state, "pipeline", None)
    if call is None or pipeline is None or call.ended:
        return None
    return flow.activate(pipeline, call, "stream start")


class LazySyncIteratorProxy(SyncIteratorProxy):
    """A generator that sends its request on the first ``next()``: that step runs in the call's span."""

    def __init__(self, stream: Any, state: StreamState) -> None:
        super().__init__(stream, state)
        self._self_started = False

    def __next__(self) -> Any:
        if self._self_started:
            return super().__next__()
        self._self_started = True
        token = _activate(self._self_state)
        try:
            return super().__next__()
        finally:
            flow.deactivate(token, "stream start")


class LazyAsyncGeneratorProxy(AsyncGeneratorProxy):
    """An async generator that sends its request on the first ``__anext__()``, in the call's span."""

    def __init__(self, stream: Any, state: StreamState) -> None:
        super().__init__(stream, state)
        self._self_started = False

    async def __anext__(self) -> Any:
        if self._self_started:
            return await super().__anext__()
        self._self_started = True
        token = _activate(self._self_state)
        try:  # set and reset in this one coroutine frame: the same context, whatever is awaited
            return await super().__anext__()
        finally:
            flow.deactivate(token, "stream start")


def wrap_stream(pipeline: Pipeline, call: Call, stream: Any, proxy_class: type, state: StateFactory, provider: str) -> Any:
    """The application's stream wrapped so its span ends with it; the stream itself on any fault."""
    try:
        return proxy_class(stream, state(call, pipeline))
    except Exception as exc:
        report(f"{provider} stream proxy", exc)
        flow.finish(pipeline, call, provider)
        return stream


def stream_wrappers(begin: Begin, state: StateFactory, provider: str) -> Tuple[Callable[[Pipeline], Any], Callable[[Pipeline], Any]]:
    """Patch factories (sync, async) for a streaming method of the shape described above.

    Sync: a generator function; calling it cannot fail over the network, so only a fault in the
    call itself (a bad argument) ends the span there. Async: a coroutine that sends the request
    when awaited and returns an async generator, so the request's failure ends the span.
    """

    def sync_factory(pipeline: Pipeline) -> Any:
        def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            opened = begin(pipeline, instance, args, kwargs)
            if opened is None:
                return wrapped(*args, **kwargs)
            call, args, kwargs = opened
            try:
                stream = wrapped(*args, **kwargs)
            except BaseException as exc:
                flow.fail(pipeline, call, exc, provider)
                raise
            return wrap_stream(pipeline, call, stream, LazySyncIteratorProxy, state, provider)

        return wrapper

    def async_factory(pipeline: Pipeline) -> Any:
        async def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            opened = begin(pipeline, instance, args, kwargs)
            if opened is None:
                return await wrapped(*args, **kwargs)
            call, args, kwargs = opened
            stream = await flow.run_async(pipeline, call, provider, lambda: wrapped(*args, **kwargs))
            return wrap_stream(pipeline, call, stream, LazyAsyncGeneratorProxy, state, provider)

        return wrapper

    return sync_factory, async_factory
