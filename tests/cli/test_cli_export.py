"""What the CLI sends when ``OTEL_*`` names an exporter: traces *and* metrics, under one service.

Each test runs the real command in a subprocess against a real OTLP/HTTP receiver (protobuf
decoded with the OpenTelemetry proto package), the way a user points it at a collector.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Dict


def _env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    env.update(extra)
    return env


def test_demo_exports_metrics_as_well_as_traces(otlp_receiver: Any) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tokentrace", "demo"], env=_env(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.url), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert {"tokentrace.cost", "tokentrace.tokens", "gen_ai.client.token.usage"} <= otlp_receiver.metric_names
    assert any(name.startswith("chat ") for name in otlp_receiver.span_names)
    # One service for both signals, named after the demo when OTEL_SERVICE_NAME is not set.
    assert otlp_receiver.span_services == otlp_receiver.metric_services == {"tokentrace-demo"}


def _app(tmp_path: Path, openai_url: str) -> Path:
    app = tmp_path / "billing_job.py"
    app.write_text(
        textwrap.dedent(
            f"""
            import openai
            client = openai.OpenAI(base_url="{openai_url}", api_key="sk-test", max_retries=0)
            for _ in range(2):
                client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
            """
        )
    )
    return app


def test_run_names_spans_and_metrics_after_the_program(tmp_path: Path, server, otlp_receiver: Any) -> None:
    app = _app(tmp_path, server.openai_url)
    result = subprocess.run(
        [sys.executable, "-m", "tokentrace", "run", "--", sys.executable, str(app)],
        env=_env(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.url), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "tokentrace.cost" in otlp_receiver.metric_names
    assert otlp_receiver.span_services == otlp_receiver.metric_services == {"billing_job"}


def test_run_uses_otel_service_name_for_both_signals(tmp_path: Path, server, otlp_receiver: Any) -> None:
    app = _app(tmp_path, server.openai_url)
    result = subprocess.run(
        [sys.executable, "-m", "tokentrace", "run", "--", sys.executable, str(app)],
        env=_env(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.url, OTEL_SERVICE_NAME="billing"), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert otlp_receiver.span_services == otlp_receiver.metric_services == {"billing"}


def _seconds_after_program(app: Path, env: Dict[str, str]) -> float:
    """From the program's last line to the end of ``tokentrace run`` (summary, flush, teardown)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tokentrace", "run", "--", sys.executable, str(app)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = process.communicate(timeout=120)
    ended = time.time()
    assert process.returncode == 0, err[-3000:]
    assert "tokentrace run summary" in err
    return ended - float(out.split()[-1])


def test_run_exits_promptly_when_the_collector_is_down(tmp_path: Path, server) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = _app(tmp_path, server.openai_url)
    app.write_text(app.read_text() + "\nimport time\nprint(time.time(), flush=True)\n")
    bound = _env(TOKENTRACE_SHUTDOWN_TIMEOUT="0.2")
    baseline = _seconds_after_program(app, bound)
    with_dead_collector = _seconds_after_program(app, {**bound, "OTEL_EXPORTER_OTLP_ENDPOINT": dead})
    # Each tail includes the program's interpreter teardown and the summary, which vary by a second
    # or more on a loaded machine: so the bound is set small (0.2 s) and the slack is wide. Without
    # the bound, the dead collector cost over 10 s more (one full OTLP retry per signal); the
    # bound's own precision is measured inside one process in tests/core/test_exit_export.py.
    assert with_dead_collector - baseline < 2.5
