"""The documented user path: environment-configured export, and the README's picture script."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
import uuid
from types import ModuleType
from typing import Any, Dict, List

import pytest

from .backends import EXAMPLES, REPO_ROOT, wait_until
from .conftest import RUNS, BackendRun
from .workload import KNOWN_CALLS


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _demo_llm_spans(spans: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    known_teams = {call.team for call in KNOWN_CALLS}
    return [
        s["attributes"]
        for s in spans
        if "gen_ai.provider.name" in s["attributes"] and s["attributes"].get("tokentrace.team") not in known_teams
    ]


def test_demo_loop_exports_through_otel_environment_variables(backend_run: BackendRun) -> None:
    if not backend_run.used_demo:
        pytest.skip("tokentrace.cli.demo is not available in this checkout")
    project = f"demo-loop-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    env.update(
        OTEL_SERVICE_NAME="tokentrace-demo",
        OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={project}",
        OTEL_EXPORTER_OTLP_ENDPOINT=backend_run.phoenix.url,
        OTEL_METRICS_EXPORTER="none",
    )
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo_loop.py"), "--iterations", "2", "--interval", "0"],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reference = _demo_llm_spans(backend_run.phoenix_spans())
    per_run = len(reference) // RUNS
    spans = wait_until(
        lambda: (lambda got: got if len(_demo_llm_spans(got)) >= 2 * per_run else None)(backend_run.phoenix.spans(project)),
        60,
        f"the demo loop's {2 * per_run} LLM spans in Phoenix project {project}",
        interval=0.5,
    )
    loop = _demo_llm_spans(spans)
    assert len(loop) == 2 * per_run
    cost = math.fsum(a.get("tokentrace.cost.usd", 0.0) for a in loop)
    expected = math.fsum(a.get("tokentrace.cost.usd", 0.0) for a in reference) * 2 / RUNS
    assert cost == pytest.approx(expected, rel=1e-9)
    assert not any("sk-demo" in str(value) for a in loop for value in a.values()), "an API key reached the backend"


def test_demo_loop_refuses_to_run_without_an_endpoint() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo_loop.py"), "--iterations", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "OTEL_EXPORTER_OTLP_ENDPOINT is not set" in result.stderr


def test_render_script_reads_the_dashboard_panel(backend_run: BackendRun, tmp_path: Any) -> None:
    script = _load("render_spend_png")
    spend = script.fetch_spend(backend_run.prometheus.url, "1h", at=backend_run.prometheus.eval_time)
    panel = backend_run.prometheus.query_values(script.panel_query("1h"), by=["tokentrace_team"])
    assert spend == {team or "(no team)": usd for team, usd in panel.items()}
    assert set(spend) >= {call.team for call in KNOWN_CALLS if call.cost}
    pytest.importorskip("matplotlib", reason="the PNG rendering itself needs matplotlib")
    out = tmp_path / "spend.png"
    script.render(spend, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
