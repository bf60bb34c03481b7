"""``tokentrace run`` with the venv not activated: its own Python, or exactly what to do."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Optional

import pytest

VENV_BIN = str(Path(sys.executable).parent)


def _env_without_our_bin() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOKENTRACE_"))}
    env["PATH"] = os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep) if d != VENV_BIN) or os.defpath
    return env


def _foreign_python() -> Optional[str]:
    """An interpreter that is not this one (nor in this venv): the system's, or a pyenv one."""
    candidates = ["/usr/bin/python3", *sorted(str(p) for p in Path("/root/.pyenv/versions").glob("3.1[0-9]*/bin/python3"))]
    for candidate in candidates:
        if os.access(candidate, os.X_OK) and Path(candidate).resolve() != Path(sys.executable).resolve():
            return candidate
    return None


def test_bare_python_means_the_python_tokentrace_is_installed_in(tmp_path: Path, server) -> None:
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            f"""
            import sys, openai
            print(sys.executable)
            openai.OpenAI(base_url="{server.openai_url}", api_key="sk-test").chat.completions.create(
                model="gpt-4o-mini", messages=[{{"role": "user", "content": "hi"}}])
            """
        )
    )
    # As `.venv/bin/tokentrace run -- python3 app.py` from a shell where the venv is not activated.
    result = subprocess.run(
        [sys.executable, "-m", "tokentrace", "run", "--", "python3", str(app)], env=_env_without_our_bin(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert Path(result.stdout.strip().splitlines()[0]).parent == Path(VENV_BIN)
    assert "calls: 1" in result.stderr


def test_a_python_without_tokentrace_gets_the_exact_command(tmp_path: Path) -> None:
    python = _foreign_python()
    if python is None:
        pytest.skip("no second Python interpreter on this machine")
    app = tmp_path / "app.py"
    app.write_text("print('app ran')\n")
    env = _env_without_our_bin()
    result = subprocess.run(
        [sys.executable, "-m", "tokentrace", "run", "--", python, str(app), "--flag"], env=env, capture_output=True, text=True, timeout=120
    )
    if "tokentrace run summary" in result.stderr or "made no LLM calls" in result.stderr:
        pytest.skip(f"{python} has tokentrace installed too")
    assert result.returncode == 0
    assert result.stdout == "app ran\n"  # the program still runs
    assert f"tokentrace run: {python} cannot import tokentrace" in result.stderr
    assert f"`tokentrace run -- {sys.executable} {app} --flag`" in result.stderr
