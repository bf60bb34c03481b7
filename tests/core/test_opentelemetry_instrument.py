"""``opentelemetry-instrument python app.py`` with the ``instrument`` extra: an unmodified app traced.

The extra's packages live in their own venv (``.ci/install-otel-instrument.sh``: the distro sets
up an SDK for every program run under ``opentelemetry-instrument``); the app exports over OTLP to
a real receiver and imports nothing from tokentrace.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("TOKENTRACE_CI_WORK", REPO / ".ci-work")) / "otel-instrument-venv"


def test_an_unmodified_app_under_opentelemetry_instrument(tmp_path: Path, server: Any, otlp_receiver: Any) -> None:
    command = VENV / "bin" / "opentelemetry-instrument"
    if not command.exists():
        pytest.skip("the otel-instrument venv is missing: run .ci/install-otel-instrument.sh")
    app = tmp_path / "support_bot.py"
    app.write_text(
        textwrap.dedent(
            f"""
            import openai
            client = openai.OpenAI(base_url="{server.openai_url}", api_key="sk-test", max_retries=0)
            client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_METRICS_EXPORTER="otlp",
        OTEL_LOGS_EXPORTER="none",
        OTEL_SERVICE_NAME="support-bot",
    )
    result = subprocess.run([str(command), str(VENV / "bin" / "python"), str(app)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "chat gpt-4o-mini" in otlp_receiver.span_names
    assert "tokentrace.cost" in otlp_receiver.metric_names
    assert otlp_receiver.span_services == {"support-bot"}
