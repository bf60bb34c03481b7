"""A pytest plugin that runs the anthropic SDK's own OpenTelemetry tests with tokentrace instrumented.

Loaded with ``-p tokentrace_anthropic_sdk_plugin`` into the SDK's test run (see
``test_sdk_own_tests.py``). tokentrace is instrumented before the first test, with in-memory
providers of its own, so a Messages call whose client traces itself gets the SDK's span
*borrowed*: tokentrace annotates it (usage, cost, attribution) and the SDK keeps creating,
describing and ending it.

The SDK's tests compare a span's whole attribute set with what the SDK records, so the spans
they read from their ``InMemorySpanExporter`` are shown without the keys tokentrace added (the
borrowed span knows them: keys the SDK had not set, and has not set since). Everything the SDK
recorded is left exactly as it recorded it; that is what the SDK's tests check. What tokentrace
added is checked here instead: every borrowed span must carry ``tokentrace.cost.status``, and
the counts are written to the file named by ``TOKENTRACE_SDK_SPANS`` for the caller.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from typing import Any, Dict, Tuple

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrace
from tokentrace.core.borrowed import BorrowedSpan

_own = InMemorySpanExporter()
_lock = threading.Lock()
#: (trace id, span id) -> the borrowed span, for every span tokentrace annotated.
_borrowed: Dict[Tuple[int, int], BorrowedSpan] = {}
_counts = {"borrowed_spans": 0, "without_cost_status": 0, "exported_borrowed": 0}


def _key(span: Any) -> Tuple[int, int]:
    context = span.get_span_context() if hasattr(span, "get_span_context") else span.context
    return context.trace_id, context.span_id


def _record_annotate(original: Any) -> Any:
    def annotate(self: BorrowedSpan, attributes: Any) -> None:
        original(self, attributes)
        with _lock:
            if _key(self) not in _borrowed:
                _counts["borrowed_spans"] += 1
            _borrowed[_key(self)] = self

    return annotate


def _hide_tokentrace_keys(original: Any) -> Any:
    def export(self: InMemorySpanExporter, spans: Any) -> Any:
        if self is _own:
            return original(self, spans)
        shown = []
        for span in spans:
            with _lock:
                borrowed = _borrowed.get(_key(span))
            if borrowed is None:
                shown.append(span)
                continue
            attributes = dict(span.attributes or {})
            with _lock:
                _counts["exported_borrowed"] += 1
                if "tokentrace.cost.status" not in attributes:
                    _counts["without_cost_status"] += 1
            added = borrowed.added
            view = copy.copy(span)
            view._attributes = {k: v for k, v in attributes.items() if k not in added}
            shown.append(view)
        return original(self, shown)

    return export


def pytest_configure(config: Any) -> None:
    BorrowedSpan.annotate = _record_annotate(BorrowedSpan.annotate)  # type: ignore[method-assign]
    InMemorySpanExporter.export = _hide_tokentrace_keys(InMemorySpanExporter.export)  # type: ignore[method-assign]
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(_own))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    tokentrace.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, configure_sdk=False)


def pytest_unconfigure(config: Any) -> None:
    tokentrace.flush(10)
    own = [s for s in _own.get_finished_spans() if "gen_ai.operation.name" in (s.attributes or {})]
    target = os.environ.get("TOKENTRACE_SDK_SPANS")
    if target:
        with open(target, "w") as handle:
            json.dump({**_counts, "own_llm_spans": len(own)}, handle)
    tokentrace.uninstrument()
