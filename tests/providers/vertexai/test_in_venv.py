"""Runs the vertexai tests in the venv that has the Vertex AI SDK (it needs google-genai<3).

``.ci/install-vertexai.sh`` builds ``.ci-work/vertexai-venv``; CI always has it. The
subprocess imports tokentrace from this checkout's ``src`` and runs ``test_vertex_*.py`` there,
with the shared hardening tests (faults, fuzz, secrets) for this adapter.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
VENV = Path(os.environ.get("TOKENTRACE_CI_WORK", ROOT / ".ci-work")) / "vertexai-venv"
HERE = Path(__file__).resolve().parent


def test_vertexai_suite_in_its_venv() -> None:
    if importlib.util.find_spec("vertexai"):
        pytest.skip("vertexai is importable here: its tests run directly in this session")
    python = VENV / "bin" / "python"
    if not python.exists():
        if os.environ.get("TOKENTRACE_REQUIRE_BACKENDS") == "1":  # CI: the installer must have built it
            pytest.fail("the vertexai venv is missing: run .ci/install-vertexai.sh")
        pytest.skip("the vertexai venv is missing: run .ci/install-vertexai.sh")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    tests = sorted(str(p) for p in HERE.glob("test_vertex_*.py"))
    hardening = [str(ROOT / "tests" / "hardening" / name) for name in ("test_faults.py", "test_fuzz.py", "test_secrets.py")]
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *tests, *hardening, "-k", "vertexai or test_vertex_ or test_no_secret"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = (result.stdout + result.stderr)[-4000:]
    sys.stdout.write(tail)
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and " failed" not in result.stdout, tail
