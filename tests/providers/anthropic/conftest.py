"""Fixtures for the Anthropic adapter tests: real SDK clients pointed at the local server."""

from __future__ import annotations

import anthropic
import pytest

#: A key shaped like a real one, so tests can check it never reaches an attribute.
API_KEY = "sk-ant-api03-test-secret-key-0123456789"

#: Usage as the API reports it for a prompt-caching call: input_tokens exclude the cache parts.
CACHED_USAGE = {
    "input_tokens": 120,
    "cache_creation_input_tokens": 2500,
    "cache_read_input_tokens": 40000,
    "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 2000},
    "output_tokens": 800,
    "service_tier": "standard",
}
#: Hand-computed canonical values for CACHED_USAGE.
CACHED_INPUT_TOTAL = 120 + 2500 + 40000  # 42620
#: claude-haiku-4-5 list prices per 1M tokens: input 1, cache read 0.10, 5m write 1.25, 1h write 2, output 5.
CACHED_COST_HAIKU = (120 * 1.0 + 40000 * 0.10 + 500 * 1.25 + 2000 * 2.0 + 800 * 5.0) / 1e6  # 0.012745

MESSAGES = [{"role": "user", "content": "Was the invoice late enough for the fee?"}]


@pytest.fixture
def client(server):
    return anthropic.Anthropic(base_url=server.url, api_key=API_KEY, max_retries=0)


@pytest.fixture
def async_client(server):
    return anthropic.AsyncAnthropic(base_url=server.url, api_key=API_KEY, max_retries=0)


def no_secret(span) -> None:
    for value in (span.attributes or {}).values():
        assert API_KEY not in str(value)
