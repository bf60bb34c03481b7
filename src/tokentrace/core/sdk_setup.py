"""Set up OpenTelemetry SDK providers from the standard ``OTEL_*`` variables, when the app has none.

Only when an exporter is actually named (``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` or an
``OTEL_EXPORTER_OTLP_*ENDPOINT``): installing a global provider is a one-time act in
OpenTelemetry, and doing it with nothing to export would stop the application from installing its
own later. Without an exporter, tokentrace's telemetry flows through the API's proxy objects to
whatever provider the application sets, before or after ``instrument()``.
"""

from __future__ import annotations

import logging
import os
from typing import List, Mapping, Optional

from opentelemetry import metrics, trace

logger = logging.getLogger("tokentrace")


def _exporters(environ: Mapping[str, str], signal: str) -> List[str]:
    named = environ.get(f"OTEL_{signal.upper()}_EXPORTER", "")
    if named:
        return [name.strip().lower() for name in named.split(",") if name.strip() and name.strip().lower() != "none"]
    endpoint_vars = ("OTEL_EXPORTER_OTLP_ENDPOINT", f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    return ["otlp"] if any(environ.get(var) for var in endpoint_vars) else []


def _protocol(environ: Mapping[str, str], signal: str) -> str:
    return (
        environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).lower()


def app_has_tracer_provider() -> bool:
    return not isinstance(trace.get_tracer_provider(), (trace.ProxyTracerProvider, trace.NoOpTracerProvider))


def app_has_meter_provider() -> bool:
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.metrics._internal import _ProxyMeterProvider

    return not isinstance(metrics.get_meter_provider(), (_ProxyMeterProvider, NoOpMeterProvider))


def configure_from_environment(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Install SDK providers for the exporters the environment names; returns what was set up."""
    environ = os.environ if environ is None else environ
    done: List[str] = []
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return done
    from opentelemetry.sdk.resources import Resource

    resource = Resource.create()
    span_exporters = _exporters(environ, "traces")
    if span_exporters and not app_has_tracer_provider():
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        provider = TracerProvider(resource=resource)
        for name in span_exporters:
            if name == "otlp":
                provider.add_span_processor(BatchSpanProcessor(_otlp_span_exporter(_protocol(environ, "traces"))))
            elif name == "console":
                provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
            else:
                logger.error("tokentrace: OTEL_TRACES_EXPORTER names %r, which tokentrace cannot set up; use otlp or console", name)
        trace.set_tracer_provider(provider)
        done.append("traces:" + ",".join(span_exporters))
    metric_exporters = _exporters(environ, "metrics")
    if metric_exporters and not app_has_meter_provider():
        from opentelemetry.sdk.metrics import MeterProvider

        readers = []
        for name in metric_exporters:
            reader = _metric_reader(name, environ)
            if reader is not None:
                readers.append(reader)
        metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))
        done.append("metrics:" + ",".join(metric_exporters))
    return done


def _otlp_span_exporter(protocol: str):  # type: ignore[no-untyped-def]
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    return OTLPSpanExporter()


def _metric_reader(name: str, environ: Mapping[str, str]):  # type: ignore[no-untyped-def]
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader

    if name == "otlp":
        if _protocol(environ, "metrics") == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        else:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        return PeriodicExportingMetricReader(OTLPMetricExporter())
    if name == "console":
        return PeriodicExportingMetricReader(ConsoleMetricExporter())
    if name == "prometheus":
        try:
            from opentelemetry.exporter.prometheus import PrometheusMetricReader
            from prometheus_client import start_http_server
        except ImportError:
            logger.error("tokentrace: OTEL_METRICS_EXPORTER=prometheus needs `pip install tokentrace[prometheus]`")
            return None
        host = environ.get("OTEL_EXPORTER_PROMETHEUS_HOST", "localhost")
        port = int(environ.get("OTEL_EXPORTER_PROMETHEUS_PORT", "9464"))
        start_http_server(port=port, addr=host)
        return PrometheusMetricReader()
    logger.error("tokentrace: OTEL_METRICS_EXPORTER names %r, which tokentrace cannot set up; use otlp, prometheus or console", name)
    return None
