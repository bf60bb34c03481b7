"""Budgets shared through Redis: two real processes, one budget; and an unreachable store."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import openai
import pytest

import tokentrace
from tokentrace.budgets import BudgetExceeded, BudgetStoreUnavailable
from tokentrace.testing import ProviderServer

from .test_enforcement import CALL_USD, ask, plan

WORKER = Path(__file__).with_name("budget_worker.py")


def test_two_processes_sharing_a_redis_budget_cannot_overspend(
    server: ProviderServer, redis_url: str, tmp_path: Path
) -> None:
    limit_calls = 20
    server.enqueue(*plan(3 * limit_calls, delay_s=0.01))
    env = {**os.environ, "OTEL_SDK_DISABLED": "true"}
    processes = [
        subprocess.Popen(
            [sys.executable, str(WORKER), server.openai_url, redis_url, repr(limit_calls * CALL_USD), str(tmp_path), "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    admitted = [r["admitted"] for r in reports]
    assert all(r["budget"] == "shared-daily" and r["reason"] == "spent" for r in reports)
    assert all(a > 0 for a in admitted), f"both processes should have made calls: {admitted}"
    assert sum(admitted) == len(server.requests)
    # Admitted while the shared spend was below the limit: 20 calls fit, plus at most the one
    # call the other process had in flight when the 20th landed.
    assert limit_calls <= sum(admitted) <= limit_calls + 1

    import redis

    client = redis.Redis.from_url(redis_url)
    keys = client.keys("tokentrace:budget:shared-daily:global=*")
    (key,) = [k for k in keys if not k.endswith((b":inflight", b":settled")) and b":claim:" not in k]
    # Every key (counter, reservations, a forecast alert's claim) expires.
    assert all(0 < client.ttl(k) <= 2 * 86_400 for k in keys if not k.endswith(b":inflight"))
    assert int(client.hget(key, "usd")) == sum(admitted) * 450_000  # nano-dollars
    assert 0 < client.ttl(key) <= 2 * 86_400
    client.close()


def test_redis_budget_in_this_process(instrument: Any, server: ProviderServer, redis_url: str) -> None:
    instrument(budget_store=redis_url, budgets=[{"name": "one", "usd": CALL_USD, "window": "month"}])
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test-budgets", max_retries=0)
    server.enqueue(*plan(2))
    ask(client)
    with pytest.raises(BudgetExceeded) as error:
        ask(client)
    assert len(server.requests) == 1 and error.value.window == "month"
    # A second instrument() (a restart) sees the same spend: it lives in Redis, not in the process.
    tokentrace.uninstrument()
    instrument(budget_store=redis_url, budgets=[{"name": "one", "usd": CALL_USD, "window": "month"}])
    with pytest.raises(BudgetExceeded):
        ask(client)
    assert len(server.requests) == 1


def test_unreachable_store_fails_open_with_one_warning(
    instrument: Any, server: ProviderServer, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument(
        budget_store=f"redis://127.0.0.1:{closed_port}/0", budgets=[{"name": "cap", "usd": 0}]
    )
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test-budgets", max_retries=0)
    server.enqueue(*plan(4))
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        for _ in range(4):
            started = time.monotonic()
            ask(client)
            assert time.monotonic() - started < 0.5
    assert len(server.requests) == 4  # the $0 budget cannot be checked: calls go through
    warnings = [r for r in caplog.records if "budget store" in r.getMessage() and "unreachable" in r.getMessage()]
    assert len(warnings) == 1 and "on_store_error='open'" in warnings[0].getMessage()
    assert "tokentrace.budget.unchecked" in [e.name for e in telemetry.llm_spans()[0].events]


def test_unreachable_store_fails_closed_on_request(
    instrument: Any, server: ProviderServer, silent_port: int
) -> None:
    instrument(
        budget_store=f"redis://127.0.0.1:{silent_port}/0",
        budgets=[{"name": "cap", "usd": 100, "on_store_error": "closed"}],
    )
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test-budgets", max_retries=0)
    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(BudgetStoreUnavailable) as error:
            ask(client)
        assert time.monotonic() - started < 0.5  # a hung store times out; it never hangs the app
    assert server.requests == []
    assert isinstance(error.value, BudgetExceeded) and error.value.reason == "store_unavailable"
    assert "is unreachable" in str(error.value) and "fails closed" in str(error.value)


def test_store_that_comes_back_is_used_again(
    instrument: Any, server: ProviderServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from tokentrace.budgets import redis_store

    from .conftest import free_port, launch_redis

    monkeypatch.setattr(redis_store, "COOL_DOWN_S", 0.0)
    port = free_port()
    instrument(budget_store=f"redis://127.0.0.1:{port}/0", budgets=[{"name": "back", "usd": CALL_USD}])
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test-budgets", max_retries=0)
    server.enqueue(*plan(3))
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        ask(client)  # store down: fails open; the call's spend waits for the store
        process = launch_redis(port)
        try:
            # store up: the kept settlement is replayed first, so the budget is already used up
            with pytest.raises(BudgetExceeded):
                ask(client)
        finally:
            process.terminate()
            process.wait(10)
    assert len(server.requests) == 1
    assert "answers again; budgets are enforced again" in caplog.text
