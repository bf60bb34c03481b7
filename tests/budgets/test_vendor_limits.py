"""Vendor spend limits recorded as what they are, through the real SDKs.

Bodies follow the providers' error shapes: OpenAI ``{"error": {"message", "type", "param", "code"}}``
with HTTP 429; Anthropic ``{"type": "error", "error": {"type", "message"}}`` with HTTP 400 when a
workspace's usage limit is reached.
"""

from __future__ import annotations

import asyncio
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


ANTHROPIC_LIMITS = {
    # The wire shapes Anthropic sends (HTTP 400, type invalid_request_error, no code), as users
    # of the API report them verbatim.
    "workspace_spend_limit": "You have reached your specified API usage limits. You will regain access on 2027-01-01 at 00:00 UTC.",
    "credit_balance": (
        "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or "
        "purchase credits."
    ),
}


def anthropic_limit(kind: str) -> ResponsePlan:
    return ResponsePlan(status=400, error={"type": "invalid_request_error", "message": ANTHROPIC_LIMITS[kind]})


def _assert_recorded(telemetry: Any, provider: str, kind: str, status: int) -> None:
    span = telemetry.only_llm_span()
    assert span.attributes["tokentrace.vendor.spend_limit"] == kind
    event = next(e for e in span.events if e.name == "tokentrace.vendor.spend_limit")
    assert event.attributes["http.response.status_code"] == status
    assert telemetry.total("tokentrace.vendor.spend_limit_errors", gen_ai__provider__name=provider, tokentrace__vendor__spend_limit__kind=kind) == 1
    assert all(ANTHROPIC_LIMITS["credit_balance"][:20] not in str(v) for e in span.events for v in e.attributes.values())


def test_anthropic_credit_balance_through_the_stream_helper(instrument: Any, server: ProviderServer) -> None:
    telemetry = instrument()
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    server.enqueue(anthropic_limit("credit_balance"))
    with pytest.raises(anthropic.BadRequestError):
        with client.messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES) as stream:
            stream.get_final_message()
    _assert_recorded(telemetry, "anthropic", "credit_balance", 400)


@pytest.mark.parametrize("kind", sorted(ANTHROPIC_LIMITS))
def test_anthropic_limits_through_the_async_client_streaming(instrument: Any, server: ProviderServer, kind: str) -> None:
    telemetry = instrument()
    server.enqueue(anthropic_limit(kind))

    async def main() -> None:
        async with anthropic.AsyncAnthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0) as client:
            with pytest.raises(anthropic.BadRequestError):
                await client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=MESSAGES, stream=True)

    asyncio.run(main())
    _assert_recorded(telemetry, "anthropic", kind, 400)


def test_openai_project_limit_on_a_stream_and_on_async_responses(instrument: Any, server: ProviderServer, client: openai.OpenAI) -> None:
    telemetry = instrument()
    server.enqueue(openai_error("project_spend_limit_exceeded"))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    _assert_recorded(telemetry, "openai", "project_spend_limit", 429)

    telemetry.exporter.clear()
    server.enqueue(openai_error("organization_spend_limit_exceeded"))

    async def main() -> None:
        async with openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0) as aclient:
            with pytest.raises(openai.RateLimitError):
                await aclient.responses.create(model="gpt-5-mini", input="Summarise the incident.")

    asyncio.run(main())
    _assert_recorded(telemetry, "openai", "organization_spend_limit", 429)
