"""The README's runnable examples run as written, against the local provider server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(script: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_quickstart_prints_each_calls_usage_and_cost() -> None:
    out = _run("quickstart.py")
    priced = re.findall(r"^chat (\S+): (\d+) in / (\d+) out, \$(\d+\.\d+) \(priced\)$", out, re.M)
    assert {model for model, *_ in priced} >= {"gpt-4o-mini", "gpt-4o"}
    assert all(float(cost) > 0 for *_, cost in priced)


def test_budgets_example_stops_the_runaway_before_sending() -> None:
    out = _run("budgets.py")
    assert "soft budget alerts: ['50%', '80%', '100%']" in out
    assert re.search(r"agent stopped after \d+ calls", out)
    assert "was not sent" in out
    assert "team 'search' stopped" in out and "team 'ads' still has budget" in out
