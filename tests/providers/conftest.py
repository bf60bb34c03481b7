"""What the provider tests share across adapters.

``suite_in_venv`` runs an adapter's tests in the venv built for its SDK: aiobotocore pins its own
botocore and the Vertex AI SDK needs google-genai below 3, so neither can live in the main test
venv. The subprocess imports tokentrace from this checkout's ``src``; CI always has the venvs.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARDENING = ("test_faults.py", "test_fuzz.py", "test_secrets.py")


def _run_suite_in_venv(sdk_module: str, venv: str, installer: str, tests: Path, pattern: str, keywords: str) -> None:
    """Run ``tests/<pattern>`` and the shared hardening tests selected by ``keywords`` in ``venv``."""
    if importlib.util.find_spec(sdk_module):
        pytest.skip(f"{sdk_module} is importable here: its tests run directly in this session")
    python = Path(os.environ.get("TOKENTRACE_CI_WORK", ROOT / ".ci-work")) / venv / "bin" / "python"
    if not python.exists():
        message = f"the {venv} is missing: run {installer}"
        if os.environ.get("TOKENTRACE_REQUIRE_BACKENDS") == "1":  # CI: the installer must have built it
            pytest.fail(message)
        pytest.skip(message)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    selected = sorted(str(p) for p in tests.glob(pattern))
    hardening = [str(ROOT / "tests" / "hardening" / name) for name in HARDENING]
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *selected, *hardening, "-k", keywords]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = (result.stdout + result.stderr)[-4000:]
    sys.stdout.write(tail)
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and " failed" not in result.stdout, tail


@pytest.fixture
def suite_in_venv() -> Callable[..., None]:
    return _run_suite_in_venv
