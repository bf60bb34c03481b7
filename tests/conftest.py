"""Shared fixtures: in-memory OpenTelemetry, the local provider server, an instrument() factory.

Each test gets its own tracer and meter providers passed to ``tokentrace.instrument()``, so
spans and metric totals never leak between tests, and no global provider is touched.
"""

from __future__ import annotations

from typing import Any, Iterator, List

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import tokentrace
from tokentrace.core import estimate
from tokentrace.testing import ProviderServer


class Telemetry:
    """Spans and metrics one test produced, with small helpers to read them."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> List[ReadableSpan]:
        estimate.worker.flush(10)
        return list(self.exporter.get_finished_spans())

    def llm_spans(self) -> List[ReadableSpan]:
        return [s for s in self.spans() if s.kind == SpanKind.CLIENT and "gen_ai.operation.name" in (s.attributes or {})]

    def only_llm_span(self) -> ReadableSpan:
        spans = self.llm_spans()
        assert len(spans) == 1, f"expected exactly one LLM span, got {[s.name for s in spans]}"
        return spans[0]

    def points(self, metric: str) -> List[Any]:
        estimate.worker.flush(10)
        data = self.reader.get_metrics_data()
        found: List[Any] = []
        if data is None:
            return found
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for m in scope_metrics.metrics:
                    if m.name == metric:
                        found.extend(m.data.data_points)
        return found

    def total(self, metric: str, **where: Any) -> float:
        """Sum of a counter's points whose attributes match ``where`` (dots spelled as __)."""
        wanted = {k.replace("__", "."): v for k, v in where.items()}
        return sum(
            p.value for p in self.points(metric) if all((p.attributes or {}).get(k) == v for k, v in wanted.items())
        )


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


@pytest.fixture
def instrument(telemetry: Telemetry) -> Iterator[Any]:
    """Call ``instrument(**options)`` with the test's providers; uninstruments afterwards."""

    def _instrument(**options: Any) -> Telemetry:
        tokentrace.uninstrument()
        tokentrace.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, **options)
        return telemetry

    yield _instrument
    tokentrace.uninstrument()


@pytest.fixture(scope="session")
def provider_server() -> Iterator[ProviderServer]:
    with ProviderServer() as server:
        yield server


@pytest.fixture
def server(provider_server: ProviderServer) -> Iterator[ProviderServer]:
    """The session's server with a clean request log, plan queue and reroute table."""
    provider_server.requests.clear()
    provider_server._plans.clear()
    provider_server.reroutes.clear()
    yield provider_server
    provider_server._plans.clear()
    provider_server.reroutes.clear()
