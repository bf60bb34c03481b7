"""Wrappers for SDKs patched at their public methods, where one method call sends one request.

The OpenAI adapter patches the SDK's single transport choke point; most other SDKs (Speakeasy's
``mistralai``, Fern's ``cohere``, ``ollama``, ``azure-ai-inference``) have no such point that
still sees the request's meaning, so their adapters patch each public method. What is left per
SDK is a :class:`MethodSpec`: how to read the request (``build``), the response (``fill``) and a
stream's items (``state``). The flow around them, with every tokentrace step guarded, is here once.

A stream result is wrapped in the proxy that offers exactly the protocol of the SDK's object
(:func:`stream_proxy`): a generator stays a generator, a closable context-managed stream stays one.
A generator's first step runs in the call's span (:mod:`.lazy_streams`): it is where a
generator-returning SDK sends its request.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from ..core.pipeline import Call, Pipeline
from ..core.safety import report
from ..records.call import CallRecord
from . import flow
from .lazy_streams import LazyAsyncGeneratorProxy, LazySyncIteratorProxy
from .proxies import (
    AsyncClosingStreamProxy,
    AsyncIteratorProxy,
    AsyncStreamProxy,
    StreamState,
    SyncIteratorProxy,
    SyncStreamProxy,
)

Wrapped = Callable[..., Any]
#: (SDK object the method is bound to, positional args, keyword args, content capture on) -> record.
Build = Callable[[Any, Tuple[Any, ...], Dict[str, Any], bool], Optional[CallRecord]]
#: (record, the SDK's result, content capture on): fills the response half of the record.
Fill = Callable[[CallRecord, Any, bool], None]


@dataclass(frozen=True)
class MethodSpec:
    """How one SDK method's request, response and stream translate into a call record."""

    #: The provider as named in tokentrace's own error reports ("Mistral").
    label: str
    build: Build
    fill: Fill
    #: Builds the stream state for a streamed call (``record.stream`` set by ``build``).
    state: Optional[Callable[[Call, Pipeline], StreamState]] = None


def proxy_class(stream: Any) -> type:
    """The proxy whose protocol matches the SDK's stream object."""
    kind = type(stream)
    if inspect.isgenerator(stream):  # may send its request on the first next() (ollama, cohere)
        return LazySyncIteratorProxy
    if inspect.isasyncgen(stream):
        return LazyAsyncGeneratorProxy
    if hasattr(kind, "__anext__"):
        if hasattr(kind, "__aenter__"):
            return AsyncStreamProxy if hasattr(kind, "close") else AsyncClosingStreamProxy
        return AsyncIteratorProxy
    if hasattr(kind, "__enter__"):
        return SyncStreamProxy
    return SyncIteratorProxy


def stream_proxy(pipeline: Pipeline, call: Call, spec: MethodSpec, stream: Any) -> Any:
    """The application's stream wrapped so its span ends with it; the stream itself on any fault."""
    try:
        if spec.state is None or not (hasattr(stream, "__next__") or hasattr(stream, "__anext__")):
            complete(pipeline, call, spec, stream)
            return stream
        return proxy_class(stream)(stream, spec.state(call, pipeline))
    except Exception as exc:
        report(f"{spec.label} stream proxy", exc)
        flow.finish(pipeline, call, spec.label)
        return stream


def complete(pipeline: Pipeline, call: Call, spec: MethodSpec, result: Any) -> None:
    try:
        spec.fill(call.record, result, pipeline.config.capture_any)
    except Exception as exc:
        report(f"{spec.label} response", exc)
    flow.finish(pipeline, call, spec.label)


def deliver(pipeline: Pipeline, call: Call, spec: MethodSpec, result: Any) -> Any:
    if call.record.stream:
        return stream_proxy(pipeline, call, spec, result)
    complete(pipeline, call, spec, result)
    return result


def _open(pipeline: Pipeline, spec: MethodSpec, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Call]:
    return flow.open_call(pipeline, lambda: spec.build(instance, args, kwargs, pipeline.config.capture_any), spec.label)


def sync_method(spec: MethodSpec) -> Callable[[Pipeline], Any]:
    """Patch factory for a synchronous method (its stream, if any, is returned by the call)."""

    def factory(pipeline: Pipeline) -> Any:
        def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            call = _open(pipeline, spec, instance, args, kwargs)
            if call is None:
                return wrapped(*args, **kwargs)
            result = flow.run_sync(pipeline, call, spec.label, lambda: wrapped(*args, **kwargs))
            return deliver(pipeline, call, spec, result)

        return wrapper

    return factory


def async_method(spec: MethodSpec) -> Callable[[Pipeline], Any]:
    """Patch factory for a coroutine method (an awaited stream comes back as an async iterator)."""

    def factory(pipeline: Pipeline) -> Any:
        async def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            call = _open(pipeline, spec, instance, args, kwargs)
            if call is None:
                return await wrapped(*args, **kwargs)
            result = await flow.run_async(pipeline, call, spec.label, lambda: wrapped(*args, **kwargs))
            return deliver(pipeline, call, spec, result)

        return wrapper

    return factory


def async_generator_method(spec: MethodSpec) -> Callable[[Pipeline], Any]:
    """Patch factory for an async generator *function* (cohere's ``AsyncV2Client.chat_stream``):
    calling it sends nothing; the request goes out on the first ``__anext__``."""

    def factory(pipeline: Pipeline) -> Any:
        def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            call = _open(pipeline, spec, instance, args, kwargs)
            if call is None:
                return wrapped(*args, **kwargs)
            try:
                stream = wrapped(*args, **kwargs)
            except BaseException as exc:
                flow.fail(pipeline, call, exc, spec.label)
                raise
            return stream_proxy(pipeline, call, spec, stream)

        return wrapper

    return factory
