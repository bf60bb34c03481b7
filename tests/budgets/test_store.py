"""The store contract, for the in-memory store and for Redis alike: the boundary, in-flight
reservations, thresholds that fire once, and no overspend under concurrency."""

from __future__ import annotations

import threading
from typing import Any, Iterator, List

import pytest

from tokentrace.budgets.store import Amount, Limit, MemoryStore, StoreUnavailable, decide, utilization

NONE = Amount()
T = (0.5, 0.8, 1.0)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
        return
    from tokentrace.budgets.redis_store import RedisStore

    url = request.getfixturevalue("redis_url")
    redis_store = RedisStore(url)
    yield redis_store
    redis_store.close()


def admit(store: Any, key: str, limit: Limit, rid: str, projection: Amount = NONE, check: bool = False) -> Any:
    return store.reserve(key, limit, projection, check, rid, None)


def test_admitted_while_spent_is_below_the_limit_and_blocked_at_it(store: Any) -> None:
    limit = Limit(nano_usd=1_000)
    assert admit(store, "k", limit, "a").admitted
    store.settle("k", "a", Amount(999, 10), limit, T, None)
    # 999 < 1000: one nano-dollar left, so the next call is admitted.
    assert admit(store, "k", limit, "b").admitted
    settled = store.settle("k", "b", Amount(1, 1), limit, T, None)
    assert settled.spent == Amount(1_000, 11)
    # spent == limit: used up, blocked.
    blocked = admit(store, "k", limit, "c")
    assert (blocked.admitted, blocked.unit, blocked.reason, blocked.spent) == (False, "usd", "spent", Amount(1_000, 11))
    assert blocked.exceeded_at is not None


def test_token_limit_boundary(store: Any) -> None:
    limit = Limit(tokens=100)
    assert admit(store, "t", limit, "a").admitted
    store.settle("t", "a", Amount(5, 99), limit, T, None)
    assert admit(store, "t", limit, "b").admitted
    store.settle("t", "b", Amount(5, 1), limit, T, None)
    blocked = admit(store, "t", limit, "c")
    assert (blocked.admitted, blocked.unit) == (False, "tokens")


def test_zero_limit_blocks_everything(store: Any) -> None:
    blocked = admit(store, "z", Limit(nano_usd=0), "a")
    assert (blocked.admitted, blocked.reason) == (False, "spent")


def test_projection_exactly_at_the_limit_is_admitted_one_over_is_not(store: Any) -> None:
    limit = Limit(nano_usd=1_000, tokens=None)
    first = admit(store, "p", limit, "a", Amount(600, 0), check=True)
    assert first.admitted
    # 600 in flight + 400 projected == 1000: admitted (it would land exactly on the limit).
    second = admit(store, "p", limit, "b", Amount(400, 0), check=True)
    assert second.admitted and second.in_flight == Amount(600, 0)
    third = admit(store, "p", limit, "c", Amount(1, 0), check=True)
    assert (third.admitted, third.reason, third.in_flight) == (False, "projected", Amount(1_000, 0))
    # Settling releases the reservation and counts the real amount instead.
    store.settle("p", "a", Amount(100, 0), limit, T, None)
    store.settle("p", "b", Amount(100, 0), limit, T, None)
    again = admit(store, "p", limit, "d", Amount(800, 0), check=True)
    assert again.admitted and again.spent == Amount(200, 0) and again.in_flight == NONE


def test_projection_is_ignored_when_not_checked(store: Any) -> None:
    assert admit(store, "q", Limit(nano_usd=10), "a", Amount(10_000, 0), check=False).admitted


def test_thresholds_fire_once_each_in_order(store: Any) -> None:
    limit = Limit(nano_usd=100)
    fired: List[float] = []
    for index, cost in enumerate([30, 19, 1, 29, 1, 19, 1, 50]):
        fired.extend(store.settle("th", f"r{index}", Amount(cost, 0), limit, T, None).fired)
    # 30, 49, 50 (50 % exactly), 79, 80 (80 %), 99, 100 (100 %), 150
    assert fired == [0.5, 0.8, 1.0]


def test_a_jump_fires_every_threshold_it_passes(store: Any) -> None:
    settled = store.settle("j", "r", Amount(0, 250), Limit(tokens=100), T, None)
    assert settled.fired == (0.5, 0.8, 1.0) and settled.exceeded_at is not None


def test_counters_are_independent(store: Any) -> None:
    limit = Limit(nano_usd=10)
    store.settle("one", "r", Amount(10, 0), limit, T, None)
    assert not admit(store, "one", limit, "x").admitted
    assert admit(store, "two", limit, "y").admitted
    assert store.spent("one") == Amount(10, 0) and store.spent("missing") == NONE


def test_threads_cannot_overspend_more_than_what_is_in_flight(store: Any) -> None:
    """16 threads race for a 1,000 nano-dollar budget in 7-nano calls, each with one call in flight."""
    limit = Limit(nano_usd=1_000)
    cost = 7
    admitted = [0] * 16
    barrier = threading.Barrier(16)

    def worker(index: int) -> None:
        barrier.wait()
        n = 0
        while True:
            rid = f"{index}-{n}"
            n += 1
            if not admit(store, "race", limit, rid).admitted:
                return
            admitted[index] += 1
            store.settle("race", rid, Amount(cost, 0), limit, T, None)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    total = sum(admitted) * cost
    assert store.spent("race").nano_usd == total
    assert 1_000 <= total < 1_000 + 16 * cost  # each thread had at most one call in flight


def test_concurrent_projected_reservations_never_exceed_the_limit(store: Any) -> None:
    """With projections on, in-flight reservations count: the admitted projections fit the limit."""
    limit = Limit(tokens=1_000)
    results: List[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def worker(index: int) -> None:
        barrier.wait()
        ok = admit(store, "proj", limit, f"r{index}", Amount(0, 120), check=True).admitted
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results.count(True) == 8  # 8 * 120 = 960 <= 1000 < 9 * 120


def test_decide_and_utilization_rules() -> None:
    assert decide(Amount(9, 0), NONE, NONE, Limit(10, None), False) == (None, None)
    assert decide(Amount(10, 0), NONE, NONE, Limit(10, None), False) == ("usd", "spent")
    assert decide(Amount(0, 10), NONE, NONE, Limit(10, 10), False) == ("tokens", "spent")
    assert utilization(Amount(5, 80), Limit(10, 100)) == 0.8
    assert utilization(Amount(0, 0), Limit(0, None)) == 1.0
    assert utilization(Amount(5, 5), Limit()) == 0.0


def test_redis_store_unreachable_fails_fast_and_logs_once(closed_port: int, caplog: pytest.LogCaptureFixture) -> None:
    import time

    from tokentrace.budgets.redis_store import RedisStore

    store = RedisStore(f"redis://:s3cret@127.0.0.1:{closed_port}/0")
    with caplog.at_level("WARNING", logger="tokentrace"):
        for _ in range(5):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                admit(store, "k", Limit(1), "r")
            assert time.monotonic() - started < 0.5
    unreachable = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(unreachable) == 1
    assert "s3cret" not in caplog.text and "redis://***@127.0.0.1" in caplog.text


def test_redis_store_hung_server_times_out(silent_port: int) -> None:
    import time

    from tokentrace.budgets.redis_store import RedisStore

    store = RedisStore(f"redis://127.0.0.1:{silent_port}/0")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        admit(store, "k", Limit(1), "r")
    assert time.monotonic() - started < 0.5
