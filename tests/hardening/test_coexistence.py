"""tokentrace beside the other OpenAI instrumentations, applied before or after it.

The peers register ``opentelemetry_instrumentor`` entry points, so they live in their own venv
(``.ci/install-peers.sh`` builds ``.ci-work/peers-venv``) and each case runs ``coexist_app.py``
there as a subprocess, with this checkout's tokentrace on ``PYTHONPATH``. In either order:
tokentrace sees the call (its span), a ``budget(usd=0)`` blocks it before it is sent, one warning
names the other instrumentation, and ``uninstrument()`` stops tokentrace's spans even when the
other wrapper captured tokentrace's.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("coexist_app.py")
VENV = Path(os.environ.get("TOKENTRACE_CI_WORK", ROOT / ".ci-work")) / "peers-venv"
PYTHON = VENV / "bin" / "python"

pytestmark = pytest.mark.skipif(not PYTHON.exists(), reason=f"no peers venv at {VENV}: run .ci/install-peers.sh")

PEERS = {
    "openinference": "openinference.instrumentation.openai",
    "otel-v2": "opentelemetry.instrumentation.openai_v2",
    "openllmetry": "opentelemetry.instrumentation.openai",
}


def _run(peer: str, order: str) -> Dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run([str(PYTHON), str(APP), peer, order], capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("order", ["peer-first", "tokentrace-first"])
@pytest.mark.parametrize("peer", PEERS)
def test_tokentrace_is_never_blind_enforces_budgets_warns_and_uninstruments(peer: str, order: str) -> None:
    result = _run(peer, order)
    # tokentrace sees the call: exactly one tokentrace span, beside the peer's own.
    assert result["plain"].get("tokentrace") == ["chat gpt-4o"], result
    assert any(scope.startswith(PEERS[peer]) for scope in result["plain"]), result
    # The budget blocks the call before anything is sent.
    assert result["blocked"] is True, result
    assert result["sent_despite_budget"] is False, result
    # One warning, naming the other instrumentation and how to resolve it.
    assert len(result["warnings"]) == 1, result
    warning = result["warnings"][0]
    assert PEERS[peer] in warning and "uninstrument" in warning and "providers=" in warning
    # uninstrument() stops tokentrace's spans; the peer keeps its own.
    assert "tokentrace" not in result["after_uninstrument"], result
    assert any(scope.startswith(PEERS[peer]) for scope in result["after_uninstrument"]), result


@pytest.mark.parametrize("order", ["peer-first", "tokentrace-first"])
@pytest.mark.parametrize("peer", PEERS)
def test_tokentrace_keeps_seeing_calls_after_the_peer_uninstruments(peer: str, order: str) -> None:
    """OpenInference's uninstrument() leaves a plain ``request`` on ``openai.OpenAI`` that shadows
    tokentrace's patch on the base class; tokentrace notices before the next call and patches it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run([str(PYTHON), str(APP.with_name("peer_uninstrument_app.py")), peer, order],
                          capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    three = ["chat gpt-4o"] * 3  # the early sync client, the early async client, a new client
    assert result["both"]["tokentrace"] == three, result
    # (OpenLLMetry's own uninstrument() leaves its wrappers on: its spans go on; not tokentrace's concern.)
    assert result["after_peer_uninstrument"].get("tokentrace") == three, result
    assert result["blocked_after_peer_uninstrument"] is True, result
    assert "tokentrace" not in result["after_both_uninstrument"], result
    if peer != "openllmetry":  # nor does tokentrace's uninstrument() bring back the wrapper the peer removed
        assert result["after_both_uninstrument"] == {}, result
    assert result["reinstrumented"].get("tokentrace") == three, result
    assert result["shadowing_left"] == [], result
