"""Bedrock Runtime through real boto3: usage, cost, models, streams, errors, uninstrument.

Expected numbers are computed by hand from Bedrock's usage semantics (``inputTokens`` exclude
cache reads and writes) and the list prices in the shared price reference (per 1M tokens;
Claude Sonnet 4.5 on a regional ``us.`` profile costs 10% more than the global price).
"""

from __future__ import annotations

import gc
import json
from typing import Any, List

import botocore.client
import pytest
from botocore.exceptions import ClientError, EventStreamError
from botocore.response import StreamingBody

import tokentrace
from tokentrace.testing import ResponsePlan

SONNET_US = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
PROFILE_ARN = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{SONNET_US}"
LLAMA = "meta.llama3-3-70b-instruct-v1:0"
NOVA = "amazon.nova-pro-v1:0"
MISTRAL = "mistral.mistral-large-2402-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Was the invoice late?"}]}]


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


# -- Converse -------------------------------------------------------------------------------------


def test_converse_usage_cost_and_model(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    usage = {"inputTokens": 100, "outputTokens": 20, "totalTokens": 1120, "cacheReadInputTokens": 800, "cacheWriteInputTokens": 200}
    server.enqueue(ResponsePlan(usage=usage))

    response = bedrock.converse(modelId=SONNET_US, messages=MESSAGES, inferenceConfig={"maxTokens": 256, "temperature": 0.2})

    assert response["usage"] == usage  # the app's response is the SDK's own
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "aws.bedrock"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == SONNET_US
    assert attrs["gen_ai.response.model"] == SONNET_US
    assert attrs["gen_ai.request.max_tokens"] == 256
    assert attrs["gen_ai.request.temperature"] == pytest.approx(0.2)
    assert attrs["server.address"] == "127.0.0.1" and attrs["server.port"] == server.port
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["tokentrace.provider.finish_reasons"] == ("end_turn",)
    # Canonical input = 100 uncached + 800 read + 200 written.
    assert attrs["gen_ai.usage.input_tokens"] == 1100
    assert attrs["gen_ai.usage.output_tokens"] == 20
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 800
    assert attrs["gen_ai.usage.cache_write.input_tokens"] == 200
    # 1.1 x (100*3 + 800*0.3 + 200*3.75 + 20*15) / 1e6
    assert attrs["tokentrace.cost.usd"] == pytest.approx(0.001749)
    assert attrs["tokentrace.model.rerouted"] is False
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="cache_read") == 800


def test_converse_cache_ttl_details(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    usage = {
        "inputTokens": 10, "outputTokens": 5, "totalTokens": 1015, "cacheReadInputTokens": 0, "cacheWriteInputTokens": 1000,
        "cacheDetails": [{"ttl": "1h", "inputTokens": 400}, {"ttl": "5m", "inputTokens": 600}],
    }
    server.enqueue(ResponsePlan(usage=usage))
    bedrock.converse(modelId=SONNET_US, messages=MESSAGES)
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.input_tokens"] == 1010
    # 1.1 x (10*3 + 600*3.75 + 400*6 + 5*15) / 1e6
    assert attrs["tokentrace.cost.usd"] == pytest.approx(1.1 * (30 + 2250 + 2400 + 75) / 1e6)


def test_inference_profile_arn_is_priced_as_its_profile(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"inputTokens": 1000, "outputTokens": 100, "totalTokens": 1100}))
    bedrock.converse(modelId=PROFILE_ARN, messages=MESSAGES)
    assert "inference-profile%2F" in server.requests[-1].path  # botocore URL-encoded the ARN
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.request.model"] == SONNET_US
    assert attrs["aws.bedrock.model_id"] == PROFILE_ARN
    assert attrs["tokentrace.cost.usd"] == pytest.approx(1.1 * (1000 * 3 + 100 * 15) / 1e6)


def test_opaque_arn_is_unknown_never_zero(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
    bedrock.converse(modelId=arn, messages=MESSAGES)
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.request.model"] == arn
    assert "tokentrace.cost.usd" not in attrs
    assert attrs["tokentrace.cost.status"] == "unknown_model"


def _collect(stream: Any) -> List[Any]:
    return [event for event in stream]


def test_converse_stream_is_transparent_and_counted(instrument: Any, server: Any, bedrock: Any) -> None:
    usage = {"inputTokens": 120, "outputTokens": 30, "totalTokens": 150}
    server.enqueue(ResponsePlan(usage=usage))
    plain = _collect(bedrock.converse_stream(modelId=SONNET_US, messages=MESSAGES)["stream"])

    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage))
    response = bedrock.converse_stream(modelId=SONNET_US, messages=MESSAGES)
    assert telemetry.llm_spans() == []  # still open until the stream ends
    observed = _collect(response["stream"])

    assert observed == plain
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.response.model"] == SONNET_US
    assert attrs["gen_ai.usage.input_tokens"] == 120
    assert attrs["gen_ai.usage.output_tokens"] == 30
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["tokentrace.provider.finish_reasons"] == ("end_turn",)
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0
    assert attrs["tokentrace.cost.usd"] == pytest.approx(1.1 * (120 * 3 + 30 * 15) / 1e6)


def test_stream_closed_early_ends_once_without_usage(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    stream = bedrock.converse_stream(modelId=SONNET_US, messages=MESSAGES)["stream"]
    iterator = iter(stream)
    first = next(iterator)
    assert "messageStart" in first
    stream.close()
    stream.close()
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["tokentrace.cost.status"] == "no_usage"


def test_stream_resumes_after_break(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    stream = bedrock.converse_stream(modelId=SONNET_US, messages=MESSAGES)["stream"]
    for event in stream:
        if "contentBlockDelta" in event:
            break
    assert telemetry.llm_spans() == []
    rest = list(stream)
    assert "metadata" in rest[-1]
    assert _attrs(telemetry.only_llm_span())["gen_ai.usage.output_tokens"] > 0


def test_abandoned_stream_ends_on_garbage_collection(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    response = bedrock.converse_stream(modelId=SONNET_US, messages=MESSAGES)
    assert response["stream"].close is not None  # touch, never iterate
    del response
    gc.collect()
    assert len(telemetry.llm_spans()) == 1


# -- InvokeModel ----------------------------------------------------------------------------------

FAMILIES = [
    pytest.param(
        SONNET_US,
        {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 512, "messages": [{"role": "user", "content": "Was it late?"}]},
        {"input_tokens": 50, "cache_read_input_tokens": 100000, "cache_creation_input_tokens": 2000,
         "cache_creation": {"ephemeral_5m_input_tokens": 1500, "ephemeral_1h_input_tokens": 500}, "output_tokens": 1000},
        (102050, 1000, 100000, 2000),
        1.1 * (50 * 3 + 100000 * 0.3 + 1500 * 3.75 + 500 * 6 + 1000 * 15) / 1e6,
        id="anthropic",
    ),
    pytest.param(
        LLAMA,
        {"prompt": "<|begin_of_text|>Was it late?", "max_gen_len": 512, "temperature": 0.5},
        {"prompt_token_count": 1000, "generation_token_count": 250},
        (1000, 250, 0, 0),
        1250 * 0.72 / 1e6,
        id="meta",
    ),
    pytest.param(
        NOVA,
        {"schemaVersion": "messages-v1", "messages": [{"role": "user", "content": [{"text": "Was it late?"}]}], "inferenceConfig": {"maxTokens": 512}},
        {"inputTokens": 300, "outputTokens": 100, "totalTokens": 400, "cacheReadInputTokenCount": 1000, "cacheWriteInputTokenCount": 0},
        (1300, 100, 1000, 0),
        (300 * 0.8 + 1000 * 0.2 + 100 * 3.2) / 1e6,
        id="nova",
    ),
    pytest.param(
        MISTRAL,
        {"prompt": "<s>[INST] Was it late? [/INST]", "max_tokens": 512},
        {"inputTokenCount": 40, "outputTokenCount": 12},
        (40, 12, 0, 0),
        (40 * 4 + 12 * 12) / 1e6,
        id="mistral-usage-from-headers",
    ),
]


@pytest.mark.parametrize("model_id, body, usage, expected, cost", FAMILIES)
def test_invoke_model_families(instrument: Any, server: Any, bedrock: Any, model_id: str, body: dict, usage: dict,
                               expected: tuple, cost: float) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage))

    response = bedrock.invoke_model(modelId=model_id, body=json.dumps(body).encode())

    assert isinstance(response["body"], StreamingBody)
    head = response["body"].read(5)
    payload = json.loads(head + response["body"].read())
    assert payload  # the app reads exactly the model's JSON, in pieces if it likes
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.request.model"] == model_id
    assert attrs["gen_ai.request.max_tokens"] == 512
    input_tokens, output_tokens, cache_read, cache_write = expected
    assert attrs["gen_ai.usage.input_tokens"] == input_tokens
    assert attrs["gen_ai.usage.output_tokens"] == output_tokens
    assert attrs.get("gen_ai.usage.cache_read.input_tokens", 0) == cache_read
    assert attrs.get("gen_ai.usage.cache_write.input_tokens", 0) == cache_write
    assert attrs["gen_ai.response.finish_reasons"]
    assert attrs["tokentrace.cost.usd"] == pytest.approx(cost)


@pytest.mark.parametrize("model_id, body, usage, expected, cost", FAMILIES)
def test_invoke_model_stream_families(instrument: Any, server: Any, bedrock: Any, model_id: str, body: dict, usage: dict,
                                      expected: tuple, cost: float) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage))
    response = bedrock.invoke_model_with_response_stream(modelId=model_id, body=json.dumps(body))
    events = list(response["body"])
    assert all("chunk" in event for event in events)
    attrs = _attrs(telemetry.only_llm_span())
    input_tokens, output_tokens, cache_read, cache_write = expected
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.usage.input_tokens"] == input_tokens
    assert attrs["gen_ai.usage.output_tokens"] == output_tokens
    assert attrs.get("gen_ai.usage.cache_read.input_tokens", 0) == cache_read
    assert attrs.get("gen_ai.usage.cache_write.input_tokens", 0) == cache_write
    assert attrs["tokentrace.cost.usd"] == pytest.approx(cost)


def test_invoke_stream_is_transparent(instrument: Any, server: Any, bedrock: Any) -> None:
    body = json.dumps({"prompt": "Was it late?", "max_gen_len": 64})
    plain = list(bedrock.invoke_model_with_response_stream(modelId=LLAMA, body=body)["body"])
    telemetry = instrument()
    observed = list(bedrock.invoke_model_with_response_stream(modelId=LLAMA, body=body)["body"])
    assert observed == plain
    assert len(telemetry.llm_spans()) == 1


def test_malformed_invoke_body_reaches_app_untouched(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(body=b"\x00not json{", usage={"inputTokenCount": 7, "outputTokenCount": 3}))
    response = bedrock.invoke_model(modelId=MISTRAL, body=b"{}")
    assert response["body"].read() == b"\x00not json{"
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.input_tokens"] == 7  # the token-count headers still say it
    assert attrs["gen_ai.usage.output_tokens"] == 3


def test_garbage_stream_chunk_never_reaches_the_app_as_an_error(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(events=[("chunk", json.dumps({"bytes": "eyJ1c2FnZSI6IFsxLCB7"}))]))  # '{"usage": [1, {'
    events = list(bedrock.invoke_model_with_response_stream(modelId=SONNET_US, body="{}")["body"])
    assert len(events) == 1
    assert _attrs(telemetry.only_llm_span())["tokentrace.cost.status"] == "no_usage"


# -- errors ---------------------------------------------------------------------------------------


def _failure(call: Any) -> BaseException:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test compares what the app sees
        return exc
    raise AssertionError("expected the call to fail")


def _frames(exc: BaseException) -> List[str]:
    frames, tb = [], exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    return frames


def test_error_propagates_unchanged(instrument: Any, server: Any, bedrock: Any) -> None:
    server.enqueue(ResponsePlan(status=429))
    plain = _failure(lambda: bedrock.converse(modelId=SONNET_US, messages=MESSAGES))
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=429))
    seen = _failure(lambda: bedrock.converse(modelId=SONNET_US, messages=MESSAGES))

    assert type(seen) is type(plain) and type(seen).__name__ == "ThrottlingException"
    assert isinstance(seen, ClientError)
    assert seen.response["Error"] == plain.response["Error"]
    assert _frames(seen)[-1] == _frames(plain)[-1] == "_make_api_call"
    span = telemetry.only_llm_span()
    assert span.status.status_code.name == "ERROR"
    assert _attrs(span)["error.type"].endswith("ThrottlingException")


def test_mid_stream_error_propagates_and_ends_the_span(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(error={"exception": "throttlingException", "message": "Too many tokens, please wait."}))
    stream = bedrock.converse_stream(modelId=SONNET_US, messages=MESSAGES)["stream"]
    seen: List[Any] = []
    with pytest.raises(EventStreamError) as info:
        for event in stream:
            seen.append(event)
    assert info.value.response["Error"]["Code"] == "throttlingException"
    assert len(seen) == 2
    span = telemetry.only_llm_span()
    assert span.status.status_code.name == "ERROR"


def test_internal_fault_never_reaches_the_app(instrument: Any, server: Any, bedrock: Any, monkeypatch: Any) -> None:
    from tokentrace.providers.bedrock import extract

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(extract, "fill_converse", broken)
    monkeypatch.setattr(extract, "nova_usage", broken)
    telemetry = instrument()
    response = bedrock.converse(modelId=SONNET_US, messages=MESSAGES)
    assert response["stopReason"] == "end_turn"
    events = list(bedrock.invoke_model_with_response_stream(modelId=NOVA, body="{}")["body"])
    assert len(events) == 7
    assert len(telemetry.llm_spans()) == 2


# -- scope, content, attribution, uninstrument ----------------------------------------------------


def test_other_aws_services_pass_through(instrument: Any, server: Any) -> None:
    import boto3
    from botocore.config import Config

    telemetry = instrument()
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=server.url, aws_access_key_id="AKIATEST",
                      aws_secret_access_key="secret", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError):
        s3.list_buckets()
    assert telemetry.llm_spans() == []


def test_content_only_when_opted_in(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    bedrock.converse(modelId=SONNET_US, messages=MESSAGES, system=[{"text": "Be brief."}])
    attrs = _attrs(telemetry.only_llm_span())
    assert not any(key.startswith("gen_ai.input") or key.startswith("gen_ai.output.messages") for key in attrs)
    assert "Was the invoice late?" not in json.dumps({k: str(v) for k, v in attrs.items()})

    telemetry.exporter.clear()
    tokentrace.uninstrument()
    telemetry = instrument(capture_content="SPAN_ONLY")
    bedrock.converse(modelId=SONNET_US, messages=MESSAGES, system=[{"text": "Be brief."}])
    attrs = _attrs(telemetry.only_llm_span())
    assert json.loads(attrs["gen_ai.input.messages"])[0]["parts"][0]["content"] == "Was the invoice late?"
    assert json.loads(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    assert "late fee" in json.loads(attrs["gen_ai.output.messages"])[0]["parts"][0]["content"]


def test_no_credentials_in_attributes(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    bedrock.converse(modelId=SONNET_US, messages=MESSAGES)
    assert "authorization" in server.requests[-1].headers  # botocore really signed the request
    text = json.dumps({k: str(v) for k, v in _attrs(telemetry.only_llm_span()).items()})
    assert "AKIAIOSFODNN7EXAMPLE" not in text and "Signature" not in text


def test_attribution_reaches_the_span(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    with tokentrace.attribute(team="payments", feature="invoice-check"):
        bedrock.converse(modelId=SONNET_US, messages=MESSAGES)
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["tokentrace.team"] == "payments"
    assert attrs["tokentrace.feature"] == "invoice-check"


def test_uninstrument_restores_the_original(instrument: Any, server: Any, bedrock: Any) -> None:
    original = botocore.client.BaseClient.__dict__["_make_api_call"]
    telemetry = instrument()
    assert botocore.client.BaseClient.__dict__["_make_api_call"] is not original
    tokentrace.uninstrument()
    assert botocore.client.BaseClient.__dict__["_make_api_call"] is original
    bedrock.converse(modelId=SONNET_US, messages=MESSAGES)
    assert telemetry.llm_spans() == []


def test_titan_embeddings_through_invoke_model(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    response = bedrock.invoke_model(modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "late invoice fee"}))
    payload = json.loads(response["body"].read())
    assert payload["inputTextTokenCount"] == 4 and len(payload["embedding"]) == 8
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["gen_ai.usage.input_tokens"] == 4


def test_attribution_baggage_is_stripped_before_signing(instrument: Any, server: Any, bedrock: Any) -> None:
    def add_baggage(request: Any, **_: Any) -> None:
        request.headers["baggage"] = "tokentrace.team=payments,tenant-region=eu"

    bedrock.meta.events.register_first("request-created.bedrock-runtime", add_baggage)
    instrument()
    response = bedrock.converse(modelId=SONNET_US, messages=MESSAGES)
    assert response["stopReason"] == "end_turn"
    assert server.requests[-1].headers["baggage"] == "tenant-region=eu"


def test_other_bedrock_operations_pass_through_once(instrument: Any, server: Any, bedrock: Any) -> None:
    telemetry = instrument()
    with pytest.raises(ClientError):
        bedrock.apply_guardrail(guardrailIdentifier="gr-1", guardrailVersion="1", source="INPUT",
                                content=[{"text": {"text": "hi"}}])
    assert len(server.requests) == 1  # sent exactly once, failure untouched
    assert telemetry.llm_spans() == []
