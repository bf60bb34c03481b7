"""``tokentrace reconcile`` for every vendor source, on a workload the suite runs through the SDKs.

For each source the vendor's dataset is built from what the fake vendors billed for that
workload (the admin APIs serve it; the export files are written from it). Without injected
discrepancies capture is 100 % and the command exits 0. With them (a missing day, a retried
call billed twice, a model named differently, a project tokentrace never saw, a rate
difference) each is found, attributed to its cause, nothing is left unexplained, and the exit
status is 1 because the capture is not 100 %.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from tokentrace.cli.main import main
from tokentrace.testing import ProviderServer
from tokentrace.testing.billing import ANTHROPIC_ADMIN_KEY, OPENAI_ADMIN_KEY, BilledCall, Billing, billing_for
from tokentrace.testing.exports import write_azure, write_cur, write_focus, write_gcp

from . import workload as wl

DAY = 86400


@dataclass(frozen=True)
class Source:
    name: str
    #: BilledCall providers this source reports.
    providers: Tuple[str, ...]
    retried: str  # billed model of the retried call (and of the unseen project's traffic)
    renamed: Tuple[str, str]  # billed model -> the vendor's other name for it
    repriced: str  # billed model the vendor charges 25 % more for
    scope_field: str  # BilledCall field naming project / workspace / account
    unseen: str
    file: Optional[str] = None


SOURCES = [
    Source("openai", ("openai",), "gpt-4o-2024-08-06", ("gpt-4o-mini-2024-07-18", "gpt-4o-mini-legacy"), "gpt-5-mini-2025-08-07", "project_id", "proj_unknown"),
    Source("anthropic", ("anthropic",), "claude-sonnet-4-5-20250929", ("claude-haiku-4-5-20251001", "claude-haiku-legacy"), "claude-opus-4-6", "workspace_id", "wrkspc_other"),
    Source("cur", ("aws.bedrock",), wl.BEDROCK_HAIKU, ("amazon.nova-pro-v1:0", "amazon.nova-legacy-v1:0"), "anthropic.claude-sonnet-4-5-20250929-v1:0", "project_id", "999999999999", "cur.csv"),
    Source("gcp", ("gcp",), wl.VERTEX_CLAUDE, ("gemini-2.5-flash", "gemini-9-flash"), "gemini-2.5-pro", "project_id", "acme-sandbox", "billing.csv"),
    Source("azure", ("azure.ai.openai",), "gpt-4o-2024-08-06", ("gpt-4o-mini-2024-07-18", "gpt-9o-mini-2024-07-18"), "gpt-4.1-mini-2025-04-14", "workspace_id", "acme-openai-eu", "costs.csv"),
    Source("focus", ("openai", "anthropic"), "gpt-4o-2024-08-06", ("gpt-4o-mini-2024-07-18", "gpt-4o-mini-legacy"), "gpt-5-mini-2025-08-07", "project_id", "proj_unknown", "focus.parquet"),
]
# The other file formats of each export, through the same workload and discrepancies.
SOURCES += [
    replace(SOURCES[2], file="cur.parquet"),
    replace(SOURCES[3], file="billing.json"),
    replace(SOURCES[5], file="focus.csv"),
]
IDS = [f"{s.name}-{s.file.rsplit('.', 1)[-1]}" if s.file else s.name for s in SOURCES]
WRITERS = {"cur": write_cur, "gcp": write_gcp, "azure": write_azure, "focus": write_focus}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[wl.Workload]:
    with ProviderServer() as server:
        yield wl.run(server, tmp_path_factory.mktemp("reconcile-workload"))


def _mine(calls: List[BilledCall], source: Source) -> List[BilledCall]:
    return [c for c in calls if c.provider in source.providers]


def _inject(run: wl.Workload, source: Source, billing: Billing) -> List[BilledCall]:
    clean = _mine(run.clean, source)
    calls = clean + _mine(run.retries, source)
    # a missing day: the vendor billed yesterday's traffic, tokentrace has no record of it
    calls += [c.moved(-DAY) for c in clean]
    # a model named differently on the bill (priced as the model it is)
    old, new = source.renamed
    billing.aliases[new] = old
    calls = [replace(c, model=new) if c.model == old else c for c in calls]
    # traffic from a project / workspace / account tokentrace never saw
    template = next(c for c in clean if c.model == source.retried)
    calls.append(replace(template, **{source.scope_field: source.unseen, "tokens": {k: v * 3 for k, v in template.tokens.items()}}))
    # a rate difference
    billing.rate_factors[source.repriced] = 1.25
    return calls


def _reconcile(
    run: wl.Workload, source: Source, tmp_path: Path, calls: List[BilledCall], billing: Billing, ledger: Path, capsys: Any, extra: Tuple[str, ...] | List[str] = ()
) -> Tuple[int, Dict[str, Any]]:
    today = dt.datetime.now(dt.timezone.utc).date()
    args = ["reconcile", "--from", str(today - dt.timedelta(days=1)), "--to", str(today), "--ledger", str(ledger), "--json", *extra]
    if source.file:
        path = WRITERS[source.name](tmp_path / source.file, billing, calls)
        args += ["--vendor", source.name, str(path)]
    else:
        server_billing = billing_for(run.server)
        server_billing.calls = calls
        server_billing.aliases, server_billing.rate_factors = billing.aliases, billing.rate_factors
        args += ["--vendor", source.name, "--base-url", run.server.openai_url if source.name == "openai" else run.server.url]
    capsys.readouterr()
    status = main(args)
    captured = capsys.readouterr()
    for secret in (OPENAI_ADMIN_KEY, ANTHROPIC_ADMIN_KEY):
        assert secret not in captured.out + captured.err
    return status, json.loads(captured.out)


@pytest.fixture
def admin_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_ADMIN_KEY)
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", ANTHROPIC_ADMIN_KEY)


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_full_capture_without_discrepancies(run: wl.Workload, source: Source, tmp_path: Path, capsys: Any, admin_keys: None) -> None:
    billing = Billing()
    status, result = _reconcile(run, source, tmp_path, _mine(run.clean, source), billing, run.clean_ledger, capsys)
    totals = result["totals"]
    assert status == 0, result
    assert totals["vendor_tokens"] == sum(sum(c.tokens.values()) for c in _mine(run.clean, source)) > 0
    assert totals["token_capture"] == 1.0
    assert totals["cost_capture"] == pytest.approx(1.0, abs=1e-6)
    assert totals["unexplained_tokens"] == 0 and result["causes"] == {}


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_every_injected_discrepancy_is_found_and_explained(run: wl.Workload, source: Source, tmp_path: Path, capsys: Any, admin_keys: None) -> None:
    billing = Billing()
    calls = _inject(run, source, billing)
    status, result = _reconcile(run, source, tmp_path, calls, billing, run.full_ledger, capsys)
    assert status == 1
    causes = result["causes"]
    assert {"missing_day", "possibly_billed_attempts", "unseen_scope", "model_named_differently", "rate_difference"} <= set(causes), causes
    assert result["totals"]["unexplained_tokens"] == 0, _unexplained(result)
    assert result["totals"]["unexplained_cost_usd"] == pytest.approx(0.0, abs=1e-6), _unexplained(result)
    details = [c for cell in result["cells"] for c in cell["causes"]]
    yesterday = str(dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1))
    assert all(cell["day"] == yesterday for cell in result["cells"] if any(c["kind"] == "missing_day" for c in cell["causes"]))
    assert any(source.unseen in c["detail"] for c in details if c["kind"] == "unseen_scope")
    renamed = [c for c in details if c["kind"] == "model_named_differently"]
    assert renamed and all("billed as" in c["detail"] or "is what the vendor billed as" in c["detail"] for c in renamed)
    rates = [cell for cell in result["cells"] if any(c["kind"] == "rate_difference" for c in cell["causes"])]
    assert rates and all(cell["vendor_cost_usd"] == pytest.approx(1.25 * cell["tokentrace_cost_usd"], rel=1e-6) for cell in rates)
    attempts = [c for c in details if c["kind"] == "possibly_billed_attempts"]
    retried_tokens = sum(sum(c.tokens.values()) for c in _mine(run.retries, source)) // 2
    assert sum(c["tokens"] for c in attempts) == retried_tokens


@pytest.mark.parametrize("source", SOURCES[:2], ids=IDS[:2])
@pytest.mark.parametrize("width", ["1h", "1m"])
def test_finer_buckets_page_through_the_admin_api_to_the_same_result(run: wl.Workload, source: Source, width: str, tmp_path: Path, capsys: Any, admin_keys: None) -> None:
    """Two days in minute buckets are 2,880 buckets: two pages of at most 1,440 (in hours: one page of 48)."""
    first = len(run.server.requests)
    status, result = _reconcile(run, source, tmp_path, _mine(run.clean, source), Billing(), run.clean_ledger, capsys, ["--bucket-width", width])
    assert status == 0 and result["totals"]["token_capture"] == 1.0 and result["totals"]["unexplained_tokens"] == 0
    assert result["totals"]["vendor_tokens"] == sum(sum(c.tokens.values()) for c in _mine(run.clean, source))
    usage_path = "/v1/organization/usage/completions" if source.name == "openai" else "/v1/organizations/usage_report/messages"
    pages = [r for r in run.server.requests[first:] if r.path == usage_path]
    assert {r.query["bucket_width"][0] for r in pages} == {width}
    assert len(pages) == (2 if width == "1m" else 1)
    assert "page" not in pages[0].query and all("page" in r.query for r in pages[1:])


def _unexplained(result: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [cell for cell in result["cells"] if cell["unexplained_tokens"] or abs(cell["unexplained_cost_usd"] or 0) > 1e-6]


def test_metrics_flag_exports_the_capture_ratio_over_otlp_without_the_key(run: wl.Workload, tmp_path: Path) -> None:
    """``--metrics`` from cron: the gauge reaches an OTLP/HTTP endpoint; the admin key goes nowhere."""
    import os
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies: List[bytes] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.path.encode() + b" " + self.rfile.read(int(self.headers["Content-Length"] or 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    collector = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    billing_for(run.server).calls = _mine(run.clean, SOURCES[0])
    today = dt.datetime.now(dt.timezone.utc).date()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        OPENAI_ADMIN_KEY=OPENAI_ADMIN_KEY,
        OTEL_METRICS_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.server_address[1]}",
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    args = ["--vendor", "openai", "--base-url", run.server.openai_url, "--from", str(today), "--to", str(today), "--ledger", str(run.clean_ledger), "--metrics"]
    try:
        done = subprocess.run([sys.executable, "-m", "tokentrace", "reconcile", *args], env=env, capture_output=True, text=True, timeout=120)
    finally:
        collector.shutdown()
        collector.server_close()
    assert done.returncode == 0, done.stderr
    exported = b"".join(bodies)
    assert b"/v1/metrics" in exported and b"tokentrace.reconcile.capture_ratio" in exported and b"openai" in exported
    for secret in (OPENAI_ADMIN_KEY.encode(), b"sk-admin"):
        assert secret not in exported
        assert secret.decode() not in done.stdout + done.stderr
