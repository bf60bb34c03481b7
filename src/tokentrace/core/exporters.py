"""OTLP exporters tokentrace creates itself, whose last export at exit is bounded in time.

An OTLP exporter retries a failed export for up to ``OTEL_EXPORTER_OTLP_TIMEOUT`` (10 s by
default), once per signal: a two-call program whose collector is down took 13 s to exit. During
the run that patience is right (a collector restarting should not lose data), at exit it is not:
the user waits for a process that is done. So each exporter tokentrace sets up is a pair: the
normal one, and one whose whole export is limited to its share of ``TOKENTRACE_SHUTDOWN_TIMEOUT``
seconds (default 2) that takes over once the process is exiting. An export still retrying on the
normal one at that moment is interrupted (it was failing anyway) and its data goes through the
bounded one. Exporters an application configured itself are never touched.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable, List, Mapping, Optional, Sequence

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

logger = logging.getLogger("tokentrace")

SHUTDOWN_TIMEOUT_ENV = "TOKENTRACE_SHUTDOWN_TIMEOUT"
DEFAULT_SHUTDOWN_TIMEOUT_S = 2.0
#: Signals that may each export once at exit (traces, metrics): each gets this share of the bound.
_SIGNALS = 2


def shutdown_timeout(environ: Optional[Mapping[str, str]] = None) -> float:
    """``TOKENTRACE_SHUTDOWN_TIMEOUT`` in seconds; the default, with a message, when unusable."""
    raw = (os.environ if environ is None else environ).get(SHUTDOWN_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_SHUTDOWN_TIMEOUT_S
    try:
        value = float(raw)
        if value >= 0 and value == value and value != float("inf"):
            return value
    except ValueError:
        pass
    logger.error(
        "tokentrace configuration problem: environment variable %s: expected a number of seconds "
        "(0 or more), got %r; using the default (%s) instead",
        SHUTDOWN_TIMEOUT_ENV,
        raw,
        DEFAULT_SHUTDOWN_TIMEOUT_S,
    )
    return DEFAULT_SHUTDOWN_TIMEOUT_S


def interpreter_exiting() -> bool:
    """True from the moment ``atexit`` handlers run (the main thread is then no longer alive)."""
    try:
        import sys

        return sys.is_finalizing() or not threading.main_thread().is_alive()
    except Exception:  # pragma: no cover - interpreter half torn down
        return True


class _ExitBound:
    """The switch both exporter kinds share: normal exporter first, bounded one once exiting."""

    def __init__(self, make: Callable[[Optional[float]], Any], exit_timeout: float) -> None:
        self._normal = make(None)
        # Made now, not at exit: an exporter may start threads, which Python refuses (3.12+) or
        # hangs on (3.11) once the interpreter is shutting down.
        self._bounded = make(exit_timeout)
        self._exiting = False
        self._lock = threading.Lock()

    def begin_exit(self) -> None:
        """From now on export through the bounded exporter; interrupt a retry still waiting."""
        with self._lock:
            if self._exiting:
                return
            self._exiting = True
        try:
            self._normal.shutdown()
        except Exception:  # pragma: no cover - an exporter's shutdown failing changes nothing here
            pass

    def current(self) -> Any:
        if not self._exiting and interpreter_exiting():
            self.begin_exit()
        return self._bounded if self._exiting else self._normal

    def shutdown(self) -> None:
        self.begin_exit()
        self._bounded.shutdown()


class ExitBoundedSpanExporter(SpanExporter):
    """A span exporter that gives up within its share of the exit bound once the process exits."""

    def __init__(self, make: Callable[[Optional[float]], SpanExporter], exit_timeout: float) -> None:
        self._switch = _ExitBound(make, exit_timeout)

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return self._switch.current().export(spans)

    def begin_exit(self) -> None:
        self._switch.begin_exit()

    def shutdown(self) -> None:
        self._switch.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class ExitBoundedMetricExporter(MetricExporter):
    """The same for metrics, with the normal exporter's temporality and aggregation preferences."""

    def __init__(self, make: Callable[[Optional[float]], MetricExporter], exit_timeout: float) -> None:
        self._switch = _ExitBound(make, exit_timeout)
        normal = self._switch._normal
        super().__init__(
            preferred_temporality=getattr(normal, "_preferred_temporality", None),
            preferred_aggregation=getattr(normal, "_preferred_aggregation", None),
        )

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        return self._switch.current().export(metrics_data, timeout_millis=timeout_millis, **kwargs)

    def begin_exit(self) -> None:
        self._switch.begin_exit()

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._switch.shutdown()

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True


def otlp_span_exporter(protocol: str, environ: Optional[Mapping[str, str]] = None) -> ExitBoundedSpanExporter:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # type: ignore[assignment]

    def make(timeout: Optional[float]) -> SpanExporter:
        return OTLPSpanExporter() if timeout is None else OTLPSpanExporter(timeout=timeout)

    return ExitBoundedSpanExporter(make, shutdown_timeout(environ) / _SIGNALS)


def otlp_metric_exporter(protocol: str, environ: Optional[Mapping[str, str]] = None) -> ExitBoundedMetricExporter:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter  # type: ignore[assignment]

    def make(timeout: Optional[float]) -> MetricExporter:
        return OTLPMetricExporter() if timeout is None else OTLPMetricExporter(timeout=timeout)

    return ExitBoundedMetricExporter(make, shutdown_timeout(environ) / _SIGNALS)


def begin_exit_on_atexit(exporters: List[Any]) -> None:
    """Switch ``exporters`` to their bounded twins when ``atexit`` handlers run.

    Registered after the providers that use them, so it runs before their own ``atexit``
    shutdown (handlers run last-registered first).
    """
    if not exporters:
        return
    import atexit

    def begin_exit() -> None:
        for exporter in exporters:
            try:
                exporter.begin_exit()
            except Exception:  # pragma: no cover
                pass

    atexit.register(begin_exit)
