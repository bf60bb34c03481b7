"""Model resolution: answered model first, then requested; Azure deployments; unknown models."""

from __future__ import annotations

import logging

import pytest

from tokentrace.core.config import Config
from tokentrace.pricing import load_catalog
from tokentrace.records import semconv as sc

from .conftest import record, ts

M = 1_000_000


def test_answered_model_is_priced_not_the_requested_one(price) -> None:
    # Requested gpt-5, a gateway answered with gpt-5-mini: the answering model's rates apply.
    result = price("openai", "gpt-5", response_model="gpt-5-mini-2025-08-07", input_tokens=1000, output_tokens=1000)
    assert result.model == "gpt-5-mini"
    assert result.usd == pytest.approx((1000 * 0.25 + 1000 * 2) / M)


def test_falls_back_to_the_requested_model_when_the_answer_is_unknown(price) -> None:
    result = price("openai", "gpt-4o", response_model="gpt-4o-internal-build-7", input_tokens=1000, output_tokens=1000)
    assert result.status == sc.COST_PRICED and result.model == "gpt-4o"


def test_azure_deployment_name_resolved_through_configuration() -> None:
    catalog = load_catalog(Config(azure_deployments={"prod-chat": "gpt-4o"}))
    # The Responses API on Azure answers with the deployment name.
    result = catalog.cost(record("azure.ai.openai", "prod-chat", response_model="prod-chat", input_tokens=1000, output_tokens=1000), ts("2026-11-01"))
    assert result.status == sc.COST_PRICED and result.model == "gpt-4o"
    assert result.usd == pytest.approx((1000 * 2.5 + 1000 * 10) / M)


def test_azure_chat_completions_report_the_underlying_model(price) -> None:
    result = price("azure.ai.openai", "my-deployment", response_model="gpt-4o-2024-11-20", input_tokens=1000, output_tokens=0)
    assert result.status == sc.COST_PRICED and result.usd == pytest.approx(1000 * 2.5 / M)


def test_unmapped_azure_deployment_is_unknown_not_free(price) -> None:
    result = price("azure.ai.openai", "team-x-deployment", response_model="team-x-deployment", input_tokens=10, output_tokens=10)
    assert result.usd is None and result.status == sc.COST_UNKNOWN_MODEL


def test_unknown_model_has_no_cost_and_warns_once_per_model(catalog, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="tokentrace")
    for _ in range(3):
        result = catalog.cost(record("openai", "gpt-unreleased-9", input_tokens=10, output_tokens=10), None)
        assert result.usd is None and result.status == sc.COST_UNKNOWN_MODEL and result.model is None
    catalog.cost(record("openai", "another-unknown", input_tokens=10, output_tokens=10), None)
    messages = [r.getMessage() for r in caplog.records if "no price for model" in r.getMessage()]
    assert len(messages) == 2
    assert "gpt-unreleased-9" in messages[0] and "another-unknown" in messages[1]


@pytest.mark.parametrize(
    "provider, model",
    [
        ("openai", None),
        ("openai", ""),
        ("openai", "gpt-4o-but-not-really"),  # a prefix of a known name is not a match
        ("gcp.gemini", "gemini-0.9-ultra-preview-04-17"),  # no such family: never guessed
        ("openrouter", "some-lab/llama-3.3-70b-instruct"),  # vendor not in the catalog
        ("aws.bedrock", "arn:aws:bedrock:us-east-1:123:application-inference-profile/a1b2c3"),
        ("openai", "ft:babbage-002:org::id"),
        ("self-hosted", "my-llama"),
    ],
)
def test_unknown_models(price, provider, model) -> None:
    result = price(provider, model, input_tokens=10, output_tokens=10)
    assert result.usd is None and result.status == sc.COST_UNKNOWN_MODEL


def test_unknown_provider_falls_back_to_well_known_names(price) -> None:
    result = price("my-gateway", "claude-haiku-4-5", input_tokens=1000, output_tokens=0)
    assert result.usd == pytest.approx(1000 * 1 / M)


def test_resolution_is_cached_per_provider_and_model(catalog, monkeypatch) -> None:
    calls = []
    original = catalog.resolve_record
    monkeypatch.setattr(catalog, "resolve_record", lambda *a: calls.append(a) or original(*a))
    for _ in range(5):
        catalog.cost(record("openai", "gpt-4o", input_tokens=1, output_tokens=1), None)
    assert len(calls) == 1


def test_price_in_force_is_taken_from_the_call_time_not_now(catalog) -> None:
    rec = record("mistral_ai", "mistral-medium-latest", input_tokens=1000, output_tokens=1000)
    assert catalog.cost(rec, ts("2026-06-15T23:59:59")).usd == pytest.approx((1000 * 0.4 + 1000 * 2) / M)
    assert catalog.cost(rec, ts("2026-06-16")).usd == pytest.approx((1000 * 1.5 + 1000 * 7.5) / M)
    # A call dated before the first recorded price uses the first price, never zero.
    assert catalog.cost(record("openai", "o3", input_tokens=1000), ts("2020-01-01")).usd == pytest.approx(1000 * 10 / M)
