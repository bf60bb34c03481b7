"""Groq (``groq`` SDK): chat completions (sync, async, streams) and embeddings.

Like the OpenAI adapter, patched at the Stainless client's choke point ``SyncAPIClient.request`` /
``AsyncAPIClient.request``: ``create``, ``with_raw_response`` and ``with_streaming_response`` all
go through it, retries included, so one span covers the logical call. Other endpoints (files,
models, audio) pass straight through. Groq reached through the ``openai`` SDK at
``api.groq.com/openai/v1`` is the OpenAI adapter's (``gen_ai.provider.name`` ``groq`` there too).
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from .. import flow
from ..base import Patch, ProviderInstrumentor
from . import extract
from .streams import ResultHandler

_LABEL = "Groq"


def _begin(pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Optional[Call]:
    def build() -> Any:
        options = args[1] if len(args) > 1 else kwargs.get("options")
        return extract.request_record(instance, options, bool(kwargs.get("stream", False)), pipeline.config.capture_any)

    return flow.open_call(pipeline, build, _LABEL)


def _deliver(pipeline: Pipeline, call: Call, result: Any) -> Any:
    try:
        return ResultHandler(call, pipeline).handle(result)
    except Exception as exc:
        report("Groq response", exc)
    flow.finish(pipeline, call, _LABEL)
    return result


def _sync_request(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        call = _begin(pipeline, instance, args, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        result = flow.run_sync(pipeline, call, _LABEL, lambda: wrapped(*args, **kwargs))
        return _deliver(pipeline, call, result)

    return wrapper


def _async_request(pipeline: Pipeline) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        call = _begin(pipeline, instance, args, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        result = await flow.run_async(pipeline, call, _LABEL, lambda: wrapped(*args, **kwargs))
        return _deliver(pipeline, call, result)

    return wrapper


class GroqInstrumentor(ProviderInstrumentor):
    name = "groq"
    module = "groq"

    def patches(self) -> List[Patch]:
        return [
            Patch("groq._base_client", "SyncAPIClient.request", _sync_request),
            Patch("groq._base_client", "AsyncAPIClient.request", _async_request),
        ]


__all__ = ["GroqInstrumentor"]
