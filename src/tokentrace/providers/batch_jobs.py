"""What every provider's batch support shares: remembering a batch created in this process (the
attribution in force, the ``create_batch`` span's context) and recording its requests later.

Batch requests are billed long after the creating call returns; their usage only appears when
the results are read. The adapters call :func:`record_completed` then, with the creation-time
attribution and a link to the ``create_batch`` span, and ``enforce=False`` (a budget cannot block
spend that has already happened).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from opentelemetry.trace import Link, SpanKind

from ..core.pipeline import Pipeline
from ..core.safety import report
from ..records.call import CallRecord
from . import flow
from .values import field

_MAX_REMEMBERED = 10_000
Wrapped = Callable[..., Any]


@dataclass
class Created:
    attribution: Any
    context: Any
    endpoint: str


class Registry:
    """Batches created in this process, their output files, and output files already recorded."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches: OrderedDict[str, Created] = OrderedDict()
        self.outputs: OrderedDict[str, str] = OrderedDict()
        self.settled: OrderedDict[str, None] = OrderedDict()

    @staticmethod
    def _put(table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        while len(table) > _MAX_REMEMBERED:
            table.popitem(last=False)

    def created(self, batch_id: str, info: Created) -> None:
        with self.lock:
            self._put(self.batches, batch_id, info)

    def output(self, file_id: str, batch_id: str) -> None:
        with self.lock:
            self._put(self.outputs, file_id, batch_id)

    def claim(self, file_id: str) -> bool:
        """True the first time an output file is recorded."""
        with self.lock:
            if file_id in self.settled:
                return False
            self._put(self.settled, file_id, None)
            return True


registry = Registry()


def begin_create(pipeline: Pipeline, provider: str, endpoint: str, attributes: Dict[str, Any]) -> Tuple[Any, Any, str]:
    """Start the ``create_batch`` span; (span, attribution snapshot, endpoint kind)."""
    try:
        attribution = pipeline.capture_attribution()
    except Exception as exc:
        report("OpenAI batch attribution", exc)
        attribution = None
    attributes = {"gen_ai.provider.name": provider, **attributes}
    attributes.update(getattr(attribution, "span_attributes", None) or {})
    span = pipeline.instruments.tracer.start_span("create_batch", kind=SpanKind.CLIENT, attributes=attributes)
    return span, attribution, endpoint


def end_create(span: Any, attribution: Any, endpoint: str, batch: Any, id_attribute: str) -> None:
    batch_id = field(batch, "id")
    if isinstance(batch_id, str) and batch_id:
        span.set_attribute(id_attribute, batch_id)
        registry.created(batch_id, Created(attribution, span.get_span_context(), endpoint))
    span.end()


def create_wrapper(is_async: bool, label: str, describe: Callable[[Dict[str, Any]], Tuple[str, str, Dict[str, Any]]],
                   id_attribute: str) -> Callable[[Pipeline], Any]:
    """Patch factory for a ``batches.create``: ``describe(kwargs)`` gives (provider, endpoint kind, span attributes)."""
    def factory(pipeline: Pipeline) -> Any:
        def begin(kwargs: Dict[str, Any]) -> Optional[Tuple[Any, Any, str]]:
            try:
                return begin_create(pipeline, *describe(kwargs))
            except Exception as exc:
                report(f"{label} create", exc)
                return None

        def end(started: Optional[Tuple[Any, Any, str]], batch: Any, error: Optional[BaseException]) -> None:
            if started is None:
                return
            try:
                if error is not None:
                    # Not record_exception(): its message and stacktrace may quote content.
                    pipeline.record_error(started[0], error)
                    started[0].end()
                else:
                    end_create(started[0], started[1], started[2], batch, id_attribute)
            except Exception as exc:
                report(f"{label} create end", exc)

        if is_async:
            async def async_wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
                started = begin(kwargs)
                try:
                    batch = await wrapped(*args, **kwargs)
                except BaseException as exc:
                    end(started, None, exc)
                    raise
                end(started, batch, None)
                return batch

            return async_wrapper

        def sync_wrapper(wrapped: Wrapped, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
            started = begin(kwargs)
            try:
                batch = wrapped(*args, **kwargs)
            except BaseException as exc:
                end(started, None, exc)
                raise
            end(started, batch, None)
            return batch

        return sync_wrapper

    return factory


def record_completed(pipeline: Pipeline, record: CallRecord, created: Optional[Created], label: str) -> None:
    """One billed batch request: a span with the creation-time attribution, linked to ``create_batch``."""
    record.batch = True
    links: List[Any] = [Link(created.context)] if created is not None and created.context is not None else []
    attribution = created.attribution if created is not None else None
    call = pipeline.start(record, attribution=attribution, links=links, enforce=False)
    flow.finish(pipeline, call, label)
