"""Attribution on LLM spans and metrics, through the real openai SDK over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import logging

import pytest

import tokentrace
from tokentrace.attribution import OVERFLOW_VALUE
from tokentrace.testing import ResponsePlan

MESSAGES = [{"role": "user", "content": "hi"}]
USAGE = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}


def test_every_key_lands_on_the_llm_span(instrument, server, client):
    telemetry = instrument(user_hash_key="k3y")
    with tokentrace.attribute(team="search", feature="autocomplete", task="t-1", tenant="acme", user="alice@example.com", env="prod"):
        with tokentrace.attribute(agent_step="rank", workflow="answer"):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    attributes = telemetry.only_llm_span().attributes
    assert attributes["tokentrace.team"] == "search"
    assert attributes["tokentrace.feature"] == "autocomplete"
    assert attributes["tokentrace.workflow"] == "answer"
    assert attributes["tokentrace.agent_step"] == "rank"
    assert attributes["tokentrace.task"] == "t-1"
    assert attributes["tokentrace.tenant"] == "acme"
    assert attributes["tokentrace.tag.env"] == "prod"
    expected_hash = hmac.new(b"k3y", b"alice@example.com", hashlib.sha256).hexdigest()[:32]
    assert attributes["tokentrace.user"] == expected_hash
    assert all("alice" not in str(value) for value in attributes.values())


def test_nested_scopes_merge_and_the_inner_value_wins(instrument, server, client):
    telemetry = instrument()
    with tokentrace.attribute(team="search", feature="outer"):
        with tokentrace.attribute(feature="inner"):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    inner, outer, outside = telemetry.llm_spans()
    assert (inner.attributes["tokentrace.team"], inner.attributes["tokentrace.feature"]) == ("search", "inner")
    assert (outer.attributes["tokentrace.team"], outer.attributes["tokentrace.feature"]) == ("search", "outer")
    assert not any(key.startswith("tokentrace.team") for key in outside.attributes)


#: Labels of the call, not of its attribution (they split spend as the ledger does).
SPEND_LABELS = ("tokentrace.usage.source", "tokentrace.service_tier")


def test_only_allow_listed_keys_go_on_metrics(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=USAGE))
    with tokentrace.attribute(team="search", feature="autocomplete", workflow="answer", task="t-1", user="bob", env="prod"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    points = telemetry.points("tokentrace.tokens")
    assert points
    for point in points:
        keys = {k for k in point.attributes if k.startswith("tokentrace.") and k not in SPEND_LABELS}
        assert keys == {"tokentrace.team", "tokentrace.feature", "tokentrace.workflow"}
    assert telemetry.total("tokentrace.tokens", tokentrace__team="search", gen_ai__token__type="input") == 1000
    # 1000 input at $0.15/M + 200 output at $0.60/M, computed by hand.
    assert telemetry.total("tokentrace.cost", tokentrace__team="search") == pytest.approx(1000 * 0.15e-6 + 200 * 0.6e-6)


def test_metric_keys_are_configurable(instrument, server, client):
    telemetry = instrument(metric_attributes=["tenant", "env"])
    with tokentrace.attribute(team="search", tenant="acme", env="prod"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    for point in telemetry.points("tokentrace.calls"):
        keys = {k for k in point.attributes if k.startswith("tokentrace.") and k not in SPEND_LABELS and k != "tokentrace.cost.status" and k != "tokentrace.model.rerouted"}
        assert keys == {"tokentrace.tenant", "tokentrace.tag.env"}


def test_cardinality_cap_sends_new_values_to_other(instrument, server, client, caplog):
    telemetry = instrument(metric_value_limit=3)
    for i in range(5):
        with tokentrace.attribute(team=f"team-{i}"):
            server.enqueue(ResponsePlan(usage=USAGE))
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    with tokentrace.attribute(team="team-0"):
        server.enqueue(ResponsePlan(usage=USAGE))
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    teams = {p.attributes.get("tokentrace.team") for p in telemetry.points("tokentrace.tokens")}
    assert teams == {"team-0", "team-1", "team-2", OVERFLOW_VALUE}
    assert telemetry.total("tokentrace.tokens", tokentrace__team=OVERFLOW_VALUE, gen_ai__token__type="input") == 2000
    assert telemetry.total("tokentrace.tokens", tokentrace__team="team-0", gen_ai__token__type="input") == 2000
    # Spans keep the real value; only metrics are capped.
    assert [s.attributes["tokentrace.team"] for s in telemetry.llm_spans()][3:5] == ["team-3", "team-4"]
    assert [r.message for r in caplog.records if "distinct values" in r.message][:1]


def test_user_hash_without_key_warns_and_never_equals_the_id(instrument, server, client, caplog, monkeypatch):
    from tokentrace.attribution import users

    monkeypatch.setattr(users, "_process_key_value", None)
    telemetry = instrument()
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        with tokentrace.attribute(user="user-42"):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            assert tokentrace.current_attribution()["user"] != "user-42"
    value = telemetry.only_llm_span().attributes["tokentrace.user"]
    assert value != "user-42" and len(value) == 32
    assert any("not stable across processes" in r.message for r in caplog.records)


def test_user_hash_is_stable_with_a_key(monkeypatch):
    monkeypatch.setenv("TOKENTRACE_USER_HASH_KEY", "shared-secret")
    from tokentrace.attribution import settings

    settings.install(None)
    with tokentrace.attribute(user="user-42"):
        first = tokentrace.current_attribution()["user"]
    settings.install(None)  # a "new process": settings rebuilt from the environment
    with tokentrace.attribute(user="user-42"):
        assert tokentrace.current_attribution()["user"] == first
    assert first == hmac.new(b"shared-secret", b"user-42", hashlib.sha256).hexdigest()[:32]


def test_user_is_not_a_metric_attribute_unless_allowed(instrument, server, client):
    telemetry = instrument()
    with tokentrace.attribute(team="a", user="user-42"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert all("tokentrace.user" not in p.attributes for p in telemetry.points("tokentrace.calls"))
