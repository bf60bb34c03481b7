"""``.ci/install-*.sh`` without root: backends unpacked into the checkout, or one clear skip line.

Runs the real installer in a subprocess with a PATH that has no redis-server, forcing the
user-space path (``TOKENTRACE_USER_INSTALL=1``, what a user without root gets), into a
throwaway ``.ci-work``. It downloads ~1.4 MB of Debian packages; without a Debian package source
it is skipped, except on CI (``TOKENTRACE_REQUIRE_BACKENDS=1``) where it must work.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict

import pytest

REPO = Path(__file__).resolve().parents[2]
HIDDEN = ("redis-", "prometheus", "promtool")


def _path_without_backends(tmp_path: Path, keep_apt: bool = True) -> str:
    """A PATH of symlinks to every program on PATH except the backends (and apt-get if asked)."""
    tools = tmp_path / "tools"
    tools.mkdir(parents=True)
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory) or directory.endswith(".ci-work/bin"):
            continue
        for name in os.listdir(directory):
            if name.startswith(HIDDEN) or (not keep_apt and name.startswith(("apt-get", "dpkg"))):
                continue
            target = tools / name
            if not target.exists():
                target.symlink_to(os.path.join(directory, name))
    return str(tools)


def _env(tmp_path: Path, keep_apt: bool = True) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENTRACE_")}
    env.update(PATH=_path_without_backends(tmp_path, keep_apt), TOKENTRACE_CI_WORK=str(tmp_path / "ci-work"), TOKENTRACE_USER_INSTALL="1")
    return env


def test_redis_is_unpacked_into_the_checkout_and_runs(tmp_path: Path) -> None:
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        pytest.skip("no apt-get/dpkg here: the user-space install needs a Debian-based system")
    result = subprocess.run(["bash", str(REPO / ".ci" / "install-redis.sh")], env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    if result.returncode != 0 and os.environ.get("TOKENTRACE_REQUIRE_BACKENDS") != "1":
        pytest.skip(f"could not download the Debian packages here: {result.stderr.strip()[-300:]}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no root; unpacking Debian package(s) redis-server" in result.stdout
    wrapper = tmp_path / "ci-work" / "bin" / "redis-server"
    assert wrapper.exists()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([str(wrapper), "--port", str(port), "--bind", "127.0.0.1", "--save", ""], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        reply = b""
        while time.monotonic() < deadline and not reply.startswith(b"+PONG"):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    reply = conn.recv(16)
            except OSError:
                time.sleep(0.05)
        assert reply.startswith(b"+PONG"), "the unpacked redis-server does not answer"
    finally:
        server.terminate()
        server.wait(10)
    env = _env(tmp_path / "again")
    env["TOKENTRACE_CI_WORK"] = str(tmp_path / "ci-work")
    again = subprocess.run(["bash", str(REPO / ".ci" / "install-redis.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and f"redis-server: already installed ({wrapper})" in again.stdout


def test_a_backend_that_cannot_be_installed_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(REPO / ".ci" / "install-redis.sh")], env=_env(tmp_path, keep_apt=False), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("SKIPPING")]
    assert lines == [
        "SKIPPING the Redis budget-store tests (tests/budgets): redis-server is missing; "
        "install the Debian package 'redis-server' (apt-get install redis-server), or put redis-server on PATH"
    ]


def test_skip_install_switch_installs_nothing(tmp_path: Path) -> None:
    env = _env(tmp_path, keep_apt=False)
    env["TOKENTRACE_SKIP_INSTALL"] = "1"
    result = subprocess.run(["bash", str(REPO / ".ci" / "install-redis.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert not (tmp_path / "ci-work").exists()


def test_test_script_with_skip_install_runs_pytest_with_the_given_python(tmp_path: Path) -> None:
    import sys

    env = _env(tmp_path, keep_apt=False)
    env.update(TOKENTRACE_SKIP_INSTALL="1", PYTHON=sys.executable)
    result = subprocess.run([str(REPO / "scripts" / "test.sh"), "--version"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "TOKENTRACE_SKIP_INSTALL=1, installing nothing" in result.stderr
    assert "pytest" in result.stdout + result.stderr
