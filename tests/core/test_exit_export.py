"""``instrument()``'s own exporters at exit: bounded when the collector is down, complete when it is up."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict

import pytest

from tokentrace.core.exporters import DEFAULT_SHUTDOWN_TIMEOUT_S, shutdown_timeout
from tokentrace.core.sdk_setup import program_name


def _env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    env.update(extra)
    return env


def _app(tmp_path: Path, openai_url: str) -> Path:
    app = tmp_path / "nightly_digest.py"
    app.write_text(
        textwrap.dedent(
            f"""
            import atexit, time
            atexit.register(lambda: print("end", time.time(), flush=True))  # first registered: runs last

            import openai
            import tokentrace

            tokentrace.instrument()
            client = openai.OpenAI(base_url="{openai_url}", api_key="sk-test", max_retries=0)
            for _ in range(2):
                client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
            print("done", time.time(), flush=True)
            """
        )
    )
    return app


def _dead_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("bound, limit", [(None, 2.5), ("0.2", 0.8)])
def test_exit_with_a_dead_collector_is_bounded(tmp_path: Path, server, bound, limit) -> None:
    env = _env(OTEL_EXPORTER_OTLP_ENDPOINT=_dead_endpoint(), **({"TOKENTRACE_SHUTDOWN_TIMEOUT": bound} if bound else {}))
    result = subprocess.run([sys.executable, str(_app(tmp_path, server.openai_url))], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    stamps = dict(line.split() for line in result.stdout.splitlines())
    # From the program's last line to the last exit handler (after every provider's shutdown):
    # at most the bound (2 s by default, 0.2 s when set) and a little scheduling slack; without
    # it, each signal's OTLP exporter retried for 10 s. Module teardown after that is Python's.
    assert float(stamps["end"]) - float(stamps["done"]) < limit


def test_exit_with_a_live_collector_still_sends_everything(tmp_path: Path, server, otlp_receiver: Any) -> None:
    receiver = otlp_receiver
    result = subprocess.run(
        [sys.executable, str(_app(tmp_path, server.openai_url))], env=_env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert [n for n in receiver.span_names if n.startswith("chat ")] == ["chat gpt-4o-mini"] * 2
    assert "tokentrace.cost" in receiver.metric_names
    assert receiver.span_services == receiver.metric_services == {"nightly_digest"}


def test_shutdown_timeout_knob(caplog: pytest.LogCaptureFixture) -> None:
    assert shutdown_timeout({}) == DEFAULT_SHUTDOWN_TIMEOUT_S == 2.0
    assert shutdown_timeout({"TOKENTRACE_SHUTDOWN_TIMEOUT": "0.5"}) == 0.5
    with caplog.at_level(logging.ERROR, logger="tokentrace"):
        assert shutdown_timeout({"TOKENTRACE_SHUTDOWN_TIMEOUT": "soon"}) == 2.0
    assert "TOKENTRACE_SHUTDOWN_TIMEOUT: expected a number of seconds (0 or more), got 'soon'; using the default (2.0) instead" in caplog.text


@pytest.mark.parametrize(
    "argv, orig_argv, expected",
    [
        (["app.py"], ["python", "app.py"], "app"),
        (["/srv/jobs/nightly_digest.py", "--all"], ["python3", "/srv/jobs/nightly_digest.py", "--all"], "nightly_digest"),
        (["-m"], ["python", "-m", "jobs.nightly"], "jobs.nightly"),
        (["/srv/jobs/__main__.py"], ["python", "-m", "jobs"], "jobs"),
        (["/srv/tool/__main__.py"], ["python", "/srv/tool"], "tool"),
        (["/venv/bin/uvicorn", "main:app"], ["/venv/bin/python", "/venv/bin/uvicorn", "main:app"], "uvicorn"),
        (["-c"], ["python", "-c", "pass"], None),
        ([""], ["python"], None),
    ],
)
def test_program_name(argv, orig_argv, expected) -> None:
    assert program_name(argv, orig_argv) == expected
