"""The Anthropic adapter (``anthropic`` 2.x): Messages calls on every client, one span each.

One wrapper on the SDK's choke point (``SyncAPIClient.request`` / ``AsyncAPIClient.request``)
covers ``messages.create`` (streamed or not), ``messages.stream()``, ``messages.parse()``,
``beta.messages.*``, the ``with_raw_response`` / ``with_streaming_response`` variants and the
``AnthropicBedrock`` / ``AnthropicVertex`` / other platform clients, which all post to
``/v1/messages`` before rewriting the path. When the SDK traces the call itself (its native
OpenTelemetry spans, on by default in 2.x), the SDK's span is the call's one span, which
tokentrace annotates (see :mod:`.native`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from typing import Any, Callable, List, Optional, Tuple

from ...attribution.propagation import register_provider_url
from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from ...records.call import CallRecord
from .. import flow, helper_streams, retries
from ..base import Patch, ProviderInstrumentor
from ..proxies import AsyncRawResponseProxy, SyncRawResponseProxy
from . import batches, native
from .request import build_record, client_target, fill_input_content, is_messages_call
from .streams import ResultHandler

__all__ = ["AnthropicInstrumentor"]

_MODULE = "anthropic._base_client"
_BATCHES = "anthropic.resources.messages.batches"


_PROVIDER = "Anthropic"

#: ``messages.stream()`` / ``beta.messages.stream()`` helpers: (module, sync class, async class).
#: Their ``close()`` closes the raw stream (tokentrace's proxy), which settles the call.
_HELPERS = (
    ("anthropic.lib.streaming._messages", "MessageStream", "AsyncMessageStream"),
    ("anthropic.lib.streaming._beta_messages", "BetaMessageStream", "BetaAsyncMessageStream"),
)


def _build(pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: Mapping[str, Any]) -> Optional[CallRecord]:
    """The request half of the record; ``None`` for requests other than Messages calls.

    Every request of the client (``count_tokens`` and the like too) registers its origin, so the
    transport strips attribution baggage from it (:mod:`tokentrace.providers.transport`).
    """
    base_url = getattr(instance, "base_url", None)
    if getattr(instance, "_tokentrace_origin", None) is not base_url:  # once per client and base URL
        register_provider_url(base_url)
        try:
            instance._tokentrace_origin = base_url
        except Exception:
            pass
    options: Any = args[1] if len(args) > 1 else kwargs.get("options")
    if not is_messages_call(options):
        return None
    body = options.json_data if isinstance(options.json_data, Mapping) else {}
    stream = bool(kwargs.get("stream", args[2] if len(args) > 2 else False))
    record = build_record(body, client_target(instance), stream)
    if pipeline.config.capture_any:
        fill_input_content(record, body)
    return record


def _mark_native(call: Call) -> Optional[contextvars.Token]:
    """Tell the SDK's span hook which call's span it starts (see :mod:`.native`)."""
    if call.borrow is None:
        return None
    try:
        return native.pending_call.set(call)
    except Exception as exc:
        report("Anthropic native span", exc)
        return None


def _unmark_native(marker: Optional[contextvars.Token]) -> None:
    if marker is not None:
        try:
            native.pending_call.reset(marker)
        except Exception as exc:
            report("Anthropic native span", exc)


def _open(pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Optional[Call]:
    return flow.open_call(
        pipeline,
        lambda: _build(pipeline, instance, args, kwargs),
        _PROVIDER,
        borrow=lambda: native.sdk_traces(instance),
        rewrites_model=True,
    )


def _sync_request(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        call = _open(pipeline, instance, args, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        args, kwargs = flow.apply_policy_model(call, args, kwargs, flow.options_with_model, _PROVIDER)

        def send() -> Any:
            marker = _mark_native(call)
            try:
                return wrapped(*args, **kwargs)
            finally:
                _unmark_native(marker)

        result = flow.run_sync(pipeline, call, _PROVIDER, send)
        return _sync_result(ResultHandler(call, pipeline), result)

    return wrapper


def _sync_result(handler: ResultHandler, result: Any) -> Any:
    try:
        proxy = handler.wrap_stream(result)
        if proxy is not None:
            return proxy
        if handler.is_raw(result):
            if handler.read_now(result):
                try:
                    message = result.parse()
                except Exception as exc:
                    # The body plain ``create()`` could not parse either: the call failed.
                    flow.fail(handler.pipeline, handler.call, exc, _PROVIDER)
                    return result
                handler.complete(message)
                return result
            return SyncRawResponseProxy(result, handler)
        handler.complete(result)
    except Exception as exc:
        report("Anthropic result", exc)
        flow.finish(handler.pipeline, handler.call, _PROVIDER)
    return result


def _async_request(pipeline: Pipeline) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        call = _open(pipeline, instance, args, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        args, kwargs = flow.apply_policy_model(call, args, kwargs, flow.options_with_model, _PROVIDER)

        async def send() -> Any:
            marker = _mark_native(call)
            try:
                return await wrapped(*args, **kwargs)
            finally:
                _unmark_native(marker)

        result = await flow.run_async(pipeline, call, _PROVIDER, send)
        return await _async_result(ResultHandler(call, pipeline), result)

    return wrapper


async def _async_result(handler: ResultHandler, result: Any) -> Any:
    try:
        proxy = handler.wrap_stream(result)
        if proxy is not None:
            return proxy
        if handler.is_raw(result):
            if handler.read_now(result):
                try:
                    message = await result.parse()
                except Exception as exc:
                    # The body plain ``create()`` could not parse either: the call failed.
                    flow.fail(handler.pipeline, handler.call, exc, _PROVIDER)
                    return result
                handler.complete(message)
                return result
            return AsyncRawResponseProxy(result, handler)
        handler.complete(result)
    except Exception as exc:
        report("Anthropic result", exc)
        flow.finish(handler.pipeline, handler.call, _PROVIDER)
    return result


class AnthropicInstrumentor(ProviderInstrumentor):
    name = "anthropic"
    module = "anthropic"

    def patches(self) -> List[Patch]:
        return [
            Patch(_MODULE, "SyncAPIClient.request", _sync_request),
            Patch(_MODULE, "AsyncAPIClient.request", _async_request),
            Patch(_MODULE, "SyncAPIClient._sleep_for_retry", retries.sync_retry_hook(_PROVIDER)),
            Patch(_MODULE, "AsyncAPIClient._sleep_for_retry", retries.async_retry_hook(_PROVIDER)),
            Patch(_MODULE, "start_api_call_span", native.start_api_call_span_wrapper),
            Patch(_MODULE, "inject_trace_headers", native.inject_trace_headers_wrapper),
            # Message Batches: each result recorded when the app reads it (see .batches).
            Patch(_BATCHES, "Batches.create", batches.create_wrapper(False)),
            Patch(_BATCHES, "AsyncBatches.create", batches.create_wrapper(True)),
            Patch(_BATCHES, "Batches.results", batches.results_wrapper(False)),
            Patch(_BATCHES, "AsyncBatches.results", batches.results_wrapper(True)),
            # messages.stream(): errors the helper raises are the call's (see ..helper_streams).
            *(
                patch
                for module, sync_class, async_class in _HELPERS
                for patch in (
                    Patch(module, f"{sync_class}.__stream__", helper_streams.sync_events),
                    Patch(module, f"{async_class}.__stream__", helper_streams.async_events),
                    Patch(module, f"{sync_class}.get_final_message", helper_streams.sync_final),
                    Patch(module, f"{async_class}.get_final_message", helper_streams.async_final),
                )
            ),
        ]
