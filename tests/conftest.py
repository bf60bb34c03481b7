"""Shared fixtures: in-memory OpenTelemetry, the local provider server, an instrument() factory.

Each test gets its own tracer and meter providers passed to ``tokentrace.instrument()``, so
spans and metric totals never leak between tests, and no global provider is touched.
"""

from __future__ import annotations

import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _put_tools_on_path() -> None:
    """Let subprocesses find this interpreter's scripts and the user-space backends.

    ``pytest`` may run from ``.venv/bin`` without the venv being activated: the programs the tests
    start (``tokentrace``, ``opentelemetry-instrument``, ``phoenix``) then live next to
    ``sys.executable``, and Prometheus / redis-server unpacked without root (``.ci/lib.sh``) in
    ``.ci-work/bin``. Neither is on the user's PATH, so add both, behind what is already there.
    """
    path = os.environ.get("PATH", "").split(os.pathsep)
    for directory in (str(Path(sys.executable).parent), str(REPO_ROOT / ".ci-work" / "bin")):
        if directory not in path:
            path.append(directory)
    os.environ["PATH"] = os.pathsep.join(path)


_put_tools_on_path()

try:
    from opentelemetry.sdk.metrics import MeterProvider
except ImportError as exc:  # pragma: no cover - only with the wrong interpreter
    raise pytest.UsageError(
        f"{sys.executable} lacks the test dependencies ({exc}). Run ./scripts/test.sh, or "
        "`.venv/bin/python -m pytest ...` after `pip install -e '.[test]'` into .venv."
    ) from None
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

import tokentrace
from tokentrace.core import estimate, lifecycle
from tokentrace.testing import ProviderServer, conformance


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


@pytest.fixture(scope="session", autouse=True)
def _private_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``tokentrace run`` / ``demo`` write their default ledger under $XDG_DATA_HOME: never the user's."""
    import os

    saved = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    os.environ.pop("TOKENTRACE_LEDGER", None)
    yield
    if saved is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = saved


@pytest.fixture(autouse=True)
def _fresh_budget_memory() -> Iterator[None]:
    """The in-memory budget store outlives instrument() on purpose; each test starts from zero."""
    from tokentrace.budgets.store import SHARED_MEMORY

    SHARED_MEMORY.clear()
    yield
    SHARED_MEMORY.clear()


@pytest.fixture
def telemetry(request: Any) -> Iterator[Telemetry]:
    """Per test; afterwards, what it emitted is checked against the GenAI registry (see below)."""
    telemetry = Telemetry()
    yield telemetry
    try:
        # What the test left open (a fault injected into finish(), a stream never closed) is
        # settled now, on this test's providers, as the exit flush would settle it; left to the
        # exit flush, it ended its spans on providers their own atexit handlers had shut down
        # ("Processor is already shutdown, ignoring call", dozens of times after the summary).
        lifecycle.flush(5, settle_open=True)
    except Exception:
        pass
    for problem in conformance.check_telemetry(telemetry.exporter, telemetry.reader):
        _CONFORMANCE_PROBLEMS.setdefault(problem, request.node.nodeid)
    # Done with: shut down now rather than at exit (each provider holds an atexit handler).
    telemetry.tracer_provider.shutdown()
    telemetry.meter_provider.shutdown()


#: Semantic-convention problems found in any test's telemetry: problem -> first test that showed it.
_CONFORMANCE_PROBLEMS: Dict[str, str] = {}


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """The conformance test over the whole suite: one problem anywhere fails the run."""
    if _CONFORMANCE_PROBLEMS and exitstatus == 0:
        session.exitstatus = 1


def _conformance_summary(terminalreporter: Any) -> None:
    if not _CONFORMANCE_PROBLEMS:
        return
    terminalreporter.section("GenAI semantic-convention conformance")
    for problem, nodeid in sorted(_CONFORMANCE_PROBLEMS.items()):
        terminalreporter.line(f"{problem}   (first in {nodeid})")
    terminalreporter.line(f"{len(_CONFORMANCE_PROBLEMS)} problem(s); names tokentrace may emit beside the registry: tokentrace/records/semconv.py")


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


# -- a real OTLP/HTTP receiver, for subprocess tests of what a process exports -------------------


def _otlp_service(resource: Any) -> str:
    return next((a.value.string_value for a in resource.attributes if a.key == "service.name"), "")


class OtlpReceiver:
    """Accepts ``/v1/traces`` and ``/v1/metrics`` on 127.0.0.1; records services, span and metric names."""

    def __init__(self) -> None:
        self.span_services: Set[str] = set()
        self.metric_services: Set[str] = set()
        self.span_names: List[str] = []
        self.metric_names: Set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    receiver._take(self.path, body)
                finally:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-protobuf")
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def _take(self, path: str, body: bytes) -> None:
        if path.endswith("/v1/traces"):
            traces = ExportTraceServiceRequest.FromString(body)
            for rs in traces.resource_spans:
                self.span_services.add(_otlp_service(rs.resource))
                self.span_names.extend(s.name for ss in rs.scope_spans for s in ss.spans)
        elif path.endswith("/v1/metrics"):
            request = ExportMetricsServiceRequest.FromString(body)
            for rm in request.resource_metrics:
                self.metric_services.add(_otlp_service(rm.resource))
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        self.metric_names.add(metric.name)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """An OTLP/HTTP endpoint on 127.0.0.1 (``.url``) recording what a collector would receive."""
    receiver = OtlpReceiver()
    yield receiver
    receiver.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The suite's own sections after pytest's summary: conformance problems, then skipped groups.

    One hook for both: pytest takes a conftest's last definition of a hook name, so two would
    silently drop the first (the conformance section was lost that way).
    """
    _conformance_summary(terminalreporter)
    _skipped_groups_summary(terminalreporter)


def _skipped_groups_summary(terminalreporter: Any) -> None:
    """One line per group of skipped tests (e.g. "Phoenix is not installed"), with how many.

    ``-ra`` lists every skipped test; this says at a glance which backends were missing and how
    to get them (the skip reasons name the install script).
    """
    groups: dict = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        groups[reason] = groups.get(reason, 0) + 1
    if groups:
        terminalreporter.section("skipped groups")
        for reason, count in sorted(groups.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{count:4d} skipped: {reason}")



def run_finops_workload(server: ProviderServer) -> None:
    """A small multi-team workload through the real openai and anthropic SDKs (report / focus tests)."""
    import anthropic
    import openai

    from tokentrace.testing import ResponsePlan, openai_usage

    messages = [{"role": "user", "content": "Summarise the ticket."}]
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test-focus-key-0123456789", max_retries=0)
    claude = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-api03-test-focus-0123456789", max_retries=0)
    server.reroutes["gpt-5"] = "gpt-5-mini-2025-08-07"
    with tokentrace.attribute(team="support", feature="triage"):
        server.enqueue(ResponsePlan(usage=openai_usage(2600, 380, cached=2048)), ResponsePlan(usage=openai_usage(420, 12)))
        client.chat.completions.create(model="gpt-4o", messages=messages)
        client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        server.enqueue(ResponsePlan(usage={
            "input_tokens": 120, "cache_creation_input_tokens": 2500, "cache_read_input_tokens": 40000,
            "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 2000}, "output_tokens": 800,
        }))
        claude.messages.create(model="claude-haiku-4-5", max_tokens=900, messages=messages)
    with tokentrace.attribute(team="platform", feature="log-digest", env="prod"):
        server.enqueue(ResponsePlan(usage=openai_usage(48000, 900, cached=32000, reasoning=512)), ResponsePlan(usage=openai_usage(3000, 400)))
        client.chat.completions.create(model="gpt-5", messages=messages)
        client.chat.completions.create(model="acme-llama-70b-selfhosted", messages=messages)


@pytest.fixture
def recorded(instrument: Any, server: ProviderServer, tmp_path: Any) -> Tuple[Any, float]:
    """(ledger file, sum of the spans' tokentrace.cost.usd) for :func:`run_finops_workload`."""
    import math

    from tokentrace.records import semconv as sc

    ledger = tmp_path / "ledger.sqlite"
    telemetry = instrument(ledger=str(ledger))
    run_finops_workload(server)
    tokentrace.uninstrument()
    spans_usd = math.fsum(s.attributes[sc.TT_COST_USD] for s in telemetry.llm_spans() if sc.TT_COST_USD in s.attributes)
    return ledger, spans_usd



@pytest.fixture
def aiohttp_injector(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Inject the current context in every aiohttp session's ``on_request_start``, as the aiohttp
    client instrumentation does (it adds a trace config in ``ClientSession.__init__``): what an
    aiohttp-level injector puts on the wire, after any signing. The baggage values it injected."""
    import aiohttp
    from opentelemetry import propagate

    injected: List[str] = []
    original = aiohttp.ClientSession.__init__

    async def on_request_start(session: Any, trace_context: Any, params: Any) -> None:
        propagate.inject(params.headers)
        injected.append(params.headers.get("baggage", ""))

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        config = aiohttp.TraceConfig()
        config.on_request_start.append(on_request_start)
        kwargs["trace_configs"] = [*(kwargs.get("trace_configs") or []), config]
        original(self, *args, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", init)
    return injected
