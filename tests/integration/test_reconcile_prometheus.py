"""``tokentrace reconcile --prometheus``: the fleet's counters in a real Prometheus against the vendor's bill.

Calls go through the real OpenAI and Anthropic SDKs to the local provider server with tokentrace
instrumented on a meter provider whose Prometheus exporter page a real Prometheus scrapes (and on
a ledger file, for comparison). The fake admin APIs bill what the server answered. Reconciled
from Prometheus, the bill is captured in full, the same as from the ledger; a retried call
billed twice (the first attempt timed out on the client), a project tokentrace never saw and a
rate difference are each found and explained.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import anthropic
import openai
import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

import tokentrace
from tokentrace.cli.main import main
from tokentrace.core import estimate
from tokentrace.testing import ProviderServer, ResponsePlan, openai_usage
from tokentrace.testing.billing import ANTHROPIC_ADMIN_KEY, OPENAI_ADMIN_KEY, BilledCall, billing_for

from .backends import Prometheus, find_prometheus
from .conftest import MetricsEndpoint

MESSAGES = [{"role": "user", "content": "Summarise the incident report."}]
ANTHROPIC_USAGE = {
    "input_tokens": 1500,
    "output_tokens": 400,
    "cache_read_input_tokens": 20000,
    "cache_creation_input_tokens": 3000,
    "cache_creation": {"ephemeral_5m_input_tokens": 3000, "ephemeral_1h_input_tokens": 0},
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Prometheus, ProviderServer, Path, List[BilledCall]]]:
    executable = find_prometheus()
    if executable is None:
        pytest.skip("Prometheus is not installed: run .ci/install-backends.sh (or set TOKENTRACE_PROMETHEUS)")
    endpoint = MetricsEndpoint()
    directory = tmp_path_factory.mktemp("reconcile-prometheus")
    prometheus = Prometheus(executable, directory, endpoint.target).start()
    meter_provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=endpoint.registry)])
    ledger = directory / "spend.sqlite"
    try:
        with ProviderServer() as server:
            tokentrace.uninstrument()
            tokentrace.instrument(tracer_provider=TracerProvider(), meter_provider=meter_provider, ledger=str(ledger))
            try:
                _workload(server)
                estimate.worker.flush(10)
            finally:
                tokentrace.uninstrument()
            endpoint.publish()
            prometheus.wait_for_scrapes(3)
            billed = billing_for(server).bill_requests(server.requests)
            yield prometheus, server, ledger, billed
    finally:
        meter_provider.shutdown()
        prometheus.stop()
        endpoint.close()


def _workload(server: ProviderServer) -> None:
    chat = openai.OpenAI(base_url=server.openai_url, api_key="sk-proj-app", project="proj_app", timeout=0.4, max_retries=2)
    claude = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-app", max_retries=0)
    server.enqueue(ResponsePlan(usage=openai_usage(2006, 300, cached=1024)))
    chat.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    # processed, but answered after the client's timeout: the SDK retries, the vendor bills both
    server.enqueue(ResponsePlan(usage=openai_usage(1200, 80), delay_s=1.0))
    server.enqueue(ResponsePlan(usage=openai_usage(1200, 80)))
    chat.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 640, "total_tokens": 640}))
    chat.embeddings.create(model="text-embedding-3-small", input="incident report")
    for model in ("claude-sonnet-4-5", "claude-opus-4-6"):
        server.enqueue(ResponsePlan(usage=ANTHROPIC_USAGE))
        claude.messages.create(model=model, max_tokens=1024, messages=MESSAGES)


def _reconcile(vendor: str, source: List[str], server: ProviderServer, capsys: Any) -> Tuple[int, Dict[str, Any]]:
    today = dt.datetime.now(dt.timezone.utc).date()
    base = server.openai_url if vendor == "openai" else server.url
    capsys.readouterr()
    status = main(["reconcile", "--vendor", vendor, "--base-url", base, "--from", str(today - dt.timedelta(days=1)), "--to", str(today), *source, "--json"])
    captured = capsys.readouterr()
    assert OPENAI_ADMIN_KEY not in captured.out + captured.err and ANTHROPIC_ADMIN_KEY not in captured.out + captured.err
    return status, json.loads(captured.out)


@pytest.fixture
def admin_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_ADMIN_KEY)
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", ANTHROPIC_ADMIN_KEY)


def _sources(fleet: Tuple[Prometheus, ProviderServer, Path, List[BilledCall]]) -> Dict[str, List[str]]:
    prometheus, _, ledger, _ = fleet
    return {"prometheus": ["--prometheus", prometheus.url], "ledger": ["--ledger", str(ledger)]}


def test_anthropic_bill_is_fully_captured_from_prometheus_as_from_the_ledger(fleet: Any, admin_keys: None, capsys: Any) -> None:
    _, server, _, billed = fleet
    billing = billing_for(server)
    billing.calls = [c for c in billed if c.provider == "anthropic"]
    results = {name: _reconcile("anthropic", args, server, capsys) for name, args in _sources(fleet).items()}
    for status, result in results.values():
        assert status == 0, result
        totals = result["totals"]
        # two calls of 1,500 + 20,000 + 3,000 + 400 tokens
        assert totals["vendor_tokens"] == totals["tokentrace_tokens"] == 2 * 24_900
        assert totals["cost_capture"] == pytest.approx(1.0, abs=1e-6) and result["causes"] == {}
    prom, ledger = results["prometheus"][1], results["ledger"][1]
    assert any("possibly billed" in note and "ledger only" in note for note in prom["notes"])
    assert not any("ledger only" in note for note in ledger["notes"])
    assert prom["totals"]["tokentrace_cost_usd"] == pytest.approx(ledger["totals"]["tokentrace_cost_usd"], rel=1e-9)


def test_openai_discrepancies_are_found_from_prometheus(fleet: Any, admin_keys: None, capsys: Any) -> None:
    """The retry the vendor billed twice is explained from the request counts (Prometheus has no
    attempt rows: those are the ledger's), the unseen project and the rate difference as from the ledger."""
    _, server, _, billed = fleet
    billing = billing_for(server)
    mine = [c for c in billed if c.provider == "openai"]
    assert len(mine) == 4  # gpt-4o, gpt-4o-mini twice (the timed-out attempt and its retry), the embedding
    template = next(c for c in mine if c.model.startswith("gpt-4o-2024"))
    billing.calls = mine + [replace(template, project_id="proj_unknown")]
    billing.rate_factors["text-embedding-3-small"] = 1.25
    try:
        status, result = _reconcile("openai", _sources(fleet)["prometheus"], server, capsys)
    finally:
        billing.rate_factors.clear()
    assert status == 1
    assert result["totals"]["unexplained_tokens"] == 0, [c for c in result["cells"] if c["unexplained_tokens"]]
    assert result["totals"]["unexplained_cost_usd"] == pytest.approx(0.0, abs=1e-6)
    by_cause: Dict[str, List[Dict[str, Any]]] = {}
    for cell in result["cells"]:
        for cause in cell["causes"]:
            by_cause.setdefault(cause["kind"], []).append({**cause, "model": cell["model"], "token_type": cell["token_type"]})
    # the retried gpt-4o-mini call: 1,200 input and 80 output tokens billed once more
    extra = {(c["model"], c["token_type"]): c["tokens"] for c in by_cause["extra_billed_requests"]}
    assert extra == {("gpt-4o-mini", "input"): 1200, ("gpt-4o-mini", "output"): 80}
    unseen = {c["token_type"]: c["tokens"] for c in by_cause["unseen_scope"]}
    assert unseen == {"input": 982, "cache_read": 1024, "output": 300} and all("proj_unknown" in c["detail"] for c in by_cause["unseen_scope"])
    # 640 tokens at $0.02/1M, billed at 1.25 times that
    (rate,) = by_cause["rate_difference"]
    assert rate["model"] == "text-embedding-3-small" and rate["cost_usd"] == pytest.approx(640 * 0.02e-6 * 0.25)
