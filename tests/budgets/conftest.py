"""Fixtures for the budget tests: a real ``redis-server`` on 127.0.0.1, an OpenAI client, helpers."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from typing import Any, Iterator

import openai
import pytest

#: What CI installs (Debian package); without it the Redis tests skip and say so.
REDIS_INSTALL = "run .ci/install-redis.sh, no root needed; or apt-get install redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_redis(port: int) -> subprocess.Popen[bytes]:
    """Start ``redis-server`` (no persistence) on 127.0.0.1:``port`` and wait until it answers."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(f"redis-server is not installed ({REDIS_INSTALL}); the Redis budget-store tests need it")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"redis-server did not start on port {port}")
        time.sleep(0.05)
    return process


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A throwaway ``redis-server`` for this test session; yields its URL."""
    port = free_port()
    process = launch_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied for this test."""
    import redis

    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    return redis_server


@pytest.fixture
def client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test-budgets", max_retries=0)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (connections are refused at once)."""
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a hung store."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
