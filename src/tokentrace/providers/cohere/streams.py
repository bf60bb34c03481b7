"""Cohere v2 chat streams, read from the raw clients' ``chat_stream`` context managers.

``V2Client.chat_stream`` is a generator over ``RawV2Client.chat_stream``, a context manager that
sends the request on ``__enter__`` and yields an ``HttpResponse`` whose ``data`` iterates the
events; tokentrace wraps the manager and that iterator (the public method is bound on the client
instance at construction, so it cannot be the patch point).

Events are typed by ``type``: ``message-start`` (id), ``content-delta`` (text), ``message-end``
(``delta.finish_reason`` and ``delta.usage``, with the same ``billed_units`` as a plain call).
"""

from __future__ import annotations

from typing import Any, Optional

import wrapt

from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from .. import flow
from ..chunks import ChunkState
from ..proxies import AsyncGeneratorProxy, SyncIteratorProxy, end_safely
from ..values import field
from . import extract


class StreamState(ChunkState):
    label = "Cohere"
    __slots__ = ()

    def read(self, event: Any) -> None:
        kind = field(event, "type")
        if kind == "content-delta":
            text = field(field(field(field(event, "delta"), "message"), "content"), "text")
            if isinstance(text, str):
                self.texts.append(text)
        elif kind == "message-start":
            extract._answered_by_requested(self.call.record)
            event_id = field(event, "id")
            if isinstance(event_id, str) and event_id:
                self.call.record.response_id = event_id
        elif kind == "message-end":
            delta = field(event, "delta")
            reason = field(delta, "finish_reason")
            if isinstance(reason, str) and reason:
                self.reasons = [reason]
            record = self.call.record
            record.usage = extract.billed_usage(field(delta, "usage"), record)


class SyncStreamContextProxy(wrapt.ObjectProxy):
    """``RawV2Client.chat_stream``'s context manager: the request is sent by ``__enter__``; the
    ``HttpResponse`` it yields gets its event iterator wrapped, so the span follows the stream."""

    def __init__(self, manager: Any, call: Call, pipeline: Pipeline) -> None:
        super().__init__(manager)
        self._self_call = call
        self._self_pipeline = pipeline
        self._self_state: Optional[StreamState] = None

    def __enter__(self) -> Any:
        # Entered inside the public generator's first step, outside the patched call: the request
        # goes out in the call's span, so the HTTP client's span nests under it.
        token = flow.activate(self._self_pipeline, self._self_call, "Cohere")
        try:
            response = self.__wrapped__.__enter__()
        except BaseException as exc:
            flow.fail(self._self_pipeline, self._self_call, exc, "Cohere")
            raise
        finally:
            flow.deactivate(token, "Cohere")
        try:
            self._self_state = _wrap_events(response, self._self_call, self._self_pipeline, SyncIteratorProxy)
        except Exception as exc:
            report("Cohere stream proxy", exc)
            flow.finish(self._self_pipeline, self._self_call, "Cohere")
        return response

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            if self._self_state is not None:
                end_safely(self._self_state)


class AsyncStreamContextProxy(wrapt.ObjectProxy):
    """The async twin: ``AsyncRawV2Client.chat_stream``'s async context manager."""

    def __init__(self, manager: Any, call: Call, pipeline: Pipeline) -> None:
        super().__init__(manager)
        self._self_call = call
        self._self_pipeline = pipeline
        self._self_state: Optional[StreamState] = None

    async def __aenter__(self) -> Any:
        token = flow.activate(self._self_pipeline, self._self_call, "Cohere")
        try:
            response = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            flow.fail(self._self_pipeline, self._self_call, exc, "Cohere")
            raise
        finally:
            flow.deactivate(token, "Cohere")
        try:
            self._self_state = _wrap_events(response, self._self_call, self._self_pipeline, AsyncGeneratorProxy)
        except Exception as exc:
            report("Cohere stream proxy", exc)
            flow.finish(self._self_pipeline, self._self_call, "Cohere")
        return response

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            if self._self_state is not None:
                end_safely(self._self_state)


def _wrap_events(response: Any, call: Call, pipeline: Pipeline, proxy: type) -> StreamState:
    state = StreamState(call, pipeline)
    response._data = proxy(response._data, state)
    return state


def stream_wrapper(context_proxy: type) -> Any:
    """Patch factory for ``chat_stream`` on the raw clients (a (async) context manager function)."""

    def factory(pipeline: Pipeline) -> Any:
        def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            call = flow.open_call(pipeline, lambda: extract.chat_request(True)(instance, args, kwargs, pipeline.config.capture_any), "Cohere")
            if call is None:
                return wrapped(*args, **kwargs)
            try:
                manager = wrapped(*args, **kwargs)
            except BaseException as exc:
                flow.fail(pipeline, call, exc, "Cohere")
                raise
            try:
                return context_proxy(manager, call, pipeline)
            except Exception as exc:
                report("Cohere stream context", exc)
                flow.finish(pipeline, call, "Cohere")
                return manager

        return wrapper

    return factory
