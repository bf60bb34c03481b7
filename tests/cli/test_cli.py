"""The command line: the demo's summary, and `tokentrace run` on an unmodified program."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tokentrace.cli.main import main


def test_demo_prints_calls_tokens_and_cost_by_model(capsys):
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert "tokentrace demo summary" in out
    assert "calls: " in out and "rerouted: 1" in out and "unpriced: 1" in out
    assert "tokens by type: input" in out
    # The self-hosted model nobody priced says so instead of showing a $0 cost.
    unpriced_row = next(line for line in out.splitlines() if line.startswith("acme-llama-70b-selfhosted"))
    assert unpriced_row.rstrip().endswith("unpriced") and "$" not in unpriced_row
    assert "gpt-5-mini-2025-08-07" in out and "gpt-4o-mini-2024-07-18" in out
    assert "support" in out and "platform" in out and "search" in out
    # All four providers' SDKs took part.
    assert "claude-sonnet-4-6" in out
    assert "gemini-2.5-pro" in out
    assert "us.anthropic.claude-haiku-4-5-20251001-v1:0" in out
    assert "1/" in err  # progress indication


def test_run_instruments_an_unmodified_program(tmp_path, server):
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            f"""
            import openai
            client = openai.OpenAI(base_url="{server.openai_url}", api_key="sk-test")
            for _ in range(2):
                client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
            print("app done")
            raise SystemExit(3)
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run([sys.executable, "-m", "tokentrace", "run", "--", sys.executable, str(app)], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 3  # the program's own exit code
    assert "app done" in result.stdout
    assert "tokentrace run summary" in result.stderr
    assert "calls: 2" in result.stderr
    assert "gpt-4o-mini-2024-07-18" in result.stderr


def test_run_without_a_program_explains_usage(capsys):
    assert main(["run"]) == 2
    assert "tokentrace run -- python app.py" in capsys.readouterr().err
