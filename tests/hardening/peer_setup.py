"""What the peer scripts (``coexist_app.py``, ``peer_uninstrument_app.py``) share, in the peers venv.

``tracing()`` puts an in-memory exporter behind the global tracer provider; ``instrument_with_peer``
instruments tokentrace and another OpenAI instrumentation (``openinference``, ``otel-v2`` or
``openllmetry``) in the given order (``peer-first`` or ``tokentrace-first``); ``scopes`` reads
the spans of each instrumentation scope, then clears them.
"""

from __future__ import annotations

from typing import Any, Tuple

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrace


def tracing() -> Tuple[InMemorySpanExporter, TracerProvider]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter, provider


def peer(name: str) -> Any:
    if name == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor
    elif name == "otel-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    else:
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor
    return OpenAIInstrumentor()


def instrument_with_peer(name: str, order: str, provider: TracerProvider) -> Any:
    """The peer's instrumentor, instrumented beside tokentrace in ``order``."""
    other = peer(name)
    if order == "peer-first":
        other.instrument(tracer_provider=provider)
        tokentrace.instrument(tracer_provider=provider, providers=["openai"])
    else:
        tokentrace.instrument(tracer_provider=provider, providers=["openai"])
        other.instrument(tracer_provider=provider)
    return other


def scopes(exporter: InMemorySpanExporter) -> dict:
    found: dict = {}
    for span in exporter.get_finished_spans():
        scope = span.instrumentation_scope.name if span.instrumentation_scope else "?"
        found.setdefault(scope, []).append(span.name)
    exporter.clear()
    return found
