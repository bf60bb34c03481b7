"""providers= / TOKENTRACE_PROVIDERS: checked, case-insensitive, did-you-mean, strict raises."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import tokentrace
from tokentrace import instrumentation
from tokentrace.core.config import PROVIDER_NAMES, ConfigError, build_config
from tokentrace.providers import REGISTRY


def test_names_match_the_registry() -> None:
    assert PROVIDER_NAMES == tuple(name for name, _ in REGISTRY)


@pytest.mark.parametrize(
    "raw, expected",
    [("OpenAI", ("openai",)), ("openai, Anthropic", ("openai", "anthropic")), ("gemini,boto3", ("google_genai", "bedrock")), (["google-genai"], ("google_genai",))],
)
def test_case_insensitive_and_aliases(raw: Any, expected: Any) -> None:
    assert build_config({"providers": raw}, environ={}).providers == expected


def test_typo_in_environment_says_did_you_mean(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="tokentrace"):
        config = build_config({}, environ={"TOKENTRACE_PROVIDERS": "openai,opneai"})
    assert config.providers == ("openai",)
    assert "'opneai' (did you mean 'openai'?)" in caplog.text
    assert "instrumenting only openai" in caplog.text


def test_only_unknown_names_fall_back_to_every_provider(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="tokentrace"):
        config = build_config({}, environ={"TOKENTRACE_PROVIDERS": "bogus"})
    assert config.providers is None
    assert "unknown provider name(s) 'bogus'" in caplog.text and "known providers are openai" in caplog.text


def test_strict_raises_config_error() -> None:
    with pytest.raises(ConfigError, match=r"'opneai' \(did you mean 'openai'\?\)"):
        tokentrace.instrument(providers=["opneai"], strict=True)
    assert not tokentrace.is_instrumented()


def test_nothing_instrumented_is_said_once(monkeypatch: pytest.MonkeyPatch, telemetry: Any, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(instrumentation, "_said_nothing", False)
    # No adapter loads now, and no SDK is installed to wait for (instrument() patches lazily).
    monkeypatch.setattr(instrumentation, "load_instrumentor", lambda name: None)
    monkeypatch.setattr(instrumentation.deferred, "installed", lambda module: False)
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        for _ in range(3):
            tokentrace.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
            tokentrace.uninstrument()
    said = [r for r in caplog.records if "found nothing to instrument" in r.getMessage()]
    assert len(said) == 1


@pytest.mark.parametrize("options, environ", [({"providers": ["opneai"]}, {}), ({}, {"TOKENTRACE_PROVIDERS": "opneai"}), ({}, {"TOKENTRACE_PROVIDERS": "bogus"})])
def test_strict_error_names_the_problem_without_a_fallback_it_does_not_take(options: Any, environ: Any) -> None:
    with pytest.raises(ConfigError) as raised:
        build_config({**options, "strict": True}, environ=environ)
    message = str(raised.value)
    assert "unknown provider name(s)" in message and "known providers are openai" in message
    assert "using the default" not in message and "strict mode" in message


@pytest.mark.parametrize("raw", ["OpenAI", "OPENAI", " openai "])
def test_environment_names_any_case(raw: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="tokentrace"):
        assert build_config({}, environ={"TOKENTRACE_PROVIDERS": raw}).providers == ("openai",)
    assert not caplog.records
