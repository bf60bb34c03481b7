"""The Anthropic adapter (``anthropic`` 2.x): Messages calls on every client, one span each.

One wrapper on the SDK's choke point (``SyncAPIClient.request`` / ``AsyncAPIClient.request``)
covers ``messages.create`` (streamed or not), ``messages.stream()``, ``messages.parse()``,
``beta.messages.*``, the ``with_raw_response`` / ``with_streaming_response`` variants and the
``AnthropicBedrock`` / ``AnthropicVertex`` / other platform clients, which all post to
``/v1/messages`` before rewriting the path. Two more patches switch the SDK's own call span off
for the calls tokentrace traces (see :mod:`.native`).
"""

from __future__ import annotations

from typing import Any, Callable, List, Mapping, Optional, Tuple

from ...core.pipeline import Call, Pipeline
from ...core.safety import InstrumentationIntent, report
from ..base import Patch, ProviderInstrumentor
from . import native
from .request import build_record, client_target, fill_input_content, is_messages_call
from ..proxies import AsyncRawResponseProxy, SyncRawResponseProxy
from .streams import ResultHandler

__all__ = ["AnthropicInstrumentor"]

_MODULE = "anthropic._base_client"


def _start(pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: Mapping[str, Any]) -> Optional[Call]:
    """Build the record and open the call; ``None`` when the request is not traced or building failed.

    A budget's deliberate block (:class:`InstrumentationIntent`) propagates to the application.
    """
    try:
        options = args[1] if len(args) > 1 else kwargs.get("options")
        if not is_messages_call(options):
            return None
        body = options.json_data if isinstance(options.json_data, Mapping) else {}
        stream = bool(kwargs.get("stream", args[2] if len(args) > 2 else False))
        record = build_record(body, client_target(instance), stream)
        if pipeline.config.capture_any:
            fill_input_content(record, body)
    except Exception as exc:
        report("Anthropic request", exc)
        return None
    try:
        return pipeline.start(record)
    except InstrumentationIntent:
        raise
    except Exception as exc:
        report("Anthropic call start", exc)
        return None


def _sync_request(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        call = _start(pipeline, instance, args, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        token = pipeline.activate(call)
        marker = native.active_span.set(call.span)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            pipeline.finish(call, exc)
            raise
        finally:
            native.active_span.reset(marker)
            Pipeline.deactivate(token)
        return _sync_result(ResultHandler(call, pipeline), result)

    return wrapper


def _sync_result(handler: ResultHandler, result: Any) -> Any:
    try:
        proxy = handler.wrap_stream(result)
        if proxy is not None:
            return proxy
        if handler.is_raw(result):
            if handler.read_now(result):
                handler.complete(result.parse())
                return result
            return SyncRawResponseProxy(result, handler)
    except Exception as exc:
        report("Anthropic result", exc)
        handler.pipeline.finish(handler.call)
        return result
    handler.complete(result)
    return result


def _async_request(pipeline: Pipeline) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        call = _start(pipeline, instance, args, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        token = pipeline.activate(call)
        marker = native.active_span.set(call.span)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            pipeline.finish(call, exc)
            raise
        finally:
            native.active_span.reset(marker)
            Pipeline.deactivate(token)
        return await _async_result(ResultHandler(call, pipeline), result)

    return wrapper


async def _async_result(handler: ResultHandler, result: Any) -> Any:
    try:
        proxy = handler.wrap_stream(result)
        if proxy is not None:
            return proxy
        if handler.is_raw(result):
            if handler.read_now(result):
                handler.complete(await result.parse())
                return result
            return AsyncRawResponseProxy(result, handler)
    except Exception as exc:
        report("Anthropic result", exc)
        handler.pipeline.finish(handler.call)
        return result
    handler.complete(result)
    return result


class AnthropicInstrumentor(ProviderInstrumentor):
    name = "anthropic"
    module = "anthropic"

    def patches(self) -> List[Patch]:
        return [
            Patch(_MODULE, "SyncAPIClient.request", _sync_request),
            Patch(_MODULE, "AsyncAPIClient.request", _async_request),
            Patch(_MODULE, "start_api_call_span", native.start_api_call_span_wrapper),
            Patch(_MODULE, "inject_trace_headers", native.inject_trace_headers_wrapper),
        ]
