"""Anthropic Message Batches: each succeeded result becomes one span when the app reads it from
``messages.batches.results()``, priced at batch rates, attributed as the batch was when it was
created and linked to the ``create_batch`` span (see :mod:`..batch_jobs`).

``results()`` returns a (async) JSONL decoder the app iterates; tokentrace wraps it and records a
result as the app receives it (a few attribute reads and one finished span per result). A result
read twice (``results()`` called again) is recorded once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional, Tuple

from ...core.pipeline import Pipeline
from ...core.safety import report
from ...records.call import CallRecord
from ..batch_jobs import Created, create_wrapper as _create_wrapper, record_completed, registry
from ..proxies import AsyncIteratorProxy, SyncIteratorProxy
from ..values import ClientTarget, field
from . import extract
from .request import client_target

_LABEL = "Anthropic batch"
BATCH_ID = "anthropic.batch.id"
CUSTOM_ID = "anthropic.batch.custom_id"
_MAX_SEEN = 100_000
_seen: OrderedDict[Tuple[str, str], None] = OrderedDict()
_seen_lock = threading.Lock()


def _first_time(batch_id: str, custom_id: str) -> bool:
    with _seen_lock:
        if (batch_id, custom_id) in _seen:
            return False
        _seen[(batch_id, custom_id)] = None
        while len(_seen) > _MAX_SEEN:
            _seen.popitem(last=False)
        return True


class ResultsState:
    """Records each succeeded result the application iterates; nothing to do at the end."""

    __slots__ = ("pipeline", "batch_id", "created", "target")

    def __init__(self, pipeline: Pipeline, batch_id: str, created: Optional[Created], target: ClientTarget) -> None:
        self.pipeline = pipeline
        self.batch_id = batch_id
        self.created = created
        self.target = target

    def observe(self, item: Any) -> None:
        result = field(item, "result")
        custom_id = field(item, "custom_id")
        if field(result, "type") != "succeeded" or not isinstance(custom_id, str) or not _first_time(self.batch_id, custom_id):
            return
        message = field(result, "message")
        model = field(message, "model")
        record = CallRecord(provider=self.target.provider, operation="chat", request_model=model if isinstance(model, str) else None,
                            server_address=self.target.address, server_port=self.target.port)
        extract.fill_message(record, message, False)
        record.response_attributes[BATCH_ID] = self.batch_id
        record.response_attributes[CUSTOM_ID] = custom_id
        record_completed(self.pipeline, record, self.created, _LABEL)

    def end(self, error: Optional[BaseException] = None) -> None:
        return None


def _describe(kwargs: Dict[str, Any]) -> Tuple[str, str, Dict[str, Any]]:
    requests = kwargs.get("requests")
    count = len(requests) if isinstance(requests, (list, tuple)) else None
    return "anthropic", "chat", ({"anthropic.batch.request_count": count} if count is not None else {})


def create_wrapper(is_async: bool) -> Callable[[Pipeline], Any]:
    return _create_wrapper(is_async, _LABEL, _describe, BATCH_ID)


def _wrap(pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], decoder: Any, proxy: type) -> Any:
    try:
        batch_id = args[0] if args else kwargs.get("message_batch_id")
        if not isinstance(batch_id, str):
            return decoder
        created = registry.batches.get(batch_id)
        if created is None:
            created = Created(pipeline.capture_attribution(), None, "chat")
        return proxy(decoder, ResultsState(pipeline, batch_id, created, client_target(instance._client)))
    except Exception as exc:
        report("Anthropic batch results", exc)
        return decoder


def results_wrapper(is_async: bool) -> Callable[[Pipeline], Any]:
    def factory(pipeline: Pipeline) -> Any:
        if is_async:
            async def async_wrapper(wrapped: Any, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
                return _wrap(pipeline, instance, args, kwargs, await wrapped(*args, **kwargs), AsyncIteratorProxy)

            return async_wrapper

        def sync_wrapper(wrapped: Any, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            return _wrap(pipeline, instance, args, kwargs, wrapped(*args, **kwargs), SyncIteratorProxy)

        return sync_wrapper

    return factory
