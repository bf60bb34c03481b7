"""Model identity for rerouting: the false alarms seen in recorded traffic are gone, the true
reroutes stay caught, and what cannot be told is "unknown"."""

from __future__ import annotations

import pytest

from tokentrace.core.config import Config
from tokentrace.pricing.catalog import load_catalog
from tokentrace.pricing.identity import same_model

CATALOG = load_catalog(Config())


@pytest.mark.parametrize(
    "requested, answered, provider",
    [
        ("claude-sonnet-4-0", "claude-sonnet-4-20250514", "anthropic"),  # the -0 alias
        ("gpt-4-vision-preview", "gpt-4-1106-vision-preview", "openai"),  # snapshot date mid-name
        ("davinci-002", "davinci:2023-07-21-v2", "openai"),  # : snapshot tag
        ("anthropic/claude-sonnet-4.6", "anthropic/claude-4.6-sonnet-20260217", "openrouter"),  # word order
        ("llama3.3-70b", "llama-3.3-70b", "cerebras"),  # separators
        ("gpt-4o", "gpt-4o-2024-08-06", "openai"),
        ("gpt-4o", "gpt-4o-2024-05-13", "openai"),  # a snapshot with its own price is still gpt-4o
        ("openai/gpt-4o", "gpt-4o-2024-08-06", "openrouter"),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5-20251001", "aws.bedrock"),
        ("claude-haiku-4-5@20251001", "claude-haiku-4-5-20251001", "gcp.vertex_ai"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash-001", "gcp.gemini"),
    ],
)
def test_same_model_is_no_reroute(requested, answered, provider):
    assert same_model(requested, answered, provider, CATALOG.resolve) is True


@pytest.mark.parametrize(
    "requested, answered, provider",
    [
        ("google/gemini-2.0-flash-exp:free", "x-ai/grok-4", "openrouter"),  # another vendor answered
        ("deepseek-reasoner", "deepseek-v4-flash", "deepseek"),  # a known model answered by another name
        ("gpt-5", "gpt-5-mini-2025-08-07", "openai"),
        ("gpt-4o", "gpt-4o-mini-2024-07-18", "openai"),
        ("claude-opus-4-5", "claude-sonnet-4-5-20250929", "anthropic"),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-sonnet-4-5-20250929", "aws.bedrock"),
    ],
)
def test_true_reroutes_stay_caught(requested, answered, provider):
    assert same_model(requested, answered, provider, CATALOG.resolve) is False


@pytest.mark.parametrize(
    "requested, answered, provider",
    [
        ("prod-chat", "gpt-4o-2024-08-06", "azure.ai.openai"),  # an unmapped Azure deployment
        ("my-finetune", "llama-3.1-8b-instruct", "self-hosted"),  # names the catalog does not know
        ("llama3:8b", "llama3:70b", "ollama"),
        (None, "gpt-4o", "openai"),
    ],
)
def test_what_cannot_be_told_is_unknown(requested, answered, provider):
    assert same_model(requested, answered, provider, CATALOG.resolve) is None


def test_without_the_catalog_only_spelling_decides():
    assert same_model("gpt-4o", "gpt-4o-2024-08-06", "openai") is True
    assert same_model("gpt-5", "gpt-5-mini", "openai") is None
