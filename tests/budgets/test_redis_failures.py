"""Redis under failure, with a real redis-server restarted and restored from an older snapshot.

Each store object below is what one process holds (its own connection, its own high-water marks
and replay queue), so two stores on one counter behave as two processes.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tokentrace.budgets import redis_store
from tokentrace.budgets.redis_store import RedisStore
from tokentrace.budgets.store import Amount, Limit, StoreUnavailable

from .conftest import REDIS_INSTALL, free_port

LIMIT = Limit(nano_usd=10**12, tokens=None)  # $1,000: never the point here
CALL = Amount(nano_usd=450_000, tokens=1500)  # $0.00045
KEY = "shared-daily:global=*:2026-12-01"


class Redis:
    """A redis-server with its data in ``folder`` (dump.rdb), that can be stopped and started again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip(f"redis-server is not installed ({REDIS_INSTALL})")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def command(self, *args: str) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall((f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)).encode())
            return conn.recv(4096)

    def snapshot(self) -> Path:
        """A synchronous RDB snapshot, copied aside: the 'older backup' a restore goes back to."""
        assert self.command("SAVE").startswith(b"+OK")
        backup = self.folder / "backup.rdb"
        shutil.copy(self.folder / "dump.rdb", backup)
        return backup

    def stop(self, save: bool = True) -> None:
        assert self.process is not None
        try:
            self.command("SHUTDOWN", "SAVE" if save else "NOSAVE")
        except OSError:
            pass
        self.process.wait(10)

    def restore(self, backup: Path) -> None:
        shutil.copy(backup, self.folder / "dump.rdb")
        self.start()

    def counter(self) -> int:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            return int(client.hget("tokentrace:budget:" + KEY, "usd") or 0)
        finally:
            client.close()


@pytest.fixture
def redis_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Redis]:
    monkeypatch.setattr(redis_store, "COOL_DOWN_S", 0.0)
    server = Redis(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.kill()
        server.process.wait(10)


def settle(store: RedisStore, reservation: str) -> None:
    store.reserve(KEY, LIMIT, Amount(), False, reservation, 86_400)
    store.settle(KEY, reservation, CALL, LIMIT, (), 86_400)


def test_settlements_made_while_redis_is_down_are_replayed_once_it_is_back(redis_server: Redis) -> None:
    store = RedisStore(redis_server.url)
    for i in range(3):
        settle(store, f"before-{i}")
    redis_server.stop(save=True)
    for i in range(4):  # calls complete while Redis is down: each settlement is kept
        with pytest.raises(StoreUnavailable):
            store.settle(KEY, f"down-{i}", CALL, LIMIT, (), 86_400)
    assert store.pending_settlements == 4
    redis_server.start()  # restarted from its own data: the reconnect happens on the next call
    settle(store, "after-0")
    assert store.pending_settlements == 0
    assert redis_server.counter() == 8 * CALL.nano_usd  # 3 + 4 replayed + 1, none lost, none twice
    store.close()


def test_a_replayed_settlement_whose_reply_was_lost_is_not_counted_twice(redis_server: Redis) -> None:
    store = RedisStore(redis_server.url)
    settle(store, "call-1")
    # The same settlement again (as a replay after a timeout whose write did reach Redis).
    store.settle(KEY, "call-1", CALL, LIMIT, (), 86_400)
    assert redis_server.counter() == CALL.nano_usd
    store.close()


def test_a_redis_restored_from_an_older_snapshot_never_goes_backwards_nor_inflates(redis_server: Redis) -> None:
    first, second = RedisStore(redis_server.url), RedisStore(redis_server.url)  # two processes
    settle(first, "a-0")
    backup = redis_server.snapshot()  # the backup holds 1 call
    for i in range(1, 5):
        settle(first, f"a-{i}")  # the first process made 4 more calls and saw the total of 5
    settle(second, "b-0")  # the second saw 6
    assert redis_server.counter() == 6 * CALL.nano_usd
    redis_server.stop(save=False)
    redis_server.restore(backup)  # Redis is back with 1 call
    assert redis_server.counter() == CALL.nano_usd
    settle(first, "a-5")  # repaired up to what the first process saw (5), plus its call
    assert redis_server.counter() == 6 * CALL.nano_usd
    settle(second, "b-1")  # the second saw 6: repaired to max(6, 6) = 6 (not 6 + 6), plus its call
    assert redis_server.counter() == 7 * CALL.nano_usd
    # Admission reads the repaired counter too (a budget whose limit is 7 calls is used up).
    admission = first.reserve(KEY, Limit(nano_usd=7 * CALL.nano_usd), Amount(), False, "a-6", 86_400)
    assert not admission.admitted and admission.spent.nano_usd == 7 * CALL.nano_usd
    first.close()
    second.close()


def test_a_fresh_redis_after_failover_is_raised_to_the_high_water_mark(redis_server: Redis) -> None:
    store = RedisStore(redis_server.url)
    for i in range(5):
        settle(store, f"c-{i}")
    redis_server.command("FLUSHALL")  # a replica promoted with none of the data
    admission = store.reserve(KEY, Limit(nano_usd=5 * CALL.nano_usd), Amount(), False, "c-5", 86_400)
    assert not admission.admitted  # still used up: the counter did not drop to zero
    assert redis_server.counter() == 5 * CALL.nano_usd
    assert store.spent(KEY).nano_usd == 5 * CALL.nano_usd
    store.close()


# -- end to end: the real openai SDK, a shared team budget, Redis failing mid-run ------------

USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}
# gpt-4o-mini: 1000 * $0.15/1M + 500 * $0.60/1M = $0.00045 = CALL.nano_usd nano-dollars


def test_a_budget_through_the_sdk_stays_right_across_a_restart_an_outage_and_a_restore(
    redis_server: Redis, instrument: Any, server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import openai
    import redis

    import tokentrace
    from tokentrace.budgets import BudgetExceeded
    from tokentrace.testing import ResponsePlan

    telemetry = instrument(
        # A "total" window, so a run that straddles midnight UTC counts into one counter.
        budgets=[{"name": "team-total", "usd": 10 * CALL.nano_usd / 1e9, "window": "total", "scope": "team"}],
        budget_store=redis_server.url,
    )
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test-redis", max_retries=0)

    def calls(n: int) -> None:
        server.enqueue(*[ResponsePlan(usage=dict(USAGE)) for _ in range(n)])
        with tokentrace.attribute(team="search"):
            for _ in range(n):
                client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    from tokentrace.budgets.windows import period, utc_now

    key = f"tokentrace:budget:team-total:team=search:{period('total', utc_now()).key}"

    def counter() -> int:
        connection = redis.Redis.from_url(redis_server.url)
        try:
            return int(connection.hget(key, "usd") or 0)
        finally:
            connection.close()

    caplog.set_level(logging.WARNING, "tokentrace")
    calls(3)
    backup = redis_server.snapshot()  # holds 3 calls
    calls(2)
    assert counter() == 5 * CALL.nano_usd

    redis_server.stop(save=True)  # a restart: down for two calls, then back with its own data
    calls(2)  # fail open: the calls go out, their settlements are kept
    unchecked = [e for s in telemetry.llm_spans()[-2:] for e in s.events if e.name == "tokentrace.budget.unchecked"]
    assert len(unchecked) == 2
    redis_server.start()
    calls(1)  # the reconnect replays the two kept settlements once
    assert counter() == 8 * CALL.nano_usd

    redis_server.stop(save=False)
    redis_server.restore(backup)  # an older snapshot: Redis is back with 3 calls
    assert counter() == 3 * CALL.nano_usd
    calls(1)  # raised to what this process saw (8), plus the call: never backwards, never 3 + 8
    assert counter() == 9 * CALL.nano_usd

    calls(1)  # the tenth call reaches the $0.0045 limit; the eleventh is blocked, never sent
    sent = len(server.requests)
    with pytest.raises(BudgetExceeded) as blocked:
        calls(1)
    assert len(server.requests) == sent
    assert blocked.value.spent == pytest.approx(10 * CALL.nano_usd / 1e9, abs=1e-12)
    assert counter() == 10 * CALL.nano_usd
    # Each threshold announced once, though the restore lost the flags of 50 % and 80 %.
    crossings = [r.getMessage().split(" reached ")[1][:4] for r in caplog.records if " reached " in r.getMessage()]
    assert crossings == ["50% ", "80% ", "100%"]
