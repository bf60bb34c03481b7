"""A budget shared through Redis, right across a restart and a restore: ``python examples/redis_budgets.py``.

It needs ``redis-server`` on PATH (``apt-get install redis-server``); it starts a throwaway one on
127.0.0.1 with its data in a temporary folder, and tokentrace's local OpenAI-compatible server.
Then, while the real ``openai`` SDK makes calls under a team budget kept in Redis:

1. Redis is stopped for two calls (they go out, "fail open") and started again: the two kept
   settlements are replayed once, so the counter misses nothing and counts nothing twice;
2. Redis is restored from an older snapshot (it "forgets" calls): the next call raises the
   counter back to what this process saw before adding itself, instead of going backwards;
3. the budget then blocks at exactly its limit.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai
import redis

import tokentrace
from tokentrace.testing import ProviderServer, ResponsePlan

USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}  # $0.00045 on gpt-4o-mini
LIMIT_USD = 10 * 0.00045


class ThrowawayRedis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def snapshot(self) -> Path:
        redis.Redis.from_url(self.url).save()
        return Path(shutil.copy(self.folder / "dump.rdb", self.folder / "backup.rdb"))

    def stop(self, save: bool) -> None:
        try:
            redis.Redis.from_url(self.url).shutdown(save=save, nosave=not save)
        except redis.ConnectionError:
            pass
        assert self.process is not None
        self.process.wait(10)

    def restore(self, backup: Path) -> None:
        shutil.copy(backup, self.folder / "dump.rdb")
        self.start()


def main() -> None:
    if shutil.which("redis-server") is None:
        print("redis-server is not installed (apt-get install redis-server); nothing to show")
        sys.exit(0)
    with tempfile.TemporaryDirectory() as folder, ProviderServer() as server:
        store = ThrowawayRedis(Path(folder))
        store.start()
        tokentrace.instrument(
            budgets=[{"name": "team-total", "usd": LIMIT_USD, "window": "total", "scope": "team"}],
            budget_store=store.url,
        )
        client = openai.OpenAI(base_url=server.openai_url, api_key="sk-local", max_retries=0)
        counter_key = "tokentrace:budget:team-total:team=search:total"

        def calls(n: int) -> None:
            server.enqueue(*[ResponsePlan(usage=dict(USAGE)) for _ in range(n)])
            with tokentrace.attribute(team="search"):
                for _ in range(n):
                    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

        def counted() -> str:
            nano = int(redis.Redis.from_url(store.url).hget(counter_key, "usd") or 0)
            return f"${nano / 1e9:.5f} ({nano // 450_000} calls)"

        calls(3)
        backup = store.snapshot()
        calls(2)
        print("after 5 calls, Redis holds", counted())

        store.stop(save=True)
        time.sleep(2.1)  # past the store's 2 s cool-down, so the next call tries Redis again
        calls(2)  # Redis is down: the calls go out, their settlements wait
        store.start()
        time.sleep(2.1)
        calls(1)
        print("after a restart missed 2 calls, and 1 more:", counted())

        store.stop(save=False)
        store.restore(backup)
        print("restored from the snapshot taken after 3 calls:", counted())
        calls(1)
        print("the next call raises it back first:", counted())

        calls(1)
        try:
            calls(1)
        except tokentrace.BudgetExceeded as stop:
            print("the 11th call is blocked:", stop)
        tokentrace.uninstrument()
        store.stop(save=False)


if __name__ == "__main__":
    main()
