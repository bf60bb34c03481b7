"""Budgets enforced on real calls: the real openai SDK over HTTP to the local provider server.

Costs are hand-computed from the placeholder catalog: gpt-4o-mini is $0.15 / 1M input and
$0.60 / 1M output tokens, so a call reporting 1,000 prompt + 500 completion tokens costs
1000 * 0.15e-6 + 500 * 0.60e-6 = $0.00045 and uses 1,500 tokens.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from typing import Any, List

import openai
import pytest

import tokentrace
from tokentrace.budgets import BudgetAlert, BudgetExceeded
from tokentrace.testing import ProviderServer, ResponsePlan

CALL_USD = 0.00045
CALL_TOKENS = 1500
USAGE = {
    "prompt_tokens": 1000,
    "completion_tokens": 500,
    "total_tokens": 1500,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}
MESSAGES = [{"role": "user", "content": "Summarise the quarterly spend report."}]


def plan(n: int, **kw: Any) -> List[ResponsePlan]:
    return [ResponsePlan(usage=dict(USAGE), **kw) for _ in range(n)]


def ask(client: openai.OpenAI, model: str = "gpt-4o-mini", **kw: Any) -> Any:
    return client.chat.completions.create(model=model, messages=MESSAGES, **kw)


def test_hard_budget_blocks_the_next_call_before_it_reaches_the_server(
    instrument: Any, server: ProviderServer, client: openai.OpenAI
) -> None:
    telemetry = instrument()
    server.enqueue(*plan(3))
    with tokentrace.budget(usd=2 * CALL_USD) as block:
        ask(client)
        ask(client)
        assert len(server.requests) == 2
        assert block.spent_usd == pytest.approx(2 * CALL_USD, abs=1e-12)
        with pytest.raises(BudgetExceeded) as error:
            ask(client)
    assert len(server.requests) == 2  # the provider never received the third call
    blocked = error.value
    assert (blocked.budget, blocked.scope, blocked.unit, blocked.reason) == ("block", "entry", "usd", "spent")
    assert blocked.limit == 2 * CALL_USD and blocked.spent == pytest.approx(0.0009, abs=1e-12)
    assert blocked.overspend == pytest.approx(0.0, abs=1e-12)
    assert blocked.exceeded_since is not None and blocked.model == "gpt-4o-mini"
    assert "tokentrace budget 'block' (this block) is used up since" in str(blocked)
    assert "$0.0009 spent of $0.0009 (over by $0); the call to gpt-4o-mini was not sent" in str(blocked)
    spans = telemetry.llm_spans()
    assert len(spans) == 3
    last = spans[-1]
    assert last.attributes["error.type"] == "tokentrace.BudgetExceeded"
    assert [e.name for e in last.events][:1] == ["tokentrace.budget.exceeded"]
    assert last.events[0].attributes["tokentrace.budget.name"] == "block"


def test_exactly_at_the_limit_blocks_one_nano_dollar_below_admits(
    instrument: Any, server: ProviderServer, client: openai.OpenAI
) -> None:
    instrument()
    server.enqueue(*plan(4))
    with tokentrace.budget(usd=2 * CALL_USD + 1e-9):
        ask(client)
        ask(client)
        ask(client)  # spent $0.0009 < limit $0.000900001: admitted, and it overshoots
        with pytest.raises(BudgetExceeded) as error:
            ask(client)
    assert len(server.requests) == 3
    assert error.value.overspend == pytest.approx(CALL_USD - 1e-9, abs=1e-12)


def test_token_budget_boundary(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    instrument()
    server.enqueue(*plan(3))
    with tokentrace.budget(tokens=2 * CALL_TOKENS) as block:
        ask(client)
        ask(client)
        with pytest.raises(BudgetExceeded) as error:
            ask(client)
    assert block.spent_tokens == 3000 and len(server.requests) == 2
    assert (error.value.unit, error.value.limit, error.value.spent) == ("tokens", 3000, 3000)
    assert "3,000 tokens spent of 3,000 tokens" in str(error.value)


def test_zero_budget_blocks_the_first_call(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    instrument()
    with tokentrace.budget(usd=0), pytest.raises(BudgetExceeded):
        ask(client)
    assert server.requests == []


def test_soft_thresholds_fire_once_each(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument()
    alerts: List[BudgetAlert] = []
    server.enqueue(*plan(7))
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        with tokentrace.budget(usd=5 * CALL_USD, on_exceed=alerts.append, name="soft"):
            for _ in range(7):  # 20 %, 40 %, 60 %, 80 %, 100 %, 120 %, 140 %: nothing is blocked
                ask(client)
    assert len(server.requests) == 7
    assert [a.threshold for a in alerts] == [0.5, 0.8, 1.0]
    assert [round(a.utilization, 9) for a in alerts] == [0.6, 0.8, 1.0]
    assert alerts[-1].spent_usd == pytest.approx(5 * CALL_USD, abs=1e-12) and not alerts[-1].hard
    events = [[e.name for e in s.events] for s in telemetry.llm_spans()]
    assert events == [[], [], ["tokentrace.budget.threshold"], ["tokentrace.budget.threshold"],
                      ["tokentrace.budget.threshold"], [], []]
    lines = [r.getMessage() for r in caplog.records if "tokentrace budget 'soft'" in r.getMessage()]
    assert len(lines) == 3 and "reached 80%" in lines[1] and "calls continue" in lines[2]
    (point,) = telemetry.points("tokentrace.budget.utilization")
    assert point.value == pytest.approx(1.4)
    assert point.attributes["tokentrace.budget.name"] == "soft"


def test_warn_budget_never_blocks(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    instrument()
    server.enqueue(*plan(3))
    with tokentrace.budget(usd=CALL_USD, on_exceed="warn"):
        for _ in range(3):
            ask(client)
    assert len(server.requests) == 3


def test_projected_cost_blocks_before_sending(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    instrument()
    server.enqueue(*plan(1))
    with tokentrace.budget(usd=0.001, project=True):
        # 2,000 max output tokens at $0.60 / 1M = $0.0012 > $0.001 left: blocked unsent.
        with pytest.raises(BudgetExceeded) as error:
            ask(client, max_tokens=2000)
        assert server.requests == []
        # 500 max output tokens ($0.0003) plus the short prompt fits: sent.
        ask(client, max_tokens=500)
    assert len(server.requests) == 1
    blocked = error.value
    assert blocked.reason == "projected" and blocked.spent == 0
    assert blocked.projected == pytest.approx(0.0012 + 0.15e-6 * blocked_prompt_tokens(), abs=1e-12)
    assert "would be exceeded" in str(blocked)


def blocked_prompt_tokens() -> int:
    """The prompt as the budget counts it locally: about four characters a token."""
    from tokentrace.core.estimate import heuristic_count

    return heuristic_count(MESSAGES[0]["content"])


def test_projection_counts_calls_in_flight(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    """Two concurrent calls projecting $0.0006 each cannot both start under a $0.001 budget."""
    instrument()
    server.enqueue(ResponsePlan(usage=dict(USAGE), delay_s=0.3))
    results: List[str] = []

    def call() -> None:
        try:
            ask(client, max_tokens=1000)
            results.append("sent")
        except BudgetExceeded as exc:
            results.append(exc.reason)

    with tokentrace.budget(usd=0.001, project=True):
        first = threading.Thread(target=contextvars.copy_context().run, args=(call,))
        first.start()
        while not server.requests:
            pass
        call()
        first.join()
    assert sorted(results) == ["projected", "sent"] and len(server.requests) == 1


def test_failed_calls_count_nothing_and_release_their_reservation(
    instrument: Any, server: ProviderServer, client: openai.OpenAI
) -> None:
    instrument()
    server.enqueue(ResponsePlan(status=500), *plan(1))
    with tokentrace.budget(usd=0.0007, project=True) as block:
        with pytest.raises(openai.InternalServerError):
            ask(client, max_tokens=1000)
        assert block.spent_usd == 0
        ask(client, max_tokens=1000)  # admitted: the failed call's $0.0006 reservation was released
    assert len(server.requests) == 2


def test_stream_is_counted_when_it_ends(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    instrument()
    server.enqueue(*plan(2))
    with tokentrace.budget(tokens=CALL_TOKENS) as block:
        chunks = list(ask(client, stream=True))
        assert chunks and block.spent_tokens == CALL_TOKENS
        with pytest.raises(BudgetExceeded):
            ask(client, stream=True)
    assert len(server.requests) == 1


def test_nested_budgets_all_apply(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    instrument()
    server.enqueue(*plan(3))
    with tokentrace.budget(usd=CALL_USD, name="outer") as outer:
        with tokentrace.budget(usd=1.0, name="inner") as inner:
            ask(client)
            with pytest.raises(BudgetExceeded) as error:
                ask(client)
    assert error.value.budget == "outer"
    assert inner.spent_usd == outer.spent_usd == pytest.approx(CALL_USD, abs=1e-12)


def test_unpriced_model_counts_tokens_but_not_dollars(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument()
    server.enqueue(*plan(3))
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        with tokentrace.budget(usd=CALL_USD / 2, tokens=2 * CALL_TOKENS) as block:
            ask(client, model="acme-local-70b")
            ask(client, model="acme-local-70b")
            with pytest.raises(BudgetExceeded) as error:
                ask(client, model="acme-local-70b")
    assert block.spent_usd == 0 and block.spent_tokens == 3000
    assert error.value.unit == "tokens"
    warnings = [r.getMessage() for r in caplog.records if "cannot count the cost" in r.getMessage()]
    assert len(warnings) == 1 and "'acme-local-70b'" in warnings[0]
    assert "tokentrace.budget.unpriced" in [e.name for e in telemetry.llm_spans()[0].events]


def test_threads_cannot_overspend_more_than_calls_in_flight(
    instrument: Any, server: ProviderServer, client: openai.OpenAI
) -> None:
    instrument()
    workers = 6
    server.enqueue(*plan(40, delay_s=0.02))
    admitted = [0] * workers

    def run(index: int) -> None:
        try:
            while True:
                ask(client)
                admitted[index] += 1
        except BudgetExceeded:
            return

    with tokentrace.budget(usd=10 * CALL_USD) as block:
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(run, i)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        spent = block.spent_usd
    total = sum(admitted)
    assert total == len(server.requests)
    assert spent == pytest.approx(total * CALL_USD, abs=1e-12)
    # Admitted while spent < limit: at most 10 calls fit, plus the other workers' calls in flight.
    assert 10 <= total <= 10 + workers - 1


def test_asyncio_tasks_share_the_block_budget(instrument: Any, server: ProviderServer) -> None:
    instrument()
    server.enqueue(*plan(40, delay_s=0.02))
    aclient = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test-budgets", max_retries=0)

    async def worker() -> int:
        done = 0
        try:
            while True:
                await aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
                done += 1
        except BudgetExceeded:
            return done

    async def main() -> int:
        async with tokentrace.budget(usd=8 * CALL_USD):
            return sum(await asyncio.gather(*(worker() for _ in range(5))))

    total = asyncio.run(main())
    assert 8 <= total <= 8 + 4 and total == len(server.requests)


def test_decorator_gives_each_invocation_its_own_budget(
    instrument: Any, server: ProviderServer, client: openai.OpenAI
) -> None:
    instrument()
    server.enqueue(*plan(4))

    @tokentrace.budget(usd=CALL_USD)
    def task() -> str:
        ask(client)
        try:
            ask(client)
        except BudgetExceeded:
            return "stopped"
        return "ran on"

    assert [task(), task()] == ["stopped", "stopped"]
    assert len(server.requests) == 2


def test_async_decorator(instrument: Any, server: ProviderServer) -> None:
    instrument()
    server.enqueue(*plan(2))
    aclient = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test-budgets", max_retries=0)

    @tokentrace.budget(tokens=CALL_TOKENS)
    async def task() -> None:
        await aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        await aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    with pytest.raises(BudgetExceeded):
        asyncio.run(task())
    assert len(server.requests) == 1


def test_configured_team_budgets_apply_per_team(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    instrument(budgets=[
        {"name": "team-daily", "scope": "team", "window": "day", "usd": CALL_USD},
        {"name": "search-only", "scope": "team", "match": {"team": "search"}, "tokens": 10 * CALL_TOKENS},
    ])
    server.enqueue(*plan(4))
    with tokentrace.attribute(team="search"):
        ask(client)
        with pytest.raises(BudgetExceeded) as error:
            ask(client)
    with tokentrace.attribute(team="ads"):
        ask(client)  # another team has its own counter
    ask(client)  # no team: a team-scoped budget does not cover the call
    assert len(server.requests) == 3
    blocked = error.value
    assert (blocked.budget, blocked.scope, blocked.scope_value, blocked.window) == ("team-daily", "team", "search", "day")
    assert "(team=search, day from " in str(blocked)


def test_budget_declared_with_scope_in_code_is_shared_between_blocks(
    instrument: Any, server: ProviderServer, client: openai.OpenAI
) -> None:
    instrument()
    server.enqueue(*plan(2))
    task_budget = tokentrace.budget(usd=CALL_USD, scope="task", name="per-task")
    with tokentrace.attribute(task="t-1"):
        with task_budget:
            ask(client)
        with task_budget, pytest.raises(BudgetExceeded):
            ask(client)
    with tokentrace.attribute(task="t-2"), task_budget:
        ask(client)
    assert len(server.requests) == 2


def test_uninstrumented_budgets_do_nothing(server: ProviderServer, client: openai.OpenAI) -> None:
    tokentrace.uninstrument()
    server.enqueue(*plan(2))
    with tokentrace.budget(usd=0):
        ask(client)
    assert len(server.requests) == 1


def test_callback_errors_never_reach_the_app(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    instrument()
    server.enqueue(*plan(1))

    def broken(alert: BudgetAlert) -> None:
        raise RuntimeError("alerting is down")

    with tokentrace.budget(usd=CALL_USD, on_exceed=broken):
        response = ask(client)
    assert response.usage.prompt_tokens == 1000


class BrokenStore:
    """A store whose every operation fails with an unexpected error (a bug, not an outage)."""

    label = "broken"

    def reserve(self, *args: Any) -> Any:
        raise RuntimeError("store bug")

    def settle(self, *args: Any) -> Any:
        raise RuntimeError("store bug")

    def spent(self, key: str) -> Any:
        raise RuntimeError("store bug")

    def close(self) -> None:
        raise RuntimeError("store bug")


def test_a_failing_store_never_breaks_the_call(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    from tokentrace.core.safety import reset_reported

    reset_reported()
    instrument(budget_store=BrokenStore(), budgets=[{"name": "b", "usd": 1}])
    server.enqueue(*plan(2))
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        assert ask(client).usage.total_tokens == 1500
        assert ask(client).usage.total_tokens == 1500
        tokentrace.uninstrument()
    assert len(server.requests) == 2
    assert "internal error in observer BudgetEnforcer.before_call (RuntimeError: store bug)" in caplog.text
