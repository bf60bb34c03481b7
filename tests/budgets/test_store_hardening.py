"""Budget stores hold: bad URLs, unshared user hashes, re-instrumenting, expiry, TTLs, leases."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import openai
import pytest

import tokentrace
from tokentrace.budgets import store as store_module
from tokentrace.budgets.errors import BudgetConfigError
from tokentrace.budgets.leases import LeaseKeeper
from tokentrace.budgets.store import SHARED_MEMORY, Amount, Limit, MemoryStore
from tokentrace.core.config import ConfigError
from tokentrace.testing import ProviderServer, ResponsePlan

MESSAGES = [{"role": "user", "content": "hi"}]
WORKER = Path(__file__).with_name("lease_worker.py")
#: gpt-4o-mini: 1000 output tokens max ~ $0.0006 projected; one such call fits, two do not.
LEASE_LIMIT_USD = 0.001


@pytest.fixture(autouse=True)
def _fresh_memory() -> Iterator[None]:
    SHARED_MEMORY.clear()
    yield
    SHARED_MEMORY.clear()


def _ask(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **kwargs)


def test_bad_store_url_falls_back_to_memory_and_tracing_goes_on(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="tokentrace"):
        telemetry = instrument(budget_store="redis://:hunter2@127.0.0.1:notaport/0", budgets=[{"name": "cap", "usd": 0}])
    assert "is not a usable Redis URL" in caplog.text and "fall back to the in-memory store" in caplog.text
    assert "hunter2" not in caplog.text
    with pytest.raises(tokentrace.BudgetExceeded):  # the budget still applies, in memory
        _ask(client)
    assert len(telemetry.llm_spans()) == 1  # and the call is traced
    assert "internal error" not in caplog.text


def test_bad_store_url_is_a_config_error_under_strict(telemetry: Any) -> None:
    with pytest.raises(ConfigError, match="not a usable Redis URL"):
        tokentrace.instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider,
            budget_store="redis://127.0.0.1:notaport/0", strict=True,
        )
    assert not tokentrace.is_instrumented()


def test_shared_user_budget_refuses_a_per_process_random_key(
    instrument: Any, redis_url: str, server: ProviderServer, client: openai.OpenAI, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOKENTRACE_USER_HASH_KEY", raising=False)
    budgets = [{"name": "per-user", "scope": "user", "window": "day", "usd": 0}]
    with pytest.raises(BudgetConfigError, match="TOKENTRACE_USER_HASH_KEY"):
        tokentrace.instrument(budget_store=redis_url, budgets=budgets, strict=True, configure_sdk=False)
    with caplog.at_level(logging.ERROR, logger="tokentrace"):
        instrument(budget_store=redis_url, budgets=budgets)
    assert "'per-user'" in caplog.text and "left out" in caplog.text
    with tokentrace.attribute(user="bob"):
        _ask(client)  # not blocked: the budget was refused, loudly
    tokentrace.uninstrument()
    instrument(budget_store=redis_url, budgets=budgets, user_hash_key="shared-secret")
    with tokentrace.attribute(user="bob"), pytest.raises(tokentrace.BudgetExceeded):
        _ask(client)


def test_memory_counters_survive_reinstrumenting(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    budgets = [{"name": "one-call", "window": "day", "tokens": 1}]
    instrument(budgets=budgets)
    _ask(client)
    tokentrace.uninstrument()
    instrument(budgets=budgets)
    with pytest.raises(tokentrace.BudgetExceeded):
        _ask(client)


def test_memory_expiry_drops_only_expired_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    now = [1_000_000.0]
    monkeypatch.setattr(store_module.time, "time", lambda: now[0])
    for i in range(1000):
        store.settle(f"short:{i}", "r", Amount(1, 1), Limit(), (), 10)
    for i in range(1000):
        store.settle(f"long:{i}", "r", Amount(1, 1), Limit(), (), 10_000)
    now[0] += 11
    store.settle("new", "r", Amount(1, 1), Limit(), (), 10)
    assert store.spent("long:7") == Amount(1, 1) and store.spent("short:7") == Amount()  # lapsed at once
    for i in range(1000 // store_module.DROP_PER_CALL):  # dropped a bounded number per call
        store.settle(f"new:{i}", "r", Amount(1, 1), Limit(), (), 10)
    assert len(store._counters) == 1001 + 1000 // store_module.DROP_PER_CALL
    assert store.spent("long:7") == Amount(1, 1) and store.spent("short:7") == Amount()
    assert len(store._expiry) <= len(store._counters)  # the heap holds one entry per live counter


def test_every_redis_key_has_a_ttl(instrument: Any, redis_url: str, server: ProviderServer, client: openai.OpenAI) -> None:
    import redis

    instrument(
        budget_store=redis_url,
        budgets=[
            {"name": "forever", "window": "total", "usd": 100, "project": True},
            {"name": "hourly", "window": "hour", "usd": 100, "project": True},
        ],
    )
    for _ in range(3):
        _ask(client, max_tokens=50)
    r = redis.Redis.from_url(redis_url)
    keys = list(r.scan_iter("tokentrace:*"))
    assert keys
    for key in keys:
        assert r.ttl(key) > 0, f"{key!r} never expires"
    r.close()


def test_lease_keeper_renews_until_removed() -> None:
    store = MemoryStore()
    admission = store.reserve("k", Limit(10, None), Amount(6, 0), True, "res-1", None)
    assert admission.admitted
    keeper = LeaseKeeper(lease_s=3)
    keeper.add("res-1", [(store, "k")])
    keeper.renew_all()
    assert keeper.live == 1
    keeper.remove("res-1")
    store.settle("k", "res-1", Amount(1, 0), Limit(10, None), (), None)
    keeper.renew_all()
    assert keeper.live == 0 and not store.renew("k", "res-1")
    keeper.close()


def _start_worker(server: ProviderServer, redis_url: str, lease_s: int) -> subprocess.Popen[str]:
    env = {**os.environ, "TOKENTRACE_BUDGET_LEASE_S": str(lease_s)}
    process = subprocess.Popen(
        [sys.executable, str(WORKER), server.openai_url, redis_url, str(LEASE_LIMIT_USD)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line == "started", process.stderr.read() if process.stderr else line
    return process


def _blocked(client: openai.OpenAI) -> bool:
    try:
        _ask(client, max_tokens=1000)
    except tokentrace.BudgetExceeded as exc:
        assert exc.reason == "projected"
        return True
    return False


BUDGET = [{"name": "leased", "scope": "global", "window": "day", "usd": LEASE_LIMIT_USD, "project": True}]


def test_a_killed_process_releases_its_reservation_when_the_lease_lapses(
    instrument: Any, redis_url: str, server: ProviderServer, client: openai.OpenAI
) -> None:
    server.enqueue(ResponsePlan(chunks=20, chunk_delay_s=0.5))
    worker = _start_worker(server, redis_url, lease_s=2)
    worker.kill()  # mid-stream: its reservation stays in Redis, nobody renews it
    worker.wait(10)
    instrument(budget_store=redis_url, budgets=BUDGET)
    assert _blocked(client)  # the dead process's reservation still counts ...
    time.sleep(2.5)
    assert not _blocked(client)  # ... until its short lease lapsed (it was an hour)


def test_a_long_stream_renews_its_lease(instrument: Any, redis_url: str, server: ProviderServer, client: openai.OpenAI) -> None:
    server.enqueue(ResponsePlan(chunks=14, chunk_delay_s=0.5))  # ~7 s: more than three leases
    worker = _start_worker(server, redis_url, lease_s=2)
    try:
        instrument(budget_store=redis_url, budgets=BUDGET)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            assert _blocked(client), "the live stream's reservation lapsed although it was renewed"
            time.sleep(0.5)
        assert worker.stdout is not None and worker.stdout.readline().strip() == "done"
        worker.wait(10)
        assert not _blocked(client)  # settled: the budget has room again
    finally:
        worker.kill()
