"""Wrappers around the google-genai methods that send exactly one request each.

The public ``generate_content`` may send several requests (automatic function calling,
automatic continuation) and returns only the last response's usage, so tokentrace wraps the
per-request methods ``Models._generate_content`` / ``_generate_content_stream`` /
``_embed_content`` and their ``AsyncModels`` twins: one span per billed request, and chats
(which call ``generate_content``) are covered too.

Every tokentrace step is guarded; the SDK's own exceptions reach the app unchanged.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

from ...attribution.propagation import register_provider_url
from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from ...records.call import CallRecord
from .. import flow
from ..lazy_streams import stream_wrappers
from . import extract
from .extract import GENERATE
from .streams import StreamState

Wrapped = Callable[..., Any]


def _with_model(model: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
    """The per-request methods take ``model`` as a keyword."""
    if "model" not in kwargs:
        raise TypeError("the request names no model keyword")
    return args, {**kwargs, "model": model}


def _policy(call: Call, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
    return flow.apply_policy_model(call, args, kwargs, _with_model, _PROVIDER)


_PROVIDER = "Gemini"


def _begin(pipeline: Pipeline, instance: Any, kwargs: Dict[str, Any], operation: str, stream: bool) -> Optional[Call]:
    """Build the request half and open the span; None means "call the SDK untouched"."""

    def build() -> CallRecord:
        record = extract.request_record(operation, instance._api_client, kwargs, stream)
        if pipeline.config.capture_any and operation == GENERATE:
            extract.capture_input(record, kwargs)
        return record

    return flow.open_call(pipeline, build, _PROVIDER, rewrites_model=True)


def _complete(pipeline: Pipeline, call: Call, result: Any, operation: str) -> None:
    try:
        if operation == GENERATE:
            extract.fill_generate(call.record, result, pipeline.config.capture_any)
        else:
            extract.fill_embed(call.record, result)
    except Exception as exc:
        report("Gemini response", exc)
    flow.finish(pipeline, call, _PROVIDER)


def sync_wrapper(operation: str) -> Callable[[Pipeline], Any]:
    def factory(pipeline: Pipeline) -> Any:
        def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            call = _begin(pipeline, instance, kwargs, operation, stream=False)
            if call is None:
                return wrapped(*args, **kwargs)
            args, kwargs = _policy(call, args, kwargs)
            result = flow.run_sync(pipeline, call, _PROVIDER, lambda: wrapped(*args, **kwargs))
            _complete(pipeline, call, result, operation)
            return result

        return wrapper

    return factory


def async_wrapper(operation: str) -> Callable[[Pipeline], Any]:
    def factory(pipeline: Pipeline) -> Any:
        async def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            call = _begin(pipeline, instance, kwargs, operation, stream=False)
            if call is None:
                return await wrapped(*args, **kwargs)
            args, kwargs = _policy(call, args, kwargs)
            result = await flow.run_async(pipeline, call, _PROVIDER, lambda: wrapped(*args, **kwargs))
            _complete(pipeline, call, result, operation)
            return result

        return wrapper

    return factory


def _begin_stream(pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Tuple[Call, Tuple[Any, ...], Dict[str, Any]]]:
    call = _begin(pipeline, instance, kwargs, GENERATE, stream=True)
    if call is None:
        return None
    args, kwargs = _policy(call, args, kwargs)
    return call, args, kwargs


#: ``_generate_content_stream`` is a generator function (the request goes out on the first
#: ``next``); its async twin sends the request when awaited and returns an async generator.
sync_stream_wrapper, async_stream_wrapper = stream_wrappers(_begin_stream, StreamState, _PROVIDER)


def build_request_wrapper(pipeline: Pipeline) -> Any:
    """``BaseApiClient._build_request``: strip tokentrace's attribution baggage before sending."""

    def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        request = wrapped(*args, **kwargs)
        try:
            # Every request of the client, streams' lazy first one included, goes to Gemini/Vertex.
            register_provider_url(getattr(request, "url", None))
            headers = getattr(request, "headers", None)
            if isinstance(headers, dict) and any(k.lower() == "baggage" for k in headers):
                from ...attribution.propagation import strip_attribution_baggage

                stripped = strip_attribution_baggage(headers)
                if isinstance(stripped, dict) and stripped is not headers:
                    request.headers = stripped
        except ImportError:
            pass
        except Exception as exc:
            report("Gemini baggage stripping", exc)
        return request

    return wrapper
