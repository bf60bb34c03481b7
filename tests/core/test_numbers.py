"""Every number from a provider or a config is validated: hypothesis over each input path."""

from __future__ import annotations

import logging
import math
from typing import Any, Dict

import openai
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

import tokentrace
from tokentrace.core import numbers
from tokentrace.core.numbers import MAX_TOKENS, InvalidCount, count, usage_problems, valid_cost
from tokentrace.records.call import Usage
from tokentrace.testing import ProviderServer, ResponsePlan

MESSAGES = [{"role": "user", "content": "hi"}]

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)


@given(anything)
def test_count_is_always_a_bounded_int_and_marks_what_it_refused(value: Any) -> None:
    result = count(value)
    assert isinstance(result, int) and 0 <= result <= MAX_TOKENS
    whole = (
        value is None
        or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS)
        or (isinstance(value, float) and math.isfinite(value) and value.is_integer() and 0 <= value <= MAX_TOKENS)
    )
    assert isinstance(result, InvalidCount) == (not whole)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_the_mark_survives_adapter_arithmetic(a: int, b: int) -> None:
    bad = count(1.5)
    for combined in (bad + a, a + bad, sum([a, bad, b]), bad - a, a - bad):
        assert isinstance(combined, InvalidCount) and combined.problem == "fractional"


@given(st.builds(Usage, *[st.integers(min_value=0, max_value=10**6)] * 2, *[st.integers(min_value=0, max_value=10**6)] * 4))
def test_subsets_larger_than_their_totals_are_problems(usage: Usage) -> None:
    problems = usage_problems(usage)
    expected = (
        usage.cache_read_tokens + usage.cache_write_tokens > usage.input_tokens
        or usage.cache_write_long_tokens > usage.cache_write_tokens
        or usage.reasoning_tokens > usage.output_tokens
    )
    assert bool(problems) == expected


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-(2**80), max_value=2**1100), st.text(max_size=3), st.none()))
def test_valid_cost_accepts_only_plausible_amounts(value: Any) -> None:
    result = valid_cost(value)
    if result is not None:
        assert math.isfinite(result) and 0 <= result <= numbers.MAX_COST_USD


def _metrics_and_spans_encode(telemetry: Any) -> None:
    """What the OTLP exporters do with them: a value OTLP cannot carry raises here."""
    data = telemetry.reader.get_metrics_data()
    encode_metrics(data).SerializeToString()
    encode_spans(telemetry.spans()).SerializeToString()


@pytest.mark.parametrize(
    "usage, problem",
    [
        ({"prompt_tokens": 10.5, "completion_tokens": 3, "total_tokens": 13.5}, "input_tokens:fractional"),
        ({"prompt_tokens": -10, "completion_tokens": -3, "total_tokens": -13}, "input_tokens:negative"),
        ({"prompt_tokens": 2**64, "completion_tokens": 3, "total_tokens": 2**64 + 3}, "input_tokens:too_large"),
        ({"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13, "prompt_tokens_details": {"cached_tokens": 50}}, "cache_tokens:exceed_input"),
        ({"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13, "completion_tokens_details": {"reasoning_tokens": 9}}, "reasoning_tokens:exceed_output"),
    ],
)
def test_hostile_usage_is_marked_never_a_silent_zero(instrument: Any, server: ProviderServer, usage: Dict[str, Any], problem: str) -> None:
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(ResponsePlan(usage=usage))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    span = telemetry.only_llm_span()
    assert span.attributes["tokentrace.cost.status"] == "invalid_usage"
    assert "tokentrace.cost.usd" not in span.attributes
    assert problem in span.attributes["tokentrace.usage.invalid"]
    assert telemetry.total("tokentrace.cost") == 0
    _metrics_and_spans_encode(telemetry)


def test_one_huge_count_does_not_stop_metric_export_and_later_calls_count(instrument: Any, server: ProviderServer) -> None:
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 2**63 + 5, "completion_tokens": 2**63, "total_tokens": 2**64 + 5}))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=2**70)
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    _metrics_and_spans_encode(telemetry)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == 100


def test_absurd_gateway_cost_is_marked_and_budgets_settle(instrument: Any, server: ProviderServer, caplog: pytest.LogCaptureFixture) -> None:
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        with tokentrace.budget(usd=1.0):
            for _ in range(3):
                server.enqueue(ResponsePlan(usage={"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13, "cost": 1e300}))
                client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert "internal error" not in caplog.text
    spans = telemetry.llm_spans()
    assert [s.attributes["tokentrace.cost.status"] for s in spans] == ["invalid_cost"] * 3
    assert telemetry.total("tokentrace.cost") == 0
    assert sum("cannot be right" in r.getMessage() for r in caplog.records) == 1  # rate-limited
    _metrics_and_spans_encode(telemetry)


usage_values = st.one_of(st.integers(min_value=-(2**66), max_value=2**66), st.floats(allow_nan=False, allow_infinity=False, width=32), st.none())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prompt=usage_values, completion=usage_values, cached=usage_values, reasoning=usage_values)
def test_fuzzed_usage_over_the_real_sdk(instrument: Any, server: ProviderServer, prompt: Any, completion: Any, cached: Any, reasoning: Any) -> None:
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    usage: Dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": 0}
    usage["prompt_tokens_details"] = {"cached_tokens": cached}
    usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    server.enqueue(ResponsePlan(usage=usage))
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    except openai.APIError:
        pass  # the SDK itself may refuse a body; tokentrace must still not break anything
    for span in telemetry.llm_spans():
        attributes = span.attributes
        status = attributes.get("tokentrace.cost.status")
        if status == "priced":
            assert attributes["tokentrace.cost.usd"] > 0 or (attributes["gen_ai.usage.input_tokens"] == 0 and attributes["gen_ai.usage.output_tokens"] == 0)
            assert "tokentrace.usage.invalid" not in attributes
        for value in attributes.values():
            if isinstance(value, int):
                assert abs(value) < 2**63
    _metrics_and_spans_encode(telemetry)
    tokentrace.uninstrument()
    telemetry.exporter.clear()


def _call_anthropic(server: ProviderServer) -> None:
    import anthropic

    anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0).messages.create(
        model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES
    )


def _call_gemini(server: ProviderServer) -> None:
    from google import genai
    from google.genai import types

    genai.Client(
        api_key="AIza-test", http_options=types.HttpOptions(base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1))
    ).models.generate_content(model="gemini-2.5-flash", contents="hi")


def _call_bedrock(server: ProviderServer) -> None:
    import boto3
    from botocore.config import Config

    boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=server.url, aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="x", config=Config(retries={"total_max_attempts": 1}),
    ).converse(modelId="anthropic.claude-3-haiku-20240307-v1:0", messages=[{"role": "user", "content": [{"text": "hi"}]}])


PROVIDERS = {
    "anthropic": (_call_anthropic, ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")),
    "gemini": (_call_gemini, ("promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount", "thoughtsTokenCount")),
    "bedrock": (_call_bedrock, ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens")),
}


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(usage_values, min_size=4, max_size=4))
def test_fuzzed_usage_over_other_real_sdks(instrument: Any, server: ProviderServer, provider: str, values: Any) -> None:
    call, names = PROVIDERS[provider]
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=dict(zip(names, values, strict=True))))
    try:
        call(server)
    except Exception:
        pass  # the SDK itself may refuse the body; tokentrace must still hold
    for span in telemetry.llm_spans():
        attributes = span.attributes
        if attributes.get("tokentrace.cost.status") == "priced":
            assert "tokentrace.usage.invalid" not in attributes
        assert all(abs(v) < 2**63 for v in attributes.values() if isinstance(v, int))
    _metrics_and_spans_encode(telemetry)
    tokentrace.uninstrument()
    telemetry.exporter.clear()
