"""OpenTelemetry providers for the CLI: a summary collector, plus OTLP export when configured."""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from .summary import SummaryProcessor


def _otlp_configured(signal: str) -> bool:
    named = os.environ.get(f"OTEL_{signal.upper()}_EXPORTER", "")
    if named:
        return "otlp" in [n.strip().lower() for n in named.split(",")]
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"))


def summary_tracer_provider() -> Tuple[TracerProvider, SummaryProcessor]:
    """A tracer provider feeding the summary, and OTLP too when the ``OTEL_*`` variables ask for it."""
    provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "tokentrace-cli")}))
    summary = SummaryProcessor()
    provider.add_span_processor(summary)
    if _otlp_configured("traces"):
        from ..core.sdk_setup import _otlp_span_exporter, _protocol

        provider.add_span_processor(BatchSpanProcessor(_otlp_span_exporter(_protocol(os.environ, "traces"))))
    return provider, summary


def otlp_meter_provider() -> Optional[Any]:
    if not _otlp_configured("metrics"):
        return None
    from opentelemetry.sdk.metrics import MeterProvider

    from ..core.sdk_setup import _metric_reader

    reader = _metric_reader("otlp", os.environ)
    return MeterProvider(resource=Resource.create(), metric_readers=[reader])
