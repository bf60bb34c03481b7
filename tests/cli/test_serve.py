"""`tokentrace serve`: a newcomer's first span, with the README's app.py, no API key."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path


def test_serve_then_the_readme_app_prints_a_priced_span(tmp_path: Path) -> None:
    serve = subprocess.Popen(
        [sys.executable, "-m", "tokentrace", "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert serve.stdout is not None
        serve.stdout.readline()
        stand_in = re.search(r"export (\w+)=(\S+)", serve.stdout.readline())
        assert stand_in, "serve names the variable that marks it as the vendors' stand-in"
        exports = serve.stdout.readline()
        match = re.search(r"OPENAI_BASE_URL=(\S+) OPENAI_API_KEY=(\S+)", exports)
        assert match, exports
        app = tmp_path / "app.py"
        app.write_text(textwrap.dedent('''
            import openai
            import tokentrace

            tokentrace.instrument()
            client = openai.OpenAI()
            with tokentrace.attribute(team="search", feature="query-rewrite"):
                reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            print(reply.choices[0].message.content)
        '''))
        env = {**os.environ, stand_in.group(1): stand_in.group(2), "OPENAI_BASE_URL": match.group(1), "OPENAI_API_KEY": match.group(2), "OTEL_TRACES_EXPORTER": "console"}
        env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
        result = subprocess.run([sys.executable, str(app)], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert '"tokentrace.team": "search"' in result.stdout
        cost = re.search(r'"tokentrace.cost.usd": ([0-9.e-]+)', result.stdout)
        assert cost and float(cost.group(1)) > 0
    finally:
        serve.send_signal(signal.SIGINT)
        assert serve.wait(10) == 0


def test_serve_on_a_busy_port_says_so() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "tokentrace", "serve", "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port 0" in result.stderr
