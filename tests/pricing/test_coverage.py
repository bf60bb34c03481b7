"""Hand-computed costs for the models the catalog did not price before, per provider and usage shape.

Every expected value is written out from the provider's list price (USD per 1M tokens) so a reader
can redo it on the price page: tiers at the exact boundary, batch, flex / priority, cache writes
5 min and 1 h, regional premiums, dated changes at the exact date.
"""

from __future__ import annotations

import pytest

from tokentrace.records import semconv as sc
from tokentrace.records.call import CallRecord, Usage

from .conftest import ts

M = 1_000_000

CASES = [
    # OpenAI: the ids a quarter of real traffic used that came out unknown_model.
    ("gpt-4", "openai", "gpt-4", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {}, (1000 * 30 + 100 * 60) / M),
    ("gpt-4-0613", "openai", "gpt-4-0613", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {}, (1000 * 30 + 100 * 60) / M),
    ("gpt-3.5-turbo-0613", "openai", "gpt-3.5-turbo-0613", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {},
     (1000 * 1.5 + 100 * 2) / M),
    ("o1-pro", "openai", "o1-pro", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {}, (1000 * 150 + 100 * 600) / M),
    ("o3-pro", "openai", "o3-pro", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {}, (1000 * 20 + 100 * 80) / M),
    ("gpt-5-pro", "openai", "gpt-5-pro", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {}, (1000 * 15 + 100 * 120) / M),
    ("gpt-5.5-pro at the 272k boundary", "openai", "gpt-5.5-pro", "2026-11-01", dict(input_tokens=272_000, output_tokens=100), {},
     (272_000 * 30 + 100 * 180) / M),
    ("gpt-5.5-pro one token above", "openai", "gpt-5.5-pro", "2026-11-01", dict(input_tokens=272_001, output_tokens=100), {},
     (272_001 * 60 + 100 * 270) / M),
    ("gpt-5.6 the day before its cut", "openai", "gpt-5.6", "2026-08-20T23:59:59", dict(input_tokens=1000, output_tokens=100), {},
     (1000 * 5 + 100 * 30) / M),
    ("gpt-5.6 on the day of its cut", "openai", "gpt-5.6", "2026-08-21", dict(input_tokens=1000, output_tokens=100), {},
     (1000 * 4 + 100 * 20) / M),
    ("gpt-6.1-sol cached", "openai", "gpt-6.1-sol", "2026-11-01", dict(input_tokens=1000, cache_read_tokens=600, output_tokens=100), {},
     (400 * 2 + 600 * 0.1 + 100 * 10) / M),
    ("gpt-4o batch", "openai", "gpt-4o-2024-08-06", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {"batch": True},
     (1000 * 1.25 + 100 * 5) / M),
    ("gpt-4o batch before genai-prices dates it", "openai", "gpt-4o", "2025-03-01", dict(input_tokens=1000, output_tokens=100),
     {"batch": True}, (1000 * 1.25 + 100 * 5) / M),
    ("ft:gpt-3.5-turbo batch", "openai", "ft:gpt-3.5-turbo-0125:acme::abc", "2026-11-01", dict(input_tokens=1000, output_tokens=100),
     {"batch": True}, (1000 * 1.5 + 100 * 3) / M),
    ("embeddings batch", "openai", "text-embedding-3-small", "2026-11-01", dict(input_tokens=1000), {"batch": True}, 1000 * 0.01 / M),
    ("gpt-5 flex", "openai", "gpt-5", "2026-11-01", dict(input_tokens=1000, cache_read_tokens=500, output_tokens=100),
     {"service_tier": "flex"}, (500 * 0.625 + 500 * 0.0625 + 100 * 5) / M),
    ("gpt-4o priority", "openai", "gpt-4o", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {"service_tier": "priority"},
     (1000 * 4.25 + 100 * 17) / M),
    ("Azure spelling gpt-35-turbo", "azure.ai.openai", "gpt-35-turbo-0613", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {},
     (1000 * 1.5 + 100 * 2) / M),
    # Anthropic.
    ("Claude 3 Opus", "anthropic", "claude-3-opus-20240229", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {},
     (1000 * 15 + 100 * 75) / M),
    ("Claude 3 Haiku batch (retired, not in genai-prices' batch list)", "anthropic", "claude-3-haiku-20240307", "2026-11-01",
     dict(input_tokens=1000, output_tokens=100), {"batch": True}, (1000 * 0.125 + 100 * 0.625) / M),
    ("Haiku 5.5 at its 100k boundary", "anthropic", "claude-haiku-5-5", "2026-11-01", dict(input_tokens=100_000, output_tokens=100), {},
     (100_000 * 0.1 + 100 * 0.5) / M),
    ("Haiku 5.5 above 100k", "anthropic", "claude-haiku-5-5", "2026-11-01", dict(input_tokens=100_001, output_tokens=100), {},
     (100_001 * 0.5 + 100 * 2.5) / M),
    ("Sonnet 4.5 cache writes 5m and 1h", "anthropic", "claude-sonnet-4-5-20250929", "2026-11-01",
     dict(input_tokens=102_050, cache_read_tokens=100_000, cache_write_tokens=2000, cache_write_long_tokens=500, output_tokens=1000), {},
     (50 * 3 + 100_000 * 0.3 + 1500 * 3.75 + 500 * 6 + 1000 * 15) / M),
    ("Sonnet 5.5 cache read before the cut", "anthropic", "claude-sonnet-5-5", "2026-10-06T23:59:59",
     dict(input_tokens=1000, cache_read_tokens=1000), {}, 1000 * 0.2 / M),
    ("Sonnet 5.5 cache read on the day of the cut", "anthropic", "claude-sonnet-5-5", "2026-10-07",
     dict(input_tokens=1000, cache_read_tokens=1000), {}, 1000 * 0.1 / M),
    # Google.
    ("Gemini 2.5 Pro at the 200k boundary", "gcp.gemini", "gemini-2.5-pro", "2026-11-01", dict(input_tokens=200_000, output_tokens=100), {},
     (200_000 * 1.25 + 100 * 10) / M),
    ("Gemini 2.5 Pro above 200k", "gcp.gemini", "gemini-2.5-pro", "2026-11-01", dict(input_tokens=200_001, output_tokens=100), {},
     (200_001 * 2.5 + 100 * 15) / M),
    ("Gemini flex is half price", "gcp.gemini", "gemini-2.5-flash", "2026-11-01", dict(input_tokens=1000, output_tokens=100),
     {"service_tier": "flex"}, (1000 * 0.15 + 100 * 1.25) / M),
    ("Gemini flex on Vertex (trafficType)", "gcp.vertex_ai", "gemini-2.5-flash", "2026-11-01", dict(input_tokens=1000, output_tokens=100),
     {"service_tier": "on_demand_flex"}, (1000 * 0.15 + 100 * 1.25) / M),
    ("Gemini priority +80%", "gcp.gemini", "gemini-2.5-flash", "2026-11-01", dict(input_tokens=1000, output_tokens=100),
     {"service_tier": "priority"}, (1000 * 0.54 + 100 * 4.5) / M),
    ("Gemini 2.5 Pro priority above 200k", "gcp.gemini", "gemini-2.5-pro", "2026-11-01", dict(input_tokens=200_001, output_tokens=100),
     {"service_tier": "priority"}, (200_001 * 4.5 + 100 * 27) / M),
    ("Gemini 2.0 batch", "gcp.gemini", "gemini-2.0-flash-001", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {"batch": True},
     (1000 * 0.05 + 100 * 0.2) / M),
    ("Gemini 3.6 Flash", "gcp.gemini", "gemini-3.6-flash", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {},
     (1000 * 0.75 + 100 * 3.75) / M),
    ("Gemini 3.8 preview id", "gcp.gemini", "gemini-3.8-flash-preview-10-15", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {},
     (1000 * 0.75 + 100 * 3.75) / M),
    # AWS Bedrock.
    ("Titan embeddings v2 (the version is part of the id)", "aws.bedrock", "amazon.titan-embed-text-v2:0", "2026-11-01",
     dict(input_tokens=1000), {}, 1000 * 0.02 / M),
    ("Titan Text Express", "aws.bedrock", "amazon.titan-text-express-v1", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {},
     (1000 * 0.2 + 100 * 0.6) / M),
    ("Nova 2 Lite regional profile", "aws.bedrock", "us.amazon.nova-2-lite-v1:0", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {},
     (1000 * 0.33 + 100 * 2.75) / M),
    ("Claude 3.5 Sonnet on Bedrock", "aws.bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "2026-11-01",
     dict(input_tokens=1000, output_tokens=100), {}, (1000 * 3 + 100 * 15) / M),
    ("Bedrock batch (50%)", "aws.bedrock", "amazon.titan-text-express-v1", "2026-11-01", dict(input_tokens=1000, output_tokens=100),
     {"batch": True}, (1000 * 0.1 + 100 * 0.3) / M),
    ("Sonnet 4.5 on Bedrock above 200k, regional", "aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "2026-11-01",
     dict(input_tokens=200_001, output_tokens=100), {}, (200_001 * 6 + 100 * 22.5) * 1.1 / M),
    # Mistral.
    ("Codestral cached at 10%", "mistral_ai", "codestral-2508", "2026-11-01", dict(input_tokens=1000, cache_read_tokens=500), {},
     (500 * 0.3 + 500 * 0.03) / M),
    ("ministral-8b-latest the day before it moved", "mistral_ai", "ministral-8b-latest", "2025-12-01T23:59:59",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 0.1 + 1000 * 0.1) / M),
    ("ministral-8b-latest on the day it moved", "mistral_ai", "ministral-8b-latest", "2025-12-02", dict(input_tokens=1000, output_tokens=1000),
     {}, (1000 * 0.15 + 1000 * 0.15) / M),
    ("Ministral 8B 2512", "mistral_ai", "ministral-8b-2512", "2026-11-01", dict(input_tokens=1000, output_tokens=1000), {},
     (1000 * 0.15 + 1000 * 0.15) / M),
    ("Mistral Large 4", "mistral_ai", "mistral-large-4", "2026-11-01", dict(input_tokens=1000, output_tokens=1000), {},
     (1000 * 0.7 + 1000 * 2.1) / M),
    ("Mistral Medium 3.5", "mistral_ai", "mistral-medium-3.5", "2026-11-01", dict(input_tokens=1000, output_tokens=1000), {},
     (1000 * 1.5 + 1000 * 7.5) / M),
    ("Devstral 2", "mistral_ai", "devstral-2512", "2026-11-01", dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 0.4 + 1000 * 2) / M),
    ("Devstral Medium", "mistral_ai", "devstral-medium-latest", "2026-11-01", dict(input_tokens=1000, output_tokens=1000), {},
     (1000 * 0.4 + 1000 * 2) / M),
    # DeepSeek: the aliases moved to V4 Flash on 2026-04-24.
    ("deepseek-chat the day before V4", "deepseek", "deepseek-chat", "2026-04-23T12:00:00", dict(input_tokens=1000, output_tokens=1000), {},
     (1000 * 0.28 + 1000 * 0.42) / M),
    ("deepseek-chat on the day of V4", "deepseek", "deepseek-chat", "2026-04-24T12:00:00", dict(input_tokens=1000, output_tokens=1000), {},
     (1000 * 0.14 + 1000 * 0.28) / M),
    ("deepseek-reasoner now (V4 Flash, standard hours)", "deepseek", "deepseek-reasoner", "2026-11-01T12:00:00",
     dict(input_tokens=1000, output_tokens=1000), {}, (1000 * 0.15 + 1000 * 0.6) / M),
    ("DeepSeek V4 Pro", "deepseek", "deepseek-v4-pro", "2026-11-01T12:00:00", dict(input_tokens=1000, output_tokens=1000), {},
     (1000 * 0.66 + 1000 * 1.98) / M),
    # xAI, Moonshot, Groq, OpenRouter.
    ("Grok 4.20 below 200k", "x_ai", "grok-4.20-0309-reasoning", "2026-11-01", dict(input_tokens=199_999, output_tokens=100), {},
     (199_999 * 1.25 + 100 * 2.5) / M),
    ("Grok 4.20 from 200k", "x_ai", "grok-4.20-0309-reasoning", "2026-11-01", dict(input_tokens=200_000, output_tokens=100), {},
     (200_000 * 2.5 + 100 * 5) / M),
    ("Kimi K2 on Moonshot", "moonshot_ai", "kimi-k2-0905-preview", "2026-11-01", dict(input_tokens=1000, cache_read_tokens=400, output_tokens=100),
     {}, (600 * 0.6 + 400 * 0.15 + 100 * 2.5) / M),
    ("Kimi K2 on Groq", "groq", "moonshotai/kimi-k2-instruct", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {},
     (1000 * 1 + 100 * 3) / M),
    ("Qwen3 on Groq", "groq", "qwen/qwen3-32b", "2026-11-01", dict(input_tokens=1000, output_tokens=100), {}, (1000 * 0.29 + 100 * 0.59) / M),
]


@pytest.mark.parametrize("provider, model, at, usage, extra, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hand_computed_cost_of_new_coverage(price, provider, model, at, usage, extra, expected) -> None:
    result = price(provider, model, at=at, **usage, **extra)
    assert result.status == sc.COST_PRICED, result
    assert result.usd == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_anthropic_bedrock_answer_is_priced_with_the_request_id(catalog) -> None:
    # AnthropicBedrock reports Anthropic's id as the response model; the request id carries the price.
    rec = CallRecord("aws.bedrock", "chat", request_model="us.anthropic.claude-haiku-4-5-20251001-v1:0",
                     response_model="claude-haiku-4-5-20251001", usage=Usage(input_tokens=1000, output_tokens=100))
    assert catalog.cost(rec, ts("2026-11-01")).usd == pytest.approx((1000 * 1.1 + 100 * 5.5) / M)
    only_answer = CallRecord("aws.bedrock", "chat", response_model="claude-haiku-4-5-20251001", usage=Usage(input_tokens=1000))
    assert catalog.cost(only_answer, ts("2026-11-01")).status == sc.COST_PRICED


REALISTIC_TRAFFIC = [
    ("openai", "gpt-4o-2024-11-20"), ("openai", "gpt-4.1-mini-2025-04-14"), ("openai", "o4-mini-2025-04-16"),
    ("openai", "gpt-5-2025-08-07"), ("openai", "gpt-5.4"), ("openai", "gpt-5.5"), ("openai", "gpt-5.6-sol"), ("openai", "gpt-6-luna"),
    ("openai", "gpt-6-astra"), ("openai", "gpt-6.1-sol"), ("openai", "text-embedding-3-large"), ("openai", "gpt-realtime"),
    ("anthropic", "claude-opus-4-7"), ("anthropic", "claude-opus-5-5"), ("anthropic", "claude-sonnet-5"), ("anthropic", "claude-sonnet-4-6"),
    ("anthropic", "claude-haiku-4-5-20251001"), ("anthropic", "claude-3-5-haiku-20241022"), ("anthropic", "claude-fable-5-2"),
    ("gcp.gemini", "gemini-3.1-pro-preview"), ("gcp.gemini", "gemini-3.5-flash"), ("gcp.gemini", "gemini-3.7-flash"),
    ("gcp.gemini", "models/gemini-2.5-flash-lite"), ("gcp.vertex_ai", "gemini-2.5-pro"), ("gcp.vertex_ai", "claude-opus-4-5@20251101"),
    ("aws.bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0"), ("aws.bedrock", "eu.anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("aws.bedrock", "meta.llama3-3-70b-instruct-v1:0"), ("aws.bedrock", "amazon.nova-pro-v1:0"), ("aws.bedrock", "qwen.qwen3-32b-v1:0"),
    ("mistral_ai", "mistral-large-latest"), ("mistral_ai", "mistral-small-latest"), ("mistral_ai", "codestral-latest"),
    ("mistral_ai", "magistral-medium-latest"), ("deepseek", "deepseek-v4-flash"), ("x_ai", "grok-4.3"), ("x_ai", "grok-4-1-fast-reasoning"),
    ("groq", "llama-3.3-70b-versatile"), ("groq", "openai/gpt-oss-120b"), ("cohere", "command-a-03-2025"), ("perplexity", "sonar-pro"),
    ("openrouter", "anthropic/claude-sonnet-4.5"), ("openrouter", "google/gemini-2.5-flash"), ("together_ai", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
    ("fireworks_ai", "accounts/fireworks/models/deepseek-v3p2"), ("cerebras", "gpt-oss-120b"), ("moonshot_ai", "kimi-k2-turbo-preview"),
]


@pytest.mark.parametrize("provider, model", REALISTIC_TRAFFIC, ids=[m for _, m in REALISTIC_TRAFFIC])
def test_realistic_traffic_of_todays_models_is_priced(price, provider: str, model: str) -> None:
    result = price(provider, model, input_tokens=1000, output_tokens=100)
    assert result.status == sc.COST_PRICED and result.usd and result.usd > 0, result


def test_catalog_prices_at_least_as_many_models_as_genai_prices(catalog) -> None:
    assert catalog.base is not None and catalog.base.model_count() >= 2330
