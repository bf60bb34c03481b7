"""Reservation leases under concurrency, with a real Redis, several processes and threads.

Three processes hold reservations on one shared budget; two are killed (SIGKILL, mid-stream),
one keeps streaming and renews its lease. Once the dead ones' leases lapse, exactly the room
they held is admitted again, to threads racing for it. A settlement that failed (Redis did not
answer) stops holding its reservation when the lease lapses and is counted once when replayed.
And the in-memory store's expiry is O(1) per call, however many counters exist (measured).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator, List

import openai
import pytest

import tokentrace
from tokentrace.budgets import store as store_module
from tokentrace.budgets.redis_store import RedisStore
from tokentrace.budgets.store import SHARED_MEMORY, Amount, Limit, MemoryStore, StoreUnavailable
from tokentrace.testing import ProviderServer, ResponsePlan

WORKER = Path(__file__).with_name("lease_worker.py")
#: A worker's projection: ~1 prompt token + max_tokens=1000 of gpt-4o-mini output (at $0.60 per 1M)
#: = $0.00060015. Three fit under this limit, four do not.
PROJECTION_USD = 0.00060015
LIMIT_USD = 3 * PROJECTION_USD + 0.0001
LEASE_S = 2
BUDGET = [{"name": "leased", "scope": "global", "window": "day", "usd": LIMIT_USD, "project": True}]


@pytest.fixture(autouse=True)
def _fresh_memory() -> Iterator[None]:
    SHARED_MEMORY.clear()
    yield
    SHARED_MEMORY.clear()


def _start_workers(server: ProviderServer, redis_url: str, n: int) -> List[subprocess.Popen[str]]:
    env = {**os.environ, "TOKENTRACE_BUDGET_LEASE_S": str(LEASE_S)}
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), server.openai_url, redis_url, repr(LIMIT_USD)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(n)
    ]
    for worker in workers:
        assert worker.stdout is not None
        line = worker.stdout.readline().strip()
        assert line == "started", worker.stderr.read() if worker.stderr else line
    return workers


def _race(client: openai.OpenAI, n: int) -> List[str]:
    """``n`` threads ask at the same moment; each says admitted or blocked (then drains its stream)."""
    barrier = threading.Barrier(n)
    outcomes: List[str] = []
    lock = threading.Lock()

    def ask() -> None:
        barrier.wait()
        try:
            stream = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "go"}], max_tokens=1000, stream=True
            )
        except tokentrace.BudgetExceeded as exc:
            with lock:
                outcomes.append(f"blocked:{exc.reason}")
            return
        with lock:
            outcomes.append("admitted")
        for _ in stream:
            pass

    threads = [threading.Thread(target=ask) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(outcomes)


def test_killed_processes_leases_lapse_while_a_live_one_renews_and_threads_race_for_the_room(
    instrument: Any, redis_url: str, server: ProviderServer, client: openai.OpenAI
) -> None:
    # Three slow streams (~9 s each): three reservations, the whole budget.
    server.enqueue(*[ResponsePlan(chunks=18, chunk_delay_s=0.5) for _ in range(3)])
    workers = _start_workers(server, redis_url, 3)
    try:
        instrument(budget_store=redis_url, budgets=BUDGET)
        assert _race(client, 1) == ["blocked:projected"]  # three calls in flight, nothing spent
        for worker in workers[:2]:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        time.sleep(LEASE_S + 1.5)  # the killed ones' leases lapse; the live one renewed its own
        server.enqueue(*[ResponsePlan(chunks=3, chunk_delay_s=0.3) for _ in range(2)])
        outcomes = _race(client, 5)
        assert outcomes == ["admitted"] * 2 + ["blocked:projected"] * 3, outcomes
        assert workers[2].poll() is None, "the live worker should still be streaming"
        assert workers[2].stdout is not None and workers[2].stdout.readline().strip() == "done"
        workers[2].wait(10)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(10)
    # Everything settled: spend is the five finished calls' real cost, far below the limit.
    assert _race(client, 1) == ["admitted"]


def test_a_failed_settlement_releases_its_reservation_and_is_counted_once_replayed(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    monkeypatch.setattr(store_module, "RESERVATION_LEASE_S", 1)
    limit = Limit(nano_usd=1_000, tokens=None)
    key = "released:global=*:2026-12-02"
    mine, other = RedisStore(redis_url), RedisStore(redis_url)  # two processes' stores
    try:
        assert mine.reserve(key, limit, Amount(800, 0), True, "call-1", 86_400).admitted
        real_settle = mine._settle

        def unreachable(*args: Any, **kwargs: Any) -> Any:
            raise redis.exceptions.ConnectionError("Redis went away")

        mine._settle = unreachable
        with pytest.raises(StoreUnavailable):
            mine.settle(key, "call-1", Amount(300, 0), limit, (), 86_400)
        assert mine.pending_settlements == 1
        assert not other.reserve(key, limit, Amount(800, 0), True, "call-2", 86_400).admitted  # still held ...
        time.sleep(2.1)
        admitted = other.reserve(key, limit, Amount(600, 0), True, "call-3", 86_400)
        assert admitted.admitted and admitted.in_flight == Amount()  # ... until its lease lapsed
        other.settle(key, "call-3", Amount(100, 0), limit, (), 86_400)
        mine._settle = real_settle
        mine.reserve(key, limit, Amount(), False, "call-4", 86_400)  # the store answers: replayed first
        assert mine.pending_settlements == 0
        mine.settle(key, "call-4", Amount(), limit, (), 86_400)
        mine._replay()
        assert other.spent(key) == Amount(400, 0)  # 300 (replayed, once) + 100
    finally:
        mine.close()
        other.close()


def _settle_new_counters(store: MemoryStore, prefix: str, n: int) -> float:
    """Seconds per call for ``n`` calls that each create a counter (a new scope value)."""
    started = time.perf_counter()
    for i in range(n):
        store.settle(f"{prefix}:{i}", "r", Amount(1, 1), Limit(), (), 3600)
    return (time.perf_counter() - started) / n


def test_memory_expiry_is_o1_per_call_at_100k_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the expiry heap every new counter scanned all of them: 2.7 ms a call at 100k."""
    now = [1_000_000.0]
    monkeypatch.setattr(store_module.time, "time", lambda: now[0])
    small, large = MemoryStore(), MemoryStore()
    for i in range(1_000):
        small.settle(f"old:{i}", "r", Amount(1, 1), Limit(), (), 10**6)
    for i in range(100_000):
        large.settle(f"old:{i}", "r", Amount(1, 1), Limit(), (), 10**6)
    # Best of three rounds each: the machine is shared, the minimum is the cost.
    at_1k = min(_settle_new_counters(small, f"new{r}", 2_000) for r in range(3))
    at_100k = min(_settle_new_counters(large, f"new{r}", 2_000) for r in range(3))
    print(f"new counter: {at_1k * 1e6:.1f} us at 1k counters, {at_100k * 1e6:.1f} us at 100k")
    # Scanning 100k counters cost 2.7 ms a call; the heap keeps it flat (loose bounds: a shared machine).
    assert at_100k < 250e-6, f"{at_100k * 1e6:.0f} us per call at 100k counters"
    assert at_100k < 4 * at_1k + 20e-6, (at_1k, at_100k)
    # All 100k lapse at once (the window ended): no call pays for all of them, they drain.
    now[0] += 2 * 10**6
    before = len(large._counters)
    large.settle("after:first", "r", Amount(1, 1), Limit(), (), 10**6)
    assert before - len(large._counters) == store_module.DROP_PER_CALL - 1  # 64 dropped, one added
    assert large.spent("old:7") == Amount()  # lapsed, whether dropped yet or not
    for i in range(2_000):
        large.settle(f"after:{i}", "r", Amount(1, 1), Limit(), (), 10**6)
    assert len(large._counters) == 2_001  # 106k lapsed, drained by 2,001 calls (64 each at most)


def test_every_key_has_a_ttl_even_when_nothing_settles(redis_url: str) -> None:
    """A reservation that never settles (its process died) right after a failover, when the
    store raised the counter to its high-water mark: no key it wrote is left without a TTL."""
    import redis

    store = RedisStore(redis_url)
    try:
        for window_ttl in (None, 3600):  # window="total" counters (no TTL of their own) and windowed ones
            key = f"unsettled-{window_ttl}:global=*:total"
            store._saw(key, 5_000, 7)  # what this process saw before Redis lost its data
            assert store.reserve(key, Limit(nano_usd=10**9, tokens=None), Amount(10, 1), True, "dies", window_ttl).admitted
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter("tokentrace:*"))
        assert len(keys) == 4  # two counters and their in-flight hashes
        for key in keys:
            assert client.ttl(key) > 0, f"{key!r} never expires"
        client.close()
    finally:
        store.close()


def test_a_failed_settlement_is_retried_without_another_call(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lease keeper's thread retries a kept settlement until Redis takes it: an idle process
    (no next call to trigger the replay) still gets its last call's spend counted."""
    import redis

    from tokentrace.budgets import redis_store
    from tokentrace.budgets.leases import LeaseKeeper

    monkeypatch.setattr(redis_store, "COOL_DOWN_S", 0.0)
    limit = Limit(nano_usd=10**6, tokens=None)
    key = "retried:global=*:2026-12-02"
    store, reader = RedisStore(redis_url), RedisStore(redis_url)
    keeper = LeaseKeeper(lease_s=0.6)  # a round every 0.2 s
    try:
        assert store.reserve(key, limit, Amount(500, 0), True, "last-call", 86_400).admitted
        real_settle, failures = store._settle, [3]

        def flaky(*args: Any, **kwargs: Any) -> Any:
            if failures[0] > 0:
                failures[0] -= 1
                raise redis.exceptions.ConnectionError("Redis restarting")
            return real_settle(*args, **kwargs)

        store._settle = flaky
        with pytest.raises(StoreUnavailable):
            store.settle(key, "last-call", Amount(250, 0), limit, (), 86_400)
        keeper.retry(store)
        deadline = time.monotonic() + 10
        while store.pending_settlements and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.pending_settlements == 0 and failures[0] == 0  # two more failures, then sent
        assert reader.spent(key) == Amount(250, 0)
        time.sleep(0.5)
        assert keeper._thread is None  # nothing left to do: the thread ended
    finally:
        keeper.close()
        store.close()
        reader.close()
