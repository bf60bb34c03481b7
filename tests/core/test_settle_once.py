"""The settle-once registry behind deferred usage: once per id, from any thread, bounded."""

from __future__ import annotations

import threading

from tokentrace.core.settle_once import SettleOnce, Started


def test_claimed_once_with_what_was_deferred() -> None:
    registry: SettleOnce[Started] = SettleOnce()
    started = Started(attribution="team-a", context=None)
    assert registry.defer("resp_1", started)
    assert registry.claim("resp_1") == (True, started)
    assert registry.claim("resp_1") == (False, None)
    assert not registry.defer("resp_1", started)  # settled already: nothing left pending
    assert registry.claim("resp_2") == (True, None)  # not deferred here (another process created it)


def test_many_threads_claim_one_id_once() -> None:
    registry: SettleOnce[Started] = SettleOnce()
    registry.defer("resp_1", Started(None, None))
    wins = []
    barrier = threading.Barrier(16)

    def claim() -> None:
        barrier.wait()
        wins.append(registry.claim("resp_1")[0])

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1 and len(wins) == 16


def test_memory_is_bounded_oldest_first() -> None:
    registry: SettleOnce[Started] = SettleOnce(max_entries=3)
    for index in range(5):
        registry.defer(f"resp_{index}", Started(None, None))
    assert registry.sizes() == (3, 0)
    assert not registry.pending("resp_0") and not registry.pending("resp_1") and registry.pending("resp_4")
    for index in range(5):
        registry.claim(f"resp_{index}")
    assert registry.sizes() == (0, 3)
