"""The README's attribution examples run as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    "script, expected",
    [
        ("attribution_workflow.py", "workflow cost: $"),
        ("attribution_services.py", "LLM span billed to team: search"),
    ],
)
def test_example_runs(script, expected):
    result = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    if script == "attribution_services.py":
        assert "LLM server got baggage: None" in result.stdout
