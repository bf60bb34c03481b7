"""Session fixtures: real Phoenix and Prometheus, filled once with the demo's telemetry.

The run is shaped like production: tokentrace exports spans over OTLP/HTTP to Phoenix (batched,
as an application would) and serves its metrics on a Prometheus ``/metrics`` endpoint that a
real Prometheus scrapes every second. The workload runs twice with scrapes in between, so the
counters have a history and ``rate()`` / ``increase()`` queries have something to work on.

The ``/metrics`` page Prometheus scrapes is the OpenTelemetry Prometheus exporter's own output
(``generate_latest`` over its registry, exactly what its HTTP server returns), published after
each run completes rather than live. A scrape in the middle of a run would give each series a
different history, and the dashboard tests could then only check rough bounds; with whole runs,
every series has the same history, so ``increase()`` scales every series by the same factor and
the panels' shares can be checked exactly against the spans.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

import tokentrace
from tokentrace.core import estimate
from tokentrace.testing import ProviderServer

from .backends import ALERT_RULES, Phoenix, Prometheus, find_phoenix, find_prometheus, free_port, wait_until
from .workload import run_known_workload

#: How many times the workload runs; every expected total is this many times one run's.
RUNS = 2


def _demo_workload() -> Optional[Callable[[ProviderServer], Any]]:
    """The ``tokentrace demo`` workload, once the CLI ships it."""
    try:
        from tokentrace.cli.demo import run_workload
    except ImportError:
        return None
    return run_workload


@dataclass
class BackendRun:
    """What one instrumented run sent, and the backends holding it."""

    phoenix: Phoenix
    prometheus: Prometheus
    project: str
    #: Every span the application's SDK finished, as it handed them to the exporters.
    emitted: List[ReadableSpan]
    used_demo: bool
    #: The spend ledger file the same run wrote, and when the run started (epoch seconds).
    ledger: Optional[str] = None
    started: float = 0.0
    _phoenix_spans: Optional[List[Dict[str, Any]]] = field(default=None, repr=False)

    def phoenix_spans(self) -> List[Dict[str, Any]]:
        if self._phoenix_spans is None:
            self._phoenix_spans = self.phoenix.spans(self.project)
        return self._phoenix_spans

    def emitted_llm_spans(self) -> List[ReadableSpan]:
        return [s for s in self.emitted if "gen_ai.provider.name" in (s.attributes or {})]


@pytest.fixture(scope="session")
def phoenix_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    executable = find_phoenix()
    if executable is None:
        pytest.skip("Arize Phoenix is not installed: run .ci/install-backends.sh (or set TOKENTRACE_PHOENIX)")
    server = Phoenix(executable, tmp_path_factory.mktemp("phoenix")).start()
    yield server
    server.stop()


class MetricsEndpoint:
    """``/metrics`` for a dedicated registry (the global one belongs to the application)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._page = b""
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = endpoint._page
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.target = f"127.0.0.1:{self._httpd.server_address[1]}"

    def publish(self) -> None:
        self._page = generate_latest(self.registry)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="session")
def metrics_endpoint() -> Iterator[MetricsEndpoint]:
    endpoint = MetricsEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory, metrics_endpoint: MetricsEndpoint) -> Iterator[Prometheus]:
    executable = find_prometheus()
    if executable is None:
        pytest.skip("Prometheus is not installed: run .ci/install-backends.sh (or set TOKENTRACE_PROMETHEUS)")
    server = Prometheus(executable, tmp_path_factory.mktemp("prometheus"), metrics_endpoint.target, [ALERT_RULES]).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def backend_run(
    phoenix_server: Phoenix, prometheus_server: Prometheus, metrics_endpoint: MetricsEndpoint, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackendRun]:
    ledger = str(tmp_path_factory.mktemp("ledger") / "spend.sqlite")
    started = time.time()
    project = f"tokentrace-it-{uuid.uuid4().hex[:8]}"
    resource = Resource.create({"service.name": "tokentrace-demo", "openinference.project.name": project})
    memory = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=phoenix_server.otlp_traces_endpoint)))
    tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
    reader = PrometheusMetricReader(registry=metrics_endpoint.registry)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    demo = _demo_workload()

    wait_until(prometheus_server.targets_up, 30, "Prometheus to scrape the metrics endpoint")
    tokentrace.uninstrument()
    tokentrace.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, ledger=ledger)
    try:
        with ProviderServer() as llm_server:
            for _ in range(RUNS):
                if demo is not None:
                    demo(llm_server)
                run_known_workload(llm_server)
                estimate.worker.flush(10)
                metrics_endpoint.publish()
                prometheus_server.wait_for_scrapes(3)
    finally:
        tokentrace.uninstrument()
    assert tracer_provider.force_flush(30_000)
    emitted = list(memory.get_finished_spans())
    wait_until(
        lambda: len(phoenix_server.spans(project)) >= len(emitted),
        60,
        f"Phoenix to hold all {len(emitted)} spans of project {project}",
        interval=0.5,
    )
    prometheus_server.eval_time = time.time()
    yield BackendRun(phoenix_server, prometheus_server, project, emitted, demo is not None, ledger, started)
    tracer_provider.shutdown()
    meter_provider.shutdown()
