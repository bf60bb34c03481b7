"""``tokentrace run`` behaves like the program it runs: signals, exit code, bounded summary, children.

Each test runs the real launcher (``python -m tokentrace run -- python app.py``) on a small program
that makes real OpenAI SDK calls to the local provider server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

PRELUDE = """
import os, sys, time, signal
import openai
URL = {url!r}

def call(model="gpt-4o-mini"):
    client = openai.OpenAI(base_url=URL, api_key="sk-test", max_retries=0)
    client.chat.completions.create(model=model, messages=[{{"role": "user", "content": "hi"}}])
"""


def _app(tmp_path: Path, server: Any, body: str) -> Path:
    app = tmp_path / "app.py"
    app.write_text(PRELUDE.format(url=server.openai_url) + textwrap.dedent(body))
    return app


def _env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    env["TOKENTRACE_LEDGER"] = "off"
    env["TOKENTRACE_PROVIDERS"] = "openai"  # instrumenting every SDK costs seconds per process
    env.update(extra)
    return env


def _launch(app: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tokentrace", "run", "--", sys.executable, str(app)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(**env),
    )


def _wait_for_line(process: subprocess.Popen[str], wanted: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if wanted in line:
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"the program never printed {wanted!r}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_signal_to_the_launcher_reaches_the_program_and_the_summary_counts_its_calls(tmp_path: Path, server: Any, signame: str) -> None:
    app = _app(tmp_path, server, """
        call()
        print("ready", os.getpid(), flush=True)
        time.sleep(60)
    """)
    launcher = _launch(app)
    pid = int(_wait_for_line(launcher, "ready").split()[1])
    launcher.send_signal(getattr(signal, signame))
    _, err = launcher.communicate(timeout=60)
    # The program died of the signal it was sent, and so does the launcher (a shell sees 128+N).
    assert launcher.returncode == -getattr(signal, signame), err
    assert not _alive(pid)
    assert "calls: 1" in err, err
    assert "Traceback" not in err, err


def test_sigint_is_forwarded_and_the_programs_own_exit_code_returned(tmp_path: Path, server: Any) -> None:
    app = _app(tmp_path, server, """
        call()
        try:
            print("ready", os.getpid(), flush=True)
            time.sleep(60)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            time.sleep(0.5)  # cleanup the launcher must not cut short
            print("cleaned up", flush=True)
            sys.exit(5)
    """)
    launcher = _launch(app)
    _wait_for_line(launcher, "ready")
    launcher.send_signal(signal.SIGINT)
    out, err = launcher.communicate(timeout=60)
    assert launcher.returncode == 5, err
    assert "cleaned up" in out
    assert "Traceback" not in err, err  # no launcher traceback
    assert "calls: 1" in err


def test_a_program_killed_by_sigint_makes_the_launcher_die_of_sigint(tmp_path: Path, server: Any) -> None:
    app = _app(tmp_path, server, """
        call()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        print("ready", flush=True)
        time.sleep(60)
    """)
    launcher = _launch(app)
    _wait_for_line(launcher, "ready")
    launcher.send_signal(signal.SIGINT)
    _, err = launcher.communicate(timeout=60)
    assert launcher.returncode == -signal.SIGINT, err
    assert "Traceback" not in err, err


class _SilentServer:
    """Accepts connections and never answers: an OTLP endpoint that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


def test_summary_is_printed_in_bounded_time_when_the_exporter_hangs(tmp_path: Path, server: Any) -> None:
    hung = _SilentServer()
    try:
        app = _app(tmp_path, server, """
            call()
            print("done", flush=True)
        """)
        started = time.monotonic()
        launcher = _launch(
            app,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{hung.port}",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            TOKENTRACE_SHUTDOWN_TIMEOUT="2",
        )
        out, err = launcher.communicate(timeout=90)
        elapsed = time.monotonic() - started
    finally:
        hung.close()
    assert launcher.returncode == 0, err
    assert "calls: 1" in err, err
    assert elapsed < 60, elapsed


def test_calls_of_the_programs_python_children_are_summed_and_children_print_nothing(tmp_path: Path, server: Any) -> None:
    app = _app(tmp_path, server, """
        import multiprocessing, subprocess
        from concurrent.futures import ProcessPoolExecutor

        def work(_=None):
            call()
            return 1

        if __name__ == "__main__":
            call()
            for method in ("fork", "spawn", "forkserver"):
                process = multiprocessing.get_context(method).Process(target=work)
                process.start()
                process.join()
                assert process.exitcode == 0, (method, process.exitcode)
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
                assert list(pool.map(work, range(2))) == [1, 1]
            subprocess.run([sys.executable, "-c", "import os, sys; sys.path.insert(0, os.path.dirname(sys.argv[0]) or '.');"
                            f"exec(open({__file__!r}).read().split('if __name__')[0]); call()"], check=True)
            print("all done", flush=True)
    """)
    launcher = _launch(app)
    out, err = launcher.communicate(timeout=180)
    assert launcher.returncode == 0, err
    assert "all done" in out
    # 1 (program) + 3 (fork, spawn, forkserver) + 2 (pool) + 1 (subprocess)
    assert "calls: 7" in err, err
    assert err.count("tokentrace run summary") == 1, err
    assert "made no LLM calls" not in err, err
