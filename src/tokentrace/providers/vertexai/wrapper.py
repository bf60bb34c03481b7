"""Wrappers around the Vertex AI SDK's per-request ``_GenerativeModel`` methods.

Each sends exactly one request: ``_generate_content(contents, *, generation_config, ...)``,
its streaming generator (the request goes out on the first ``next()``) and the async twins
(the streaming one awaits the request, then returns an async generator). Every tokentrace
step is guarded; the SDK's own results, streams and exceptions reach the app unchanged.

A tokentrace model policy cannot be applied: the model is fixed on the ``GenerativeModel``,
not named per request, so the rewrite declines and the span claims no policy.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from ...records.call import CallRecord
from .. import flow
from ..lazy_streams import stream_wrappers
from . import extract
from .streams import VertexStreamState

Wrapped = Callable[..., Any]
_PROVIDER = "Vertex AI"


def _request_kwargs(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """``contents`` may come positionally; every other argument is keyword-only."""
    return {**kwargs, "contents": args[0]} if args and "contents" not in kwargs else kwargs


def _begin(pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], stream: bool) -> Optional[Call]:
    def build() -> CallRecord:
        request = _request_kwargs(args, kwargs)
        record = extract.request_record(instance, request, stream)
        if pipeline.config.capture_any:
            extract.capture_input(record, instance, request)
        return record

    # The Vertex AI SDK fixes the model on the GenerativeModel: no per-request model to rewrite, so
    # a downgrade or rewrite policy blocks these calls (the record is not ``model_rewritable``).
    return flow.open_call(pipeline, build, _PROVIDER)


def _complete(pipeline: Pipeline, call: Call, result: Any) -> None:
    try:
        extract.fill(call.record, result, pipeline.config.capture_any)
    except Exception as exc:
        report("Vertex AI response", exc)
    flow.finish(pipeline, call, _PROVIDER)


def sync_wrapper(pipeline: Pipeline) -> Any:
    def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        call = _begin(pipeline, instance, args, kwargs, stream=False)
        if call is None:
            return wrapped(*args, **kwargs)
        result = flow.run_sync(pipeline, call, _PROVIDER, lambda: wrapped(*args, **kwargs))
        _complete(pipeline, call, result)
        return result

    return wrapper


def async_wrapper(pipeline: Pipeline) -> Any:
    async def wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        call = _begin(pipeline, instance, args, kwargs, stream=False)
        if call is None:
            return await wrapped(*args, **kwargs)
        result = await flow.run_async(pipeline, call, _PROVIDER, lambda: wrapped(*args, **kwargs))
        _complete(pipeline, call, result)
        return result

    return wrapper


def _begin_stream(pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[Tuple[Call, Tuple[Any, ...], Dict[str, Any]]]:
    call = _begin(pipeline, instance, args, kwargs, stream=True)
    return None if call is None else (call, args, kwargs)


#: The streaming generator sends its request on the first ``next()``; the async twin awaits the
#: request, then returns an async generator.
sync_stream_wrapper, async_stream_wrapper = stream_wrappers(_begin_stream, VertexStreamState, _PROVIDER)
