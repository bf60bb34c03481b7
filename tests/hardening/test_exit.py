"""No billed call lost at exit, no hang: each scenario runs ``exit_app.py`` in a fresh interpreter.

The app leaves one call unfinished (a stream closed early, collected, or still referenced when the
interpreter exits) and exports through a ``BatchSpanProcessor`` and a periodic metric reader, so
only what tokentrace settles *before the SDK providers shut down* reaches the output file. Each
run must exit promptly with code 0, print no error, and export exactly one LLM span and one
``tokentrace.calls`` point, on every Python version the machine offers (the main venv's, and the
``.ci-work/py3.*-venv`` ones ``.ci/install-pythons.sh`` builds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tokentrace.testing import ResponsePlan

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("exit_app.py")
CI_WORK = Path(os.environ.get("TOKENTRACE_CI_WORK", ROOT / ".ci-work"))


def _pythons() -> List[Any]:
    found: List[Any] = [pytest.param(sys.executable, id=f"py{sys.version_info[0]}.{sys.version_info[1]}")]
    for version in ("3.12", "3.13"):
        candidate = CI_WORK / f"py{version}-venv" / "bin" / "python"
        marks = () if candidate.exists() else (
            pytest.mark.skip(reason=f"no Python {version} venv at {candidate}: run .ci/install-pythons.sh"),
        )
        if f"{sys.version_info[0]}.{sys.version_info[1]}" != version:
            found.append(pytest.param(str(candidate), id=f"py{version}", marks=marks))
    return found


PYTHONS = _pythons()


def run_app(python: str, server: Any, scenario: str, order: str, tmp_path: Path) -> Dict[str, Any]:
    out = tmp_path / f"{scenario}-{order}.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    env.update(TT_SERVER_URL=server.url, PYTHONPATH=str(ROOT / "src"), OTEL_SDK_DISABLED="false")
    try:
        done = subprocess.run(
            [python, str(APP), scenario, order, str(out)], env=env, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired as exc:  # the bug this file exists for
        pytest.fail(f"{scenario} ({order}) hung at exit; stderr: {exc.stderr!r}")
    if done.returncode == 3:
        pytest.skip(f"{scenario}: the SDK it needs is not installed for {python}")
    lines = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    spans = [e for e in lines if "span" in e and e["kind"] == "CLIENT" and "gen_ai.operation.name" in e["attributes"]]
    calls = [e for e in lines if e.get("metric") == "tokentrace.calls"]
    return {"rc": done.returncode, "stderr": done.stderr, "spans": spans, "calls": calls, "lines": lines}


def assert_one_settled_call(result: Dict[str, Any]) -> Dict[str, Any]:
    assert result["rc"] == 0, result["stderr"]
    for marker in ("Traceback", "Exception ignored", "--- Logging error ---", "internal error"):
        assert marker not in result["stderr"], result["stderr"]
    assert len(result["spans"]) == 1, result["lines"]
    assert sum(point["value"] for point in result["calls"]) == 1, result["lines"]
    return result["spans"][0]["attributes"]


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("order", ["providers-first", "instrument-first", "passed"])
def test_stream_closed_early_then_exit_exports_its_call(server: Any, tmp_path: Path, python: str, order: str) -> None:
    server.enqueue(ResponsePlan(chunks=5))
    attributes = assert_one_settled_call(run_app(python, server, "openai-early-close", order, tmp_path))
    # Closed before the usage chunk: estimated locally, and said so.
    assert attributes["tokentrace.usage.source"] == "estimate"
    assert attributes["gen_ai.usage.input_tokens"] >= 1


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("scenario", ["openai-referenced", "openai-unread", "anthropic-referenced"])
def test_stream_still_referenced_at_exit_neither_hangs_nor_is_lost(server: Any, tmp_path: Path, python: str, scenario: str) -> None:
    server.enqueue(ResponsePlan(chunks=5))
    attributes = assert_one_settled_call(run_app(python, server, scenario, "providers-first", tmp_path))
    assert attributes["tokentrace.call.incomplete"] is True


@pytest.mark.parametrize("python", PYTHONS)
def test_collected_stream_and_stream_without_usage_are_exported(server: Any, tmp_path: Path, python: str) -> None:
    server.enqueue(ResponsePlan(chunks=5))
    assert_one_settled_call(run_app(python, server, "openai-collected", "instrument-first", tmp_path))
    server.enqueue(ResponsePlan(chunks=5, omit_usage=True))
    attributes = assert_one_settled_call(run_app(python, server, "openai-no-usage", "instrument-first", tmp_path))
    assert attributes["tokentrace.usage.source"] == "estimate"
    assert "tokentrace.call.incomplete" not in attributes


def test_workflow_around_an_early_closed_stream_is_exported(server: Any, tmp_path: Path) -> None:
    server.enqueue(ResponsePlan(chunks=5))
    result = run_app(sys.executable, server, "openai-workflow", "providers-first", tmp_path)
    assert_one_settled_call(result)
    assert any(e.get("span", "").startswith("invoke_workflow") for e in result["lines"]), result["lines"]


@pytest.mark.parametrize("scenario", ["google-referenced", "bedrock-referenced"])
def test_gemini_and_bedrock_streams_unfinished_at_exit_are_exported(server: Any, tmp_path: Path, scenario: str) -> None:
    server.enqueue(ResponsePlan(chunks=5))
    attributes = assert_one_settled_call(run_app(sys.executable, server, scenario, "passed", tmp_path))
    assert attributes["tokentrace.call.incomplete"] is True
