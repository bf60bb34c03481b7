"""`tokentrace demo` and `tokentrace run` write a spend ledger by default and say where."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import time

from tokentrace.cli.main import main
from tokentrace.ledger import default_path, read_rows


def test_demo_writes_the_ledger_it_names(tmp_path, capsys):
    ledger = tmp_path / "demo.sqlite"
    assert main(["demo", "--ledger", str(ledger)]) == 0
    out, err = capsys.readouterr()
    assert f"spend ledger written to {ledger}" in err
    rows = read_rows(ledger=ledger, start=0, end=time.time() + 3600)
    teams = {r.dimensions.get("team") for r in rows}
    assert {"support", "search", "platform"} <= teams
    assert any(r.rerouted for r in rows) and any(r.cost_status == "unknown_model" for r in rows)
    # The demo's summary total and the ledger agree to the cent.
    total_line = next(line for line in out.splitlines() if "total cost: $" in line)
    summary_usd = float(total_line.split("total cost: $")[1].split()[0].replace(",", ""))
    ledger_usd = math.fsum(r.effective_cost_usd or 0.0 for r in rows)
    assert round(ledger_usd, 2) == round(summary_usd, 2)
    assert abs(ledger_usd - summary_usd) < 1e-6  # the summary prints six decimals


def test_demo_ledger_can_be_turned_off(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TOKENTRACE_LEDGER", "off")
    assert main(["demo"]) == 0
    assert "spend ledger" not in capsys.readouterr().err


def test_run_writes_the_default_ledger(tmp_path, server):
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            f"""
            import openai
            client = openai.OpenAI(base_url="{server.openai_url}", api_key="sk-test")
            for _ in range(3):
                client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
            """
        )
    )
    data_home = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") and k != "TOKENTRACE_LEDGER"}
    env["XDG_DATA_HOME"] = str(data_home)
    result = subprocess.run([sys.executable, "-m", "tokentrace", "run", "--", sys.executable, str(app)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    expected = data_home / "tokentrace" / "ledger.sqlite"
    assert f"spend ledger written to {expected}" in result.stderr
    rows = read_rows(ledger=expected, start=0, end=time.time() + 3600)
    assert sum(r.calls for r in rows) == 3
    assert default_path() != expected  # the test's own default stayed untouched
