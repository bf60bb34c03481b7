"""Cross-check the built-in catalog against genai-prices (Pydantic, MIT) when it is installed.

genai-prices is not a runtime dependency; this test documents where our data agrees with it and
fails when either side changes a price, so the difference gets a human look.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tokentrace.core.record import CallRecord, Usage

from .conftest import ts

genai_prices = pytest.importorskip("genai_prices")

WHEN = "2026-11-01"
# (our provider, model id as sent, genai-prices provider id)
MODELS = [
    ("openai", "gpt-4o", "openai"), ("openai", "gpt-4o-mini", "openai"), ("openai", "gpt-4.1", "openai"),
    ("openai", "gpt-4.1-mini", "openai"), ("openai", "o3", "openai"), ("openai", "o4-mini", "openai"),
    ("openai", "gpt-5", "openai"), ("openai", "gpt-5-mini", "openai"), ("openai", "gpt-5.1", "openai"),
    ("openai", "gpt-5.2", "openai"), ("openai", "gpt-5.4", "openai"), ("openai", "gpt-5.5", "openai"),
    ("openai", "text-embedding-3-small", "openai"), ("openai", "text-embedding-3-large", "openai"),
    ("anthropic", "claude-opus-4-1", "anthropic"), ("anthropic", "claude-opus-4-5", "anthropic"),
    ("anthropic", "claude-sonnet-4-5", "anthropic"), ("anthropic", "claude-sonnet-4-6", "anthropic"),
    ("anthropic", "claude-haiku-4-5", "anthropic"), ("anthropic", "claude-3-5-haiku-20241022", "anthropic"),
    ("gcp.gemini", "gemini-2.5-pro", "google"), ("gcp.gemini", "gemini-2.5-flash", "google"),
    ("gcp.gemini", "gemini-2.5-flash-lite", "google"), ("gcp.gemini", "gemini-3.1-pro-preview", "google"),
    ("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws"),
    ("aws.bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws"),
    ("aws.bedrock", "meta.llama3-3-70b-instruct-v1:0", "aws"), ("aws.bedrock", "amazon.nova-pro-v1:0", "aws"),
    ("cohere", "command-a-03-2025", "cohere"), ("mistral_ai", "mistral-large-2512", "mistral"),
    ("x_ai", "grok-4-0709", "x-ai"), ("groq", "llama-3.3-70b-versatile", "groq"),
]
#: Known, reviewed differences: genai-prices has no >200k tier for Claude Sonnet 4.5 on Bedrock;
#: LiteLLM 1.109.1 has it (6 / 0.6 / 22.5, +10% regional) and so do we.
LONG_CONTEXT_DIFFERS = {"us.anthropic.claude-sonnet-4-5-20250929-v1:0", "global.anthropic.claude-sonnet-4-5-20250929-v1:0"}
USAGES = [
    dict(input_tokens=10_000, output_tokens=2_000),
    dict(input_tokens=10_000, cache_read_tokens=6_000, output_tokens=2_000),
    dict(input_tokens=250_000, cache_read_tokens=50_000, output_tokens=1_000),
]


@pytest.mark.parametrize("provider, model, gp_provider", MODELS, ids=[m[1] for m in MODELS])
def test_catalog_agrees_with_genai_prices(catalog, provider: str, model: str, gp_provider: str) -> None:
    for counts in USAGES:
        if model in LONG_CONTEXT_DIFFERS and counts["input_tokens"] > 200_000:
            continue
        ours = catalog.cost(CallRecord(provider, "chat", request_model=model, usage=Usage(**counts)), ts(WHEN))
        theirs = genai_prices.calc_price(
            genai_prices.Usage(input_tokens=counts["input_tokens"], cache_read_tokens=counts.get("cache_read_tokens"),
                               output_tokens=counts["output_tokens"]),
            model_ref=model,
            provider_id=gp_provider,
            genai_request_timestamp=dt.datetime.fromisoformat(WHEN).replace(tzinfo=dt.timezone.utc),
        )
        assert ours.usd == pytest.approx(float(theirs.total_price), rel=1e-9), (model, counts)
