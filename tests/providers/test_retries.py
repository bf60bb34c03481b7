"""SDK retries inside one call: counted on the span, and the attempts the provider may have billed.

The local server really makes the first attempt wait past the client's timeout (the provider
processed it; a real vendor bills it), answers another with a 429 (retried, not billed), and
the SDK's own retry loop does the rest.
"""

from __future__ import annotations

import asyncio

import anthropic
import openai
import pytest

from tokentrace.testing import ProviderServer, ResponsePlan, openai_usage

ANTHROPIC_USAGE = {"input_tokens": 10, "output_tokens": 5}


def _attempts(span: object) -> tuple:
    attributes = span.attributes or {}  # type: ignore[attr-defined]
    return attributes.get("tokentrace.retries"), attributes.get("tokentrace.attempts.possibly_billed")


def test_openai_timeout_then_429_then_answer(instrument: object, server: ProviderServer, telemetry: object) -> None:
    instrument()  # type: ignore[operator]
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", timeout=0.3, max_retries=2)
    server.enqueue(ResponsePlan(usage=openai_usage(100, 10), delay_s=0.8), ResponsePlan(status=429), ResponsePlan(usage=openai_usage(100, 10)))
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    span = telemetry.only_llm_span()  # type: ignore[attr-defined]
    assert _attempts(span) == (2, 1)
    assert span.attributes["gen_ai.usage.input_tokens"] == 100


def test_a_call_without_retries_has_no_attempt_attributes(instrument: object, server: ProviderServer, telemetry: object) -> None:
    instrument()  # type: ignore[operator]
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test")
    server.enqueue(ResponsePlan(usage=openai_usage(100, 10)))
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert _attempts(telemetry.only_llm_span()) == (None, None)  # type: ignore[attr-defined]


def test_anthropic_timeouts_until_the_sdk_gives_up(instrument: object, server: ProviderServer, telemetry: object) -> None:
    instrument()  # type: ignore[operator]
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", timeout=0.3, max_retries=1)
    server.enqueue(ResponsePlan(usage=ANTHROPIC_USAGE, delay_s=0.8), ResponsePlan(usage=ANTHROPIC_USAGE, delay_s=0.8))
    with pytest.raises(anthropic.APITimeoutError):
        client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    # one retry; both attempts timed out and may have been billed
    assert _attempts(telemetry.only_llm_span()) == (1, 2)  # type: ignore[attr-defined]


def test_async_openai_retry_is_counted_too(instrument: object, server: ProviderServer, telemetry: object) -> None:
    instrument()  # type: ignore[operator]

    async def main() -> None:
        client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", timeout=0.3, max_retries=1)
        await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])

    server.enqueue(ResponsePlan(usage=openai_usage(100, 10), delay_s=0.8), ResponsePlan(usage=openai_usage(100, 10)))
    asyncio.run(main())
    assert _attempts(telemetry.only_llm_span()) == (1, 1)  # type: ignore[attr-defined]
