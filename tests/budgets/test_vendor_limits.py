"""Vendor spend limits recorded as what they are, through the real SDKs.

Bodies follow the providers' error shapes: OpenAI ``{"error": {"message", "type", "param", "code"}}``
with HTTP 429; Anthropic ``{"type": "error", "error": {"type", "message"}}`` with HTTP 400 when a
workspace's usage limit is reached.
"""

from __future__ import annotations

import logging
from typing import Any

import anthropic
import openai
import pytest

from tokentrace.budgets.vendor_limits import classify
from tokentrace.testing import ProviderServer, ResponsePlan

MESSAGES = [{"role": "user", "content": "Summarise the incident."}]


def openai_error(code: str, type_: str = "insufficient_quota") -> ResponsePlan:
    return ResponsePlan(
        status=429,
        error={
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "type": type_,
            "param": None,
            "code": code,
        },
    )


@pytest.mark.parametrize(
    "code, kind",
    [
        ("organization_spend_limit_exceeded", "organization_spend_limit"),
        ("project_spend_limit_exceeded", "project_spend_limit"),
        ("insufficient_quota", "insufficient_quota"),
    ],
)
def test_openai_spend_limit_is_not_a_rate_limit(
    instrument: Any, server: ProviderServer, client: openai.OpenAI, code: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument()
    caplog.set_level(logging.WARNING, "tokentrace")
    server.enqueue(openai_error(code), openai_error(code))
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as error:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert error.value.code == code  # the app's exception is the SDK's own, untouched
    spans = telemetry.llm_spans()
    assert [s.attributes["tokentrace.vendor.spend_limit"] for s in spans] == [kind, kind]
    event = next(e for e in spans[0].events if e.name == "tokentrace.vendor.spend_limit")
    assert event.attributes["tokentrace.vendor.spend_limit.code"] == code
    assert event.attributes["http.response.status_code"] == 429
    assert telemetry.total("tokentrace.vendor.spend_limit_errors", tokentrace__vendor__spend_limit__kind=kind) == 2
    warnings = [r.getMessage() for r in caplog.records if "not a rate limit" in r.getMessage()]
    assert len(warnings) == 1 and code in warnings[0]
    assert "You exceeded your current quota" not in warnings[0]


def test_an_ordinary_rate_limit_is_left_alone(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    telemetry = instrument()
    server.enqueue(openai_error("rate_limit_exceeded", "requests"))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    span = telemetry.only_llm_span()
    assert "tokentrace.vendor.spend_limit" not in span.attributes
    assert telemetry.points("tokentrace.vendor.spend_limit_errors") == []


def test_anthropic_workspace_usage_limit(instrument: Any, server: ProviderServer) -> None:
    telemetry = instrument()
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    server.enqueue(
        ResponsePlan(
            status=400,
            error={
                "type": "invalid_request_error",
                "message": "You have reached your specified API usage limits. You will regain access on 2027-01-01 at 00:00 UTC.",
            },
        )
    )
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES)
    span = telemetry.only_llm_span()
    assert span.attributes["tokentrace.vendor.spend_limit"] == "workspace_spend_limit"
    assert telemetry.total("tokentrace.vendor.spend_limit_errors", gen_ai__provider__name="anthropic") == 1


def test_anthropic_ordinary_bad_request_is_left_alone(instrument: Any, server: ProviderServer) -> None:
    telemetry = instrument()
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    server.enqueue(ResponsePlan(status=400))
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES)
    assert "tokentrace.vendor.spend_limit" not in telemetry.only_llm_span().attributes


def test_classify_ignores_errors_without_a_vendor_status() -> None:
    assert classify(None) is None
    assert classify(ValueError("spend limit reached")) is None  # not a provider's answer
    assert classify(TimeoutError()) is None
