"""Pure helpers: rerouting, redaction, error type names."""

from __future__ import annotations

import pytest

from tokentrace.core.config import Config
from tokentrace.core.pipeline import error_type
from tokentrace.core.redact import redact
from tokentrace.core.rerouting import is_rerouted
from tokentrace.pricing.catalog import load_catalog
from tokentrace.pricing.identity import model_part

_CATALOG = load_catalog(Config())


@pytest.mark.parametrize(
    "requested, answered, expected",
    [
        ("gpt-4o", "gpt-4o-2024-08-06", False),
        ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929", False),
        ("models/gemini-2.5-flash", "gemini-2.5-flash-001", False),
        ("openai/gpt-4o", "gpt-4o-2024-08-06", False),
        ("gpt-5", "gpt-5-mini-2025-08-07", True),
        ("gpt-4o", "gpt-4o-mini-2024-07-18", True),
        ("claude-opus-4-5", "claude-sonnet-4-5-20250929", True),
        (None, "gpt-4o", None),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5-20251001", False),
        ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5", False),
        ("claude-haiku-4-5@20251001", "claude-haiku-4-5-20251001", False),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-sonnet-4-5-20250929", True),
    ],
)
def test_rerouting(requested, answered, expected):
    assert is_rerouted(requested, answered, resolve=_CATALOG.resolve) is expected


def test_azure_deployment_names_resolve_through_aliases():
    assert is_rerouted("prod-chat", "gpt-4o-2024-08-06", {"prod-chat": "gpt-4o"}, "azure.ai.openai", _CATALOG.resolve) is False
    assert is_rerouted("prod-chat", "gpt-4o-mini-2024-07-18", {"prod-chat": "gpt-4o"}, "azure.ai.openai", _CATALOG.resolve) is True
    # Unmapped, a deployment name says nothing about the model: unknown, not an alarm.
    assert is_rerouted("prod-chat", "gpt-4o-2024-08-06", {}, "azure.ai.openai", _CATALOG.resolve) is None


def test_model_part_drops_prefixes_but_keeps_the_snapshot():
    assert model_part(" GPT-4o-2024-08-06 ") == "gpt-4o-2024-08-06"
    assert model_part("us.anthropic.claude-opus-4-5-20251101-v1:0") == "claude-opus-4-5-20251101-v1:0"
    assert model_part("us.meta.llama3-3-70b-instruct-v1:0") == "llama3-3-70b-instruct-v1:0"
    assert model_part("openrouter/openai/gpt-5") == "gpt-5"


@pytest.mark.parametrize(
    "text",
    [
        "Incorrect API key provided: sk-proj-abc***********wxyz.",
        "Authorization: Bearer sk-live-123456789",
        "x-api-key=sk-ant-api03-secretsecret",
        "key AIzaSyD-abcdefghijklmnopqrstu leaked",
        "AKIAIOSFODNN7EXAMPLE used",
    ],
)
def test_redaction_removes_keys(text):
    cleaned = redact(text)
    for secret in ("sk-proj-abc", "sk-live-123456789", "secretsecret", "AIzaSyD-abc", "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in cleaned
    assert "[REDACTED]" in cleaned


def test_error_type_hides_private_modules():
    import openai

    assert error_type(openai.RateLimitError.__new__(openai.RateLimitError)) == "openai.RateLimitError"
    assert error_type(ValueError()) == "ValueError"
    import json

    from botocore.exceptions import ClientError
    from google.genai import errors

    assert error_type(json.JSONDecodeError("x", "", 0)) == "json.JSONDecodeError"  # re-exported by json
    assert error_type(ClientError({}, "Converse")) == "botocore.exceptions.ClientError"  # fully qualified
    assert error_type(errors.ClientError.__new__(errors.ClientError)) == "google.genai.errors.ClientError"


@pytest.mark.parametrize(
    "value, expected, invalid",
    [
        (12, 12, None),
        (0, 0, None),
        (None, 0, None),
        (12.0, 12, None),
        (10**10, 10**10, None),
        (-3, 0, "negative"),
        (True, 0, "not_a_number"),
        (12.5, 0, "fractional"),
        (float("nan"), 0, "not_a_number"),
        (float("inf"), 0, "not_a_number"),
        ("12", 0, "not_a_number"),
        (10**18, 0, "too_large"),
        (2**64, 0, "too_large"),
    ],
)
def test_token_count_accepts_only_non_negative_whole_numbers(value, expected, invalid):
    from tokentrace.core.numbers import InvalidCount
    from tokentrace.providers.values import token_count

    count = token_count(value)
    assert count == expected
    assert (count.problem if isinstance(count, InvalidCount) else None) == invalid


def test_field_reads_dicts_mappings_and_objects():
    import types
    from collections import UserDict

    from tokentrace.providers.values import field

    assert field({"a": 1}, "a") == 1
    assert field(UserDict({"a": 2}), "a") == 2
    assert field(types.SimpleNamespace(a=3), "a") == 3
    assert field(None, "a") is None and field({}, "a") is None
