"""Configuration: options over environment over defaults; bad values explained, never fatal unless strict."""

from __future__ import annotations

import logging

import pytest

import tokentrace
from tokentrace.core.config import ConfigError, build_config


def test_option_beats_environment_beats_default():
    env = {"TOKENTRACE_STREAM_USAGE": "false", "TOKENTRACE_METRIC_ATTRIBUTES": "team, workflow"}
    config = build_config({}, env)
    assert config.stream_usage is False
    assert config.metric_attributes == ("team", "workflow")
    assert build_config({"stream_usage": True}, env).stream_usage is True
    assert build_config({}, {}).stream_usage is True


@pytest.mark.parametrize("raw, mode", [("SPAN_ONLY", "SPAN_ONLY"), ("event_only", "EVENT_ONLY"), ("true", "SPAN_ONLY"), ("false", "NO_CONTENT"), ("", "NO_CONTENT")])
def test_content_capture_values(raw, mode):
    assert build_config({}, {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": raw}).capture_content == mode


def test_bad_value_is_reported_in_words_and_default_used(caplog):
    caplog.set_level(logging.ERROR, logger="tokentrace")
    config = build_config({}, {"TOKENTRACE_METRIC_VALUE_LIMIT": "-3", "TOKENTRACE_STREAM_USAGE": "maybe"})
    assert config.metric_value_limit == 100
    assert config.stream_usage is True
    message = caplog.records[0].getMessage()
    assert "TOKENTRACE_METRIC_VALUE_LIMIT" in message and "positive whole number" in message
    assert "TOKENTRACE_STREAM_USAGE" in message and "true or false" in message


def test_strict_mode_raises_a_config_error():
    with pytest.raises(ConfigError, match="TOKENTRACE_STREAM_USAGE"):
        build_config({"strict": True}, {"TOKENTRACE_STREAM_USAGE": "maybe"})


def test_unknown_option_names_the_known_ones(caplog):
    caplog.set_level(logging.ERROR, logger="tokentrace")
    build_config({"stream_usgae": False}, {})
    assert "stream_usgae" in caplog.text and "stream_usage" in caplog.text
    with pytest.raises(ConfigError, match="unknown option"):
        tokentrace.instrument(stream_usgae=False, strict=True)
    assert not tokentrace.is_instrumented()


def test_instrument_with_bad_value_still_instruments(instrument, caplog):
    caplog.set_level(logging.ERROR, logger="tokentrace")
    instrument(metric_value_limit="lots")
    assert tokentrace.is_instrumented()
    assert "metric_value_limit" in caplog.text


def test_messages_say_what_was_wrong_and_what_the_default_is(caplog):
    caplog.set_level(logging.ERROR, logger="tokentrace")
    config = build_config({}, {"TOKENTRACE_METRIC_VALUE_LIMIT": "lots", "TOKENTRACE_STREAM_USAGE": "maybe"})
    assert config.metric_value_limit == 100 and config.stream_usage is True
    message = caplog.records[0].getMessage()
    assert "environment variable TOKENTRACE_METRIC_VALUE_LIMIT: expected a positive whole number, got 'lots'; using the default (100) instead" in message
    assert "TOKENTRACE_STREAM_USAGE: expected true or false, got 'maybe'; using the default (true) instead" in message
    assert "invalid literal" not in message


def test_bad_metric_attribute_keys_are_named_and_dropped(caplog):
    caplog.set_level(logging.ERROR, logger="tokentrace")
    config = build_config({}, {"TOKENTRACE_METRIC_ATTRIBUTES": "team,,bad-key!"})
    assert config.metric_attributes == ("team",)
    message = caplog.records[0].getMessage()
    assert "TOKENTRACE_METRIC_ATTRIBUTES: not an attribution key: an empty name (two commas in a row?), 'bad-key!'" in message
    assert message.endswith("using team only")
    with pytest.raises(ConfigError, match="bad-key!"):
        build_config({"strict": True, "metric_attributes": ["team", "bad-key!"]}, {})


def test_only_bad_metric_attribute_keys_fall_back_to_the_default(caplog):
    caplog.set_level(logging.ERROR, logger="tokentrace")
    assert build_config({"metric_attributes": "!!"}, {}).metric_attributes == ("team", "feature", "workflow")
    assert "using the default (team,feature,workflow) instead" in caplog.text
    # Tag names are fine on metrics too.
    assert build_config({"metric_attributes": "team,customer.tier"}, {}).metric_attributes == ("team", "customer.tier")


def test_defaults_without_a_value_are_said_in_words(caplog):
    caplog.set_level(logging.ERROR, logger="tokentrace")
    build_config({}, {"TOKENTRACE_PROVIDERS": ","})
    assert "using the default (every installed SDK) instead" in caplog.text
