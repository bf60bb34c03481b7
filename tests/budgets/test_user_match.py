"""Budgets and policies that match a user by id: compared with the hash calls carry, never in clear.

A call's attribution holds the keyed hash of its user id; a budget written with the id itself
(``match={"user": "bob@example.com"}``) must still apply to bob's calls — and only his — and
its name, its ``BudgetExceeded`` message and everything on the span must show the hash only.
Driven through the real openai SDK against the local server.
"""

from __future__ import annotations

from typing import Any, List

import openai
import pytest

import tokentrace
from tokentrace.attribution.users import UserHasher

BOB = "bob@example.com"
KEY = "user-match-test-key"
MESSAGES = [{"role": "user", "content": "hi"}]


def _client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


def _call(client: openai.OpenAI, user: str) -> Any:
    with tokentrace.attribute(user=user):
        return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def _everything_said(telemetry: Any, blocked: List[BaseException]) -> str:
    said = [str(error) for error in blocked]
    for span in telemetry.exporter.get_finished_spans():
        said += [f"{k}={v}" for k, v in (span.attributes or {}).items()]
        said.append(span.status.description or "")
        for event in span.events:
            said += [f"{k}={v}" for k, v in (event.attributes or {}).items()]
    return "\n".join(said)


def test_a_configured_user_budget_applies_to_that_user_by_hash(instrument: Any, telemetry: Any, server: Any) -> None:
    instrument(user_hash_key=KEY, budgets=[{"match": {"user": BOB}, "window": "day", "tokens": 1}])
    client = _client(server)
    _call(client, BOB)  # admitted: nothing spent yet; it spends more than the 1-token limit
    blocked: List[BaseException] = []
    with pytest.raises(tokentrace.BudgetExceeded) as raised:
        _call(client, BOB)
    blocked.append(raised.value)
    _call(client, "alice@example.com")  # another user: not covered by bob's budget
    hashed = UserHasher(KEY).hash(BOB)
    assert raised.value.budget == f"user={hashed}/day"
    said = _everything_said(telemetry, blocked)
    assert BOB not in said and "alice@example.com" not in said
    assert hashed in said


def test_an_in_code_budget_and_policy_match_the_user_by_hash(instrument: Any, telemetry: Any, server: Any) -> None:
    instrument(user_hash_key=KEY)
    client = _client(server)
    blocked: List[BaseException] = []
    with tokentrace.budget(tokens=1, window="day", scope="global", name="per-bob", match={"user": BOB}):
        _call(client, BOB)
        with pytest.raises(tokentrace.BudgetExceeded) as exceeded:
            _call(client, BOB)
        blocked.append(exceeded.value)
        _call(client, "carol@example.com")
    with tokentrace.model_policy(deny=["gpt-4o-mini"], action="block", match={"user": BOB}):
        with pytest.raises(tokentrace.ModelNotAllowed) as refused:
            _call(client, BOB)
        blocked.append(refused.value)
        _call(client, "carol@example.com")
    said = _everything_said(telemetry, blocked)
    assert BOB not in said
    assert UserHasher(KEY).hash(BOB) in str(refused.value)
