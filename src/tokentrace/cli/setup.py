"""OpenTelemetry providers for the CLI: a summary collector, plus the exporters ``OTEL_*`` names.

The commands own their providers (they print a summary from the spans), so they set up the
exporters themselves, the same ones ``instrument()`` would: traces *and* metrics, so that
``OTEL_EXPORTER_OTLP_ENDPOINT=... tokentrace demo`` fills the Grafana dashboards too. Both
signals share one resource: ``OTEL_SERVICE_NAME``, else the program's name.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass, field
from typing import Any, List, Optional

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from ..core.exporters import shutdown_timeout
from ..core.sdk_setup import bounded_exporters, metric_readers, service_resource, span_processors
from .summary import SummaryProcessor


@dataclass
class CliTelemetry:
    """The providers a command uses, and what shuts them down within the exit bound."""

    tracer_provider: TracerProvider
    summary: SummaryProcessor
    meter_provider: Optional[MeterProvider]
    exporters: List[Any] = field(default_factory=list)
    _closed: bool = False

    def shutdown(self) -> None:
        """Flush and stop both providers; exporters give up within ``TOKENTRACE_SHUTDOWN_TIMEOUT``."""
        if self._closed:
            return
        self._closed = True
        for exporter in self.exporters:
            exporter.begin_exit()
        budget_ms = shutdown_timeout() * 1000
        self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown(timeout_millis=max(budget_ms, 1.0))


def cli_telemetry(default_service_name: Optional[str] = None) -> CliTelemetry:
    """Providers for a command: the summary, plus the span and metric exporters ``OTEL_*`` name."""
    resource = service_resource(default_service_name)
    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    summary = SummaryProcessor()
    tracer_provider.add_span_processor(summary)
    processors = span_processors(os.environ)
    for processor in processors:
        tracer_provider.add_span_processor(processor)
    readers = metric_readers(os.environ)
    meter_provider = MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False) if readers else None
    telemetry = CliTelemetry(tracer_provider, summary, meter_provider, bounded_exporters(processors, readers))
    atexit.register(telemetry.shutdown)
    return telemetry
