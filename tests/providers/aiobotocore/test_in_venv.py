"""Runs the aiobotocore tests in the venv that has aiobotocore (its botocore differs from ours).

``.ci/install-aiobotocore.sh`` builds ``.ci-work/aiobotocore-venv``; CI always has it. The
subprocess imports tokentrace from this checkout's ``src`` and runs ``test_aio_*.py`` there,
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
VENV = Path(os.environ.get("TOKENTRACE_CI_WORK", ROOT / ".ci-work")) / "aiobotocore-venv"
HERE = Path(__file__).resolve().parent


def test_aiobotocore_suite_in_its_venv() -> None:
    if importlib.util.find_spec("aiobotocore"):
        pytest.skip("aiobotocore is importable here: its tests run directly in this session")
    python = VENV / "bin" / "python"
    if not python.exists():
        if os.environ.get("TOKENTRACE_REQUIRE_BACKENDS") == "1":  # CI: the installer must have built it
            pytest.fail("the aiobotocore venv is missing: run .ci/install-aiobotocore.sh")
        pytest.skip("the aiobotocore venv is missing: run .ci/install-aiobotocore.sh")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    tests = sorted(str(p) for p in HERE.glob("test_aio_*.py"))
    hardening = [str(ROOT / "tests" / "hardening" / name) for name in ("test_faults.py", "test_fuzz.py", "test_secrets.py")]
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *tests, *hardening, "-k", "aiobotocore or test_aio_ or test_no_secret"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = (result.stdout + result.stderr)[-4000:]
    sys.stdout.write(tail)
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and " failed" not in result.stdout, tail
