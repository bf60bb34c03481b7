"""Bad attribution values: coerced or dropped with one warning naming the key; strict mode raises."""

from __future__ import annotations

import logging

import pytest

import tokentrace
from tokentrace.attribution import AttributionError

MESSAGES = [{"role": "user", "content": "hi"}]


def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "attribution" in r.getMessage()]


def test_numbers_are_coerced_control_characters_removed_bad_values_dropped(caplog):
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        with tokentrace.attribute(team=42, feature="auto\ncomplete\x00", task="", tenant="x" * 300, env=["a"], workflow="  wf  "):
            values = tokentrace.current_attribution()
    assert values == {"team": "42", "feature": "autocomplete", "workflow": "wf"}
    messages = _warnings(caplog)
    assert any("team=" in m and "'42'" in m for m in messages)
    assert any("feature=" in m and "control characters" in m for m in messages)
    assert any("task=" in m and "empty" in m for m in messages)
    assert any("tenant=" in m and "300 characters" in m for m in messages)
    assert any("env=" in m and "list" in m for m in messages)


def test_each_problem_warns_once_per_key(caplog):
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        for _ in range(5):
            with tokentrace.attribute(team=7):
                pass
    assert len([m for m in _warnings(caplog) if "team=" in m]) == 1


def test_none_means_not_given_and_keeps_the_outer_value(caplog):
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        with tokentrace.attribute(team="search"):
            with tokentrace.attribute(team=None, feature="f"):
                assert tokentrace.current_attribution() == {"team": "search", "feature": "f"}
    assert _warnings(caplog) == []


def test_bad_tag_name_is_dropped(caplog):
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        with tokentrace.attribute(**{"bad key!": "v", "ok_key": "v"}):
            assert tokentrace.current_attribution() == {"ok_key": "v"}
    assert any("'bad key!'" in m for m in _warnings(caplog))


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"team": 42}, "team= is a int"),
        ({"team": ""}, "team= is empty"),
        ({"team": "a\tb"}, "control characters"),
        ({"team": "x" * 257}, "more than the 256 allowed"),
        ({"team": object()}, "must be a string"),
    ],
)
def test_strict_mode_raises_a_value_error_at_the_with_line(monkeypatch, kwargs, words):
    monkeypatch.setenv("TOKENTRACE_STRICT", "true")
    from tokentrace.attribution import settings

    settings.install(None)
    with pytest.raises(ValueError, match=words) as raised:
        with tokentrace.attribute(**kwargs):
            pytest.fail("the body must not run")
    assert isinstance(raised.value, AttributionError)
    assert "strict mode" in str(raised.value)


def test_strict_from_instrument_option(instrument):
    instrument(strict=True)
    with pytest.raises(ValueError, match="feature="):
        tokentrace.workflow("wf", feature=3.5)


def test_bad_values_never_raise_at_llm_call_time(instrument, server, client):
    telemetry = instrument()
    with tokentrace.attribute(team=b"bytes", feature="x" * 1000, tenant=float("nan")):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    attributes = telemetry.only_llm_span().attributes
    assert "tokentrace.team" not in attributes and "tokentrace.feature" not in attributes
    assert attributes["tokentrace.tenant"] == "nan"
