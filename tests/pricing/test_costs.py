"""Hand-computed costs, per provider, for each usage shape the billing rules distinguish.

Each expected value is written as the sum on the provider's price page (tokens x USD per 1M),
so a reader can check it by hand; the canonical usage shape is the one adapters produce
(input totals include cache read and write; output totals include reasoning).
"""

from __future__ import annotations

import pytest

from tokentrace.records import semconv as sc

M = 1_000_000

CASES = [
    # id, provider, model, at, usage, extra, expected USD
    ("openai cached read (prompt includes cached)", "openai", "gpt-4o", "2026-11-01",
     dict(input_tokens=2006, cache_read_tokens=1920, output_tokens=300), {}, (86 * 2.5 + 1920 * 1.25 + 300 * 10) / M),
    ("openai reasoning billed once", "openai", "gpt-5", "2026-11-01",
     dict(input_tokens=100_000, cache_read_tokens=80_000, output_tokens=10_000, reasoning_tokens=8_000), {},
     (20_000 * 1.25 + 80_000 * 0.125 + 10_000 * 10) / M),
    ("openai cache_write_tokens at the input rate", "openai", "gpt-5", "2026-11-01",
     dict(input_tokens=10_000, cache_write_tokens=4_000, output_tokens=100), {}, (10_000 * 1.25 + 100 * 10) / M),
    ("openai dated snapshot", "openai", "gpt-4o-2024-08-06", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 2.5 + 1000 * 10) / M),
    ("openai snapshot with its own price", "openai", "gpt-4o-2024-05-13", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 5 + 1000 * 15) / M),
    ("openai >272k tier: exactly at the threshold", "openai", "gpt-5.4", "2026-11-01",
     dict(input_tokens=272_000, output_tokens=1000), {}, (272_000 * 2.5 + 1000 * 15) / M),
    ("openai >272k tier: one token over switches every rate", "openai", "gpt-5.4", "2026-11-01",
     dict(input_tokens=272_001, cache_read_tokens=100_000, output_tokens=1000), {},
     (172_001 * 5 + 100_000 * 0.5 + 1000 * 22.5) / M),
    ("openai batch, cached input at the standard rate", "openai", "o3", "2026-11-01",
     dict(input_tokens=1000, cache_read_tokens=400, output_tokens=100), dict(batch=True), (600 * 1 + 400 * 0.5 + 100 * 4) / M),
    ("openai flex service tier", "openai", "gpt-5", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), dict(service_tier="flex"), (1000 * 0.625 + 1000 * 5) / M),
    ("openai priority service tier", "openai", "gpt-5", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), dict(service_tier="priority"), (1000 * 2.5 + 1000 * 20) / M),
    ("openai default service tier", "openai", "gpt-5", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), dict(service_tier="default"), (1000 * 1.25 + 1000 * 10) / M),
    ("openai audio tokens after the 2024-12-17 cut", "openai", "gpt-4o-audio-preview", "2025-01-01",
     dict(input_tokens=1000, input_audio_tokens=600, output_tokens=500, output_audio_tokens=400), {},
     (400 * 2.5 + 600 * 40 + 100 * 10 + 400 * 80) / M),
    ("openai audio tokens before the cut", "openai", "gpt-4o-audio-preview", "2024-11-01",
     dict(input_tokens=1000, input_audio_tokens=600, output_tokens=500, output_audio_tokens=400), {},
     (400 * 2.5 + 600 * 100 + 100 * 10 + 400 * 200) / M),
    ("openai realtime image input", "openai", "gpt-realtime", "2026-11-01",
     dict(input_tokens=1000, input_image_tokens=300, output_tokens=10), {}, (700 * 4 + 300 * 5 + 10 * 16) / M),
    ("openai embeddings 3-small", "openai", "text-embedding-3-small", "2026-11-01", dict(input_tokens=1_000_000), {}, 0.02),
    ("openai embeddings 3-large", "openai", "text-embedding-3-large", "2026-11-01", dict(input_tokens=5000), {}, 5000 * 0.13 / M),
    ("openai embeddings ada-002", "openai", "text-embedding-ada-002", "2026-11-01", dict(input_tokens=1234), {}, 1234 * 0.1 / M),
    ("openai instruct", "openai", "gpt-3.5-turbo-instruct", "2026-11-01", dict(input_tokens=100, output_tokens=50), {},
     (100 * 1.5 + 50 * 2) / M),
    ("openai fine-tuned id", "openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123", "2026-11-01",
     dict(input_tokens=1000, cache_read_tokens=200, output_tokens=1000), {}, (800 * 0.3 + 200 * 0.15 + 1000 * 1.2) / M),
    ("openai o3 before the 2025-06-10 cut", "openai", "o3", "2025-06-09T23:59:59",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 10 + 1000 * 40) / M),
    ("openai o3 from the 2025-06-10 cut", "openai", "o3-2025-04-16", "2025-06-10",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 2 + 1000 * 8) / M),
    ("case and whitespace", "openai", "  GPT-4o-Mini ", "2026-11-01", dict(input_tokens=1000, output_tokens=1000), {},
     (1000 * 0.15 + 1000 * 0.6) / M),
    # Anthropic: canonical input_tokens = input + cache read + cache writes (adapter adds them up).
    ("anthropic cache read + 5m and 1h writes", "anthropic", "claude-sonnet-4-5-20250929", "2026-11-01",
     dict(input_tokens=102_050, cache_read_tokens=100_000, cache_write_tokens=2000, cache_write_long_tokens=500, output_tokens=1000),
     {}, (50 * 3 + 100_000 * 0.3 + 1500 * 3.75 + 500 * 6 + 1000 * 15) / M),
    ("anthropic thinking inside output", "anthropic", "claude-haiku-4-5", "2026-11-01",
     dict(input_tokens=1000, output_tokens=2000, reasoning_tokens=1500), {}, (1000 * 1 + 2000 * 5) / M),
    ("anthropic >200k tier: exactly 200k", "anthropic", "claude-sonnet-4-5", "2026-11-01",
     dict(input_tokens=200_000, cache_read_tokens=150_000, output_tokens=1000), {}, (50_000 * 3 + 150_000 * 0.3 + 1000 * 15) / M),
    ("anthropic >200k tier: 200,001", "anthropic", "claude-sonnet-4-5", "2026-11-01",
     dict(input_tokens=200_001, cache_read_tokens=150_000, output_tokens=1000), {}, (50_001 * 6 + 150_000 * 0.6 + 1000 * 22.5) / M),
    ("anthropic opus 4.6 long-context tier before 2026-03-13", "anthropic", "claude-opus-4-6", "2026-03-01",
     dict(input_tokens=300_000, output_tokens=1000), {}, (300_000 * 10 + 1000 * 37.5) / M),
    ("anthropic opus 4.6 tier gone from 2026-03-13", "anthropic", "claude-opus-4-6", "2026-04-01",
     dict(input_tokens=300_000, output_tokens=1000), {}, (300_000 * 5 + 1000 * 25) / M),
    ("anthropic batch", "anthropic", "claude-opus-4-5", "2026-11-01",
     dict(input_tokens=1000, cache_read_tokens=500, output_tokens=100), dict(batch=True), (500 * 2.5 + 500 * 0.25 + 100 * 12.5) / M),
    ("anthropic retired model still priced", "anthropic", "claude-opus-4-1-20250805", "2025-09-01",
     dict(input_tokens=1000, output_tokens=100), {}, (1000 * 15 + 100 * 75) / M),
    # Google: prompt includes cached content; thoughts are output.
    ("gemini cached content + thoughts", "gcp.gemini", "gemini-2.5-pro", "2026-11-01",
     dict(input_tokens=10_000, cache_read_tokens=4000, output_tokens=2000, reasoning_tokens=1500), {},
     (6000 * 1.25 + 4000 * 0.125 + 2000 * 10) / M),
    ("gemini >200k tier: exactly 200k", "gcp.gemini", "gemini-2.5-pro", "2026-11-01",
     dict(input_tokens=200_000, output_tokens=100), {}, (200_000 * 1.25 + 100 * 10) / M),
    ("gemini >200k tier: 200,001", "gcp.gemini", "gemini-2.5-pro", "2026-11-01",
     dict(input_tokens=200_001, output_tokens=100), {}, (200_001 * 2.5 + 100 * 15) / M),
    ("gemini priority", "gcp.gemini", "gemini-2.5-pro", "2026-11-01",
     dict(input_tokens=1000, output_tokens=100), dict(service_tier="priority"), (1000 * 2.25 + 100 * 18) / M),
    ("gemini audio input", "gcp.gemini", "gemini-2.5-flash", "2026-11-01",
     dict(input_tokens=1000, input_audio_tokens=400, output_tokens=100), {}, (600 * 0.3 + 400 * 1 + 100 * 2.5) / M),
    ("gemini models/ path and -001 version", "gcp.gemini", "models/gemini-2.0-flash-001", "2026-11-01",
     dict(input_tokens=1000, output_tokens=100), {}, (1000 * 0.1 + 100 * 0.4) / M),
    ("vertex same id", "gcp.vertex_ai", "gemini-2.5-flash-lite", "2026-11-01",
     dict(input_tokens=1000, output_tokens=100), {}, (1000 * 0.1 + 100 * 0.4) / M),
    ("vertex claude @date", "gcp.vertex_ai", "claude-sonnet-4-5@20250929", "2026-11-01",
     dict(input_tokens=1000, output_tokens=100), {}, (1000 * 3 + 100 * 15) / M),
    ("gemini embeddings", "gcp.gemini", "gemini-embedding-001", "2026-11-01", dict(input_tokens=1000), {}, 1000 * 0.15 / M),
    # Bedrock: regional endpoints +10% for Claude 4.5+, global profiles at list price.
    ("bedrock us. profile +10%", "aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 3 + 1000 * 15) * 1.1 / M),
    ("bedrock eu. profile +10% with 1h writes", "aws.bedrock", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "2026-11-01",
     dict(input_tokens=10_000, cache_write_tokens=4000, cache_write_long_tokens=1000), {},
     (6000 * 3 + 3000 * 3.75 + 1000 * 6) * 1.1 / M),
    ("bedrock global. profile at list", "aws.bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 3 + 1000 * 15) / M),
    ("bedrock inference-profile ARN", "aws.bedrock",
     "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-haiku-4-5-20251001-v1:0", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 1 + 1000 * 5) / M),
    ("bedrock apac. haiku 4.5", "aws.bedrock", "apac.anthropic.claude-haiku-4-5-20251001-v1:0", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 1 + 1000 * 5) * 1.1 / M),
    ("bedrock llama: region prefix is price-neutral", "aws.bedrock", "us.meta.llama3-3-70b-instruct-v1:0", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 0.72 + 1000 * 0.72) / M),
    ("bedrock nova cached", "aws.bedrock", "amazon.nova-pro-v1:0", "2026-11-01",
     dict(input_tokens=1000, cache_read_tokens=500, output_tokens=100), {}, (500 * 0.8 + 500 * 0.2 + 100 * 3.2) / M),
    ("bedrock mistral", "aws.bedrock", "mistral.mistral-large-2402-v1:0", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 4 + 1000 * 12) / M),
    ("bedrock sonnet 4 >200k tier", "aws.bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0", "2026-11-01",
     dict(input_tokens=200_001, output_tokens=10), {}, (200_001 * 6 + 10 * 22.5) / M),
    # Mistral, Cohere, DeepSeek, xAI, Groq.
    ("mistral -latest alias before Large 3", "mistral_ai", "mistral-large-latest", "2025-01-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 2 + 1000 * 6) / M),
    ("mistral -latest alias after Large 3", "mistral_ai", "mistral-large-latest", "2026-01-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 0.5 + 1000 * 1.5) / M),
    ("mistral cached", "mistral_ai", "mistral-small-latest", "2026-04-01",
     dict(input_tokens=1000, cache_read_tokens=200, output_tokens=100), {}, (800 * 0.15 + 200 * 0.015 + 100 * 0.6) / M),
    ("mistral embeddings", "mistral_ai", "mistral-embed", "2026-11-01", dict(input_tokens=1000), {}, 1000 * 0.1 / M),
    ("cohere command-a", "cohere", "command-a-03-2025", "2026-11-01", dict(input_tokens=1000, output_tokens=500), {},
     (1000 * 2.5 + 500 * 10) / M),
    ("cohere embed", "cohere", "embed-v4.0", "2026-11-01", dict(input_tokens=1000), {}, 1000 * 0.12 / M),
    ("deepseek V3.2 cache hit", "deepseek", "deepseek-chat", "2025-10-01",
     dict(input_tokens=1000, cache_read_tokens=600, output_tokens=500), {}, (400 * 0.28 + 600 * 0.028 + 500 * 0.42) / M),
    ("deepseek reasoner before V3.2", "deepseek", "deepseek-reasoner", "2025-03-01T12:00:00",
     dict(input_tokens=1000, output_tokens=1000, reasoning_tokens=800), {}, (1000 * 0.55 + 1000 * 2.19) / M),
    # genai-prices' DeepSeek off-peak window (16:30-00:30 UTC) before V3.2 ended it.
    ("deepseek reasoner off-peak before V3.2", "deepseek", "deepseek-reasoner", "2025-03-01T18:00:00",
     dict(input_tokens=1000, output_tokens=1000, reasoning_tokens=800), {}, (1000 * 0.135 + 1000 * 0.55) / M),
    ("deepseek off-peak ends at 00:30 exactly", "deepseek", "deepseek-chat", "2025-03-02T00:30:00",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 0.27 + 1000 * 1.1) / M),
    ("xai cached", "x_ai", "grok-4-0709", "2026-11-01", dict(input_tokens=1000, cache_read_tokens=500, output_tokens=100), {},
     (500 * 3 + 500 * 0.75 + 100 * 15) / M),
    ("xai tier below 200k", "x_ai", "grok-4.3", "2026-11-01", dict(input_tokens=199_999), {}, 199_999 * 1.25 / M),
    ("xai tier from 200k inclusive", "x_ai", "grok-4.3", "2026-11-01", dict(input_tokens=200_000), {}, 200_000 * 2.5 / M),
    ("groq llama", "groq", "llama-3.3-70b-versatile", "2026-11-01", dict(input_tokens=1000, output_tokens=1000), {},
     (1000 * 0.59 + 1000 * 0.79) / M),
    ("groq vendor-style id", "groq", "openai/gpt-oss-120b", "2026-11-01",
     dict(input_tokens=1000, cache_read_tokens=500, output_tokens=100), {}, (500 * 0.15 + 500 * 0.075 + 100 * 0.6) / M),
    # OpenRouter without a reported cost: vendor/model resolved to the vendor's list price.
    ("openrouter anthropic dotted name", "openrouter", "anthropic/claude-sonnet-4.5", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 3 + 1000 * 15) / M),
    ("openrouter openai", "openrouter", "openai/gpt-4o", "2026-11-01", dict(input_tokens=1000, output_tokens=1000), {},
     (1000 * 2.5 + 1000 * 10) / M),
    ("openrouter old claude name", "openrouter", "anthropic/claude-3.5-haiku", "2026-11-01",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 0.8 + 1000 * 4) / M),
]


@pytest.mark.parametrize("provider, model, at, usage, extra, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hand_computed_cost(price, provider, model, at, usage, extra, expected) -> None:
    result = price(provider, model, at=at, **usage, **extra)
    assert result.status == sc.COST_PRICED, result
    assert result.source == "local"
    assert result.usd == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_costs_are_exact_to_the_cent_on_large_volumes(price) -> None:
    # 1.234 billion cached tokens on gpt-4o: floating error must stay far below a cent.
    result = price("openai", "gpt-4o", input_tokens=1_234_567_890, cache_read_tokens=1_000_000_000, output_tokens=98_765_432)
    expected = (234_567_890 * 2.5 + 1_000_000_000 * 1.25 + 98_765_432 * 10) / M
    assert abs(result.usd - expected) < 1e-6
    assert round(result.usd, 2) == 2824.07  # 586,419,725 + 1,250,000,000 + 987,654,320 micro-USD


def test_reasoning_is_never_billed_twice(price) -> None:
    with_reasoning = price("openai", "o4-mini", input_tokens=100, output_tokens=1000, reasoning_tokens=900)
    without = price("openai", "o4-mini", input_tokens=100, output_tokens=1000)
    assert with_reasoning.usd == without.usd == pytest.approx((100 * 1.1 + 1000 * 4.4) / M)


def test_odd_usage_never_goes_negative(price) -> None:
    # A provider reporting more cached than total input: the uncached part is clamped at 0.
    result = price("openai", "gpt-4o", input_tokens=100, cache_read_tokens=150, output_tokens=0)
    assert result.usd == pytest.approx(150 * 1.25 / M)
    assert result.usd >= 0


def test_provider_reported_cost_wins(price) -> None:
    result = price("openrouter", "anthropic/claude-sonnet-4.5", provider_cost_usd=0.0123, input_tokens=1000, output_tokens=1000)
    assert result == (0.0123, sc.COST_PROVIDER_REPORTED, "anthropic/claude-sonnet-4.5", "provider")


def test_provider_reported_cost_for_a_model_not_in_the_catalog(price) -> None:
    result = price("openrouter", "some-lab/brand-new-model", provider_cost_usd=0.5, input_tokens=10, output_tokens=10)
    assert result.usd == 0.5 and result.status == sc.COST_PROVIDER_REPORTED and result.source == "provider"


def test_no_usage(price) -> None:
    result = price("openai", "gpt-4o", usage=False)
    assert result.usd is None and result.status == sc.COST_NO_USAGE


def test_missing_service_tier_price_falls_back_to_standard_and_warns_once(price, caplog) -> None:
    first = price("openai", "gpt-5-nano", input_tokens=1000, output_tokens=1000, service_tier="priority")
    price("openai", "gpt-5-nano", input_tokens=1000, output_tokens=1000, service_tier="priority")
    assert first.usd == pytest.approx((1000 * 0.05 + 1000 * 0.4) / M)
    assert len([r for r in caplog.records if "no priority price" in r.getMessage()]) == 1
