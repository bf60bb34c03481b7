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
import sys
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence

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


def program_name(argv: Optional[Sequence[str]] = None, orig_argv: Optional[Sequence[str]] = None) -> Optional[str]:
    """The running program's name, for ``service.name`` when ``OTEL_SERVICE_NAME`` is not set.

    ``python app.py`` gives ``app``, ``python -m jobs.nightly`` gives ``jobs.nightly``, a console
    script (``uvicorn``) its own name, a package's ``__main__.py`` the package's; ``python -c``
    and the interactive interpreter have no name (None).
    """
    argv = list(sys.argv if argv is None else argv)
    orig = list(getattr(sys, "orig_argv", []) if orig_argv is None else orig_argv)
    first = argv[0] if argv else ""
    if first == "-m" or (first.endswith("__main__.py") and "-m" in orig):
        if "-m" in orig and orig.index("-m") + 1 < len(orig):
            return orig[orig.index("-m") + 1]
    if first in ("", "-c", "-m", "-"):
        return None
    path = Path(first)
    name = path.stem if path.suffix in (".py", ".pyw", ".pyz") else path.name
    if name == "__main__":
        name = path.parent.name
    return name or None


def service_resource(default_name: Optional[str] = None) -> Any:
    """One resource for the spans and the metrics of the providers tokentrace creates.

    ``service.name`` comes from ``OTEL_SERVICE_NAME`` (or ``OTEL_RESOURCE_ATTRIBUTES``) as usual;
    where the SDK would say ``unknown_service:python``, it is ``default_name`` or the program's
    name, so spans and metrics of one process are found under the same service.
    """
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    resource = Resource.create()
    current = str(resource.attributes.get(SERVICE_NAME) or "")
    if not current or current.startswith("unknown_service"):
        name = default_name or program_name()
        if name:
            resource = resource.merge(Resource({SERVICE_NAME: name}))
    return resource


def span_processors(environ: Mapping[str, str]) -> List[Any]:
    """A batch span processor per exporter the environment names (otlp, console)."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    from .exporters import otlp_span_exporter

    processors: List[Any] = []
    for name in _exporters(environ, "traces"):
        if name == "otlp":
            processors.append(BatchSpanProcessor(otlp_span_exporter(_protocol(environ, "traces"), environ)))
        elif name == "console":
            processors.append(BatchSpanProcessor(ConsoleSpanExporter()))
        else:
            logger.error("tokentrace: OTEL_TRACES_EXPORTER names %r, which tokentrace cannot set up; use otlp or console", name)
    return processors


def metric_readers(environ: Mapping[str, str]) -> List[Any]:
    """A reader per exporter the environment names (otlp, prometheus, console)."""
    readers = []
    for name in _exporters(environ, "metrics"):
        reader = _metric_reader(name, environ)
        if reader is not None:
            readers.append(reader)
    return readers


def bounded_exporters(processors: Sequence[Any], readers: Sequence[Any]) -> List[Any]:
    """The exit-bounded exporters behind ``processors`` and ``readers`` (to switch at exit)."""
    found = [getattr(p, "span_exporter", None) for p in processors] + [getattr(r, "_exporter", None) for r in readers]
    return [e for e in found if hasattr(e, "begin_exit")]


def configure_from_environment(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Install SDK providers for the exporters the environment names; returns what was set up."""
    environ = os.environ if environ is None else environ
    done: List[str] = []
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return done
    resource = service_resource()
    exporters: List[Any] = []
    span_exporters = _exporters(environ, "traces")
    if span_exporters and not app_has_tracer_provider():
        from opentelemetry.sdk.trace import TracerProvider

        provider = TracerProvider(resource=resource)
        processors = span_processors(environ)
        for processor in processors:
            provider.add_span_processor(processor)
        exporters += bounded_exporters(processors, ())
        trace.set_tracer_provider(provider)
        done.append("traces:" + ",".join(span_exporters))
    metric_exporters = _exporters(environ, "metrics")
    if metric_exporters and not app_has_meter_provider():
        from opentelemetry.sdk.metrics import MeterProvider

        readers = metric_readers(environ)
        metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))
        exporters += bounded_exporters((), readers)
        done.append("metrics:" + ",".join(metric_exporters))
    if exporters:
        from .exporters import begin_exit_on_atexit

        begin_exit_on_atexit(exporters)
    return done


def _metric_reader(name: str, environ: Mapping[str, str]):  # type: ignore[no-untyped-def]
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader

    if name == "otlp":
        from .exporters import otlp_metric_exporter

        return PeriodicExportingMetricReader(otlp_metric_exporter(_protocol(environ, "metrics"), environ))
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
