"""A pytest plugin that runs another project's test session with tokentrace instrumented.

Loaded with ``-p tokentrace_sdk_plugin`` into the openai SDK's own test run (see
``test_sdk_own_tests.py``): tokentrace is instrumented before the first test with in-memory
OpenTelemetry providers, and at the end the number of LLM spans it recorded is written to the
file named by ``TOKENTRACE_SDK_SPANS``, so the caller can tell the run was really instrumented.
"""

from __future__ import annotations

import json
import os
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrace

_exporter = InMemorySpanExporter()


def pytest_configure(config: Any) -> None:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(_exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    tokentrace.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, configure_sdk=False)


def pytest_unconfigure(config: Any) -> None:
    from tokentrace.core import estimate

    estimate.worker.flush(10)
    spans = [s for s in _exporter.get_finished_spans() if "gen_ai.operation.name" in (s.attributes or {})]
    target = os.environ.get("TOKENTRACE_SDK_SPANS")
    if target:
        with open(target, "w") as handle:
            json.dump({"llm_spans": len(spans), "errors": sum(1 for s in spans if s.status.status_code.name == "ERROR")}, handle)
    tokentrace.uninstrument()
