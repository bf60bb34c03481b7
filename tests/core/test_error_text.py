"""Error text on spans: type, HTTP status and the provider's code/type only, unless capture is on."""

from __future__ import annotations

import logging
from typing import Any

import anthropic
import openai
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from google import genai
from google.genai import errors as genai_errors, types

from tokentrace.attribution import values as attribution_values
from tokentrace.testing import ProviderServer, ResponsePlan

SECRET = "my secret prompt about the merger"
ECHO = {"message": f"Invalid prompt: {SECRET!r} contains disallowed content", "type": "invalid_request_error", "param": None, "code": "content_policy_violation"}
MESSAGES = [{"role": "user", "content": SECRET}]


def _error_texts(span: Any) -> str:
    texts = [span.status.description or ""]
    for event in span.events:
        texts.extend(str(v) for v in (event.attributes or {}).values())
    return " | ".join(texts)


def test_openai_error_echoing_the_prompt_capture_off(instrument: Any, server: ProviderServer) -> None:
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(ResponsePlan(status=400, error=ECHO))
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert SECRET in str(raised.value)  # the app still sees the full message
    span = telemetry.only_llm_span()
    text = _error_texts(span)
    assert SECRET not in text and "disallowed" not in text
    assert span.status.description == "openai.BadRequestError: HTTP 400, code=content_policy_violation, type=invalid_request_error"
    assert span.attributes["error.type"] == "openai.BadRequestError"


def test_openai_error_message_with_capture_on(instrument: Any, server: ProviderServer) -> None:
    telemetry = instrument(capture_content="SPAN_ONLY")
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(ResponsePlan(status=400, error=ECHO))
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert SECRET in telemetry.only_llm_span().status.description


def test_anthropic_gemini_bedrock_errors_capture_off(instrument: Any, server: ProviderServer) -> None:
    import boto3

    telemetry = instrument()
    claude = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    server.enqueue(ResponsePlan(status=400, error={"type": "invalid_request_error", "message": f"prompt {SECRET} rejected"}))
    with pytest.raises(anthropic.BadRequestError):
        claude.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES)
    gemini = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1)))
    server.enqueue(ResponsePlan(status=400, error={"code": 400, "message": f"prompt {SECRET} rejected", "status": "INVALID_ARGUMENT"}))
    with pytest.raises(genai_errors.ClientError):
        gemini.models.generate_content(model="gemini-2.5-flash", contents=SECRET)
    bedrock = boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=server.url, aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="x", config=Config(retries={"total_max_attempts": 1}),
    )
    server.enqueue(ResponsePlan(status=400, error={"message": f"prompt {SECRET} rejected"}))
    with pytest.raises(ClientError):
        bedrock.converse(modelId="anthropic.claude-3-haiku-20240307-v1:0", messages=[{"role": "user", "content": [{"text": SECRET}]}])
    spans = telemetry.llm_spans()
    assert len(spans) == 3
    for span in spans:
        text = _error_texts(span)
        assert SECRET not in text, text
        assert "HTTP 400" in span.status.description, span.status.description
    described = sorted(s.status.description for s in spans)
    assert any("type=invalid_request_error" in d for d in described), described
    assert any("code=INVALID_ARGUMENT" in d for d in described), described


def test_numeric_user_id_never_in_clear(caplog: pytest.LogCaptureFixture) -> None:
    attribution_values.reset_warnings()
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        attribution_values.clean({"user": 4815162342}, strict=False)
    assert caplog.records and "4815162342" not in caplog.text
    with pytest.raises(attribution_values.AttributionError) as raised:
        attribution_values.clean({"user": 4815162342}, strict=True)
    assert "4815162342" not in str(raised.value)
    # Other keys still say what they got, which helps fixing them.
    with pytest.raises(attribution_values.AttributionError, match="42"):
        attribution_values.clean({"team": 42}, strict=True)


def test_mistral_cohere_and_native_anthropic_span_errors_capture_off(instrument: Any, server: ProviderServer) -> None:
    import cohere
    from mistralai.client import Mistral

    telemetry = instrument()
    mistral = Mistral(api_key="mistral-test-key", server_url=server.mistral_url)
    server.enqueue(ResponsePlan(status=400, error={"object": "error", "message": f"prompt {SECRET} rejected", "type": "invalid_request_message_order", "code": "3230"}))
    with pytest.raises(Exception) as mistral_error:
        mistral.chat.complete(model="mistral-small-2603", messages=[{"role": "user", "content": SECRET}])
    command = cohere.ClientV2(api_key="cohere-test-key", base_url=server.url, max_retries=0)
    server.enqueue(ResponsePlan(status=400, error={"message": f"prompt {SECRET} rejected"}))
    with pytest.raises(Exception) as cohere_error:
        command.chat(model="command-a-03-2025", messages=[{"role": "user", "content": SECRET}])
    # The anthropic SDK's own span (it traces when its client has a tracer provider) is the call's span.
    claude = anthropic.Anthropic(
        base_url=server.url, api_key="sk-ant-test", max_retries=0, open_telemetry={"tracer_provider": telemetry.tracer_provider}
    )
    server.enqueue(ResponsePlan(status=400, error={"type": "invalid_request_error", "message": f"prompt {SECRET} rejected"}))
    with pytest.raises(anthropic.BadRequestError):
        claude.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES)
    assert SECRET in str(mistral_error.value) and SECRET in str(cohere_error.value)  # the app still sees it all
    spans = telemetry.llm_spans()
    assert len(spans) == 3, [s.name for s in spans]
    for span in telemetry.spans():
        text = _error_texts(span) + " | " + " | ".join(str(v) for v in (span.attributes or {}).values())
        assert SECRET not in text, (span.name, text)
    described = {s.attributes["gen_ai.provider.name"]: s.status.description for s in spans}
    assert described["mistral_ai"] == "mistralai.client.errors.sdkerror.SDKError: HTTP 400, code=3230, type=invalid_request_message_order"
    assert described["cohere"] == "cohere.BadRequestError: HTTP 400"
    # The anthropic SDK sets its own span's status (ERROR, no description) last; the error type is its own.
    native = [s for s in spans if s.attributes["gen_ai.provider.name"] == "anthropic"][0]
    assert native.status.status_code.name == "ERROR" and native.attributes["error.type"]


def test_batch_create_error_capture_off(instrument: Any, server: ProviderServer) -> None:
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(ResponsePlan(status=400, error={**ECHO, "message": f"input file quotes {SECRET!r}"}))
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id="file-abc", endpoint="/v1/chat/completions", completion_window="24h")
    (span,) = [s for s in telemetry.spans() if s.name == "create_batch"]
    text = _error_texts(span)
    assert SECRET not in text and "exception.stacktrace" not in str([e.attributes for e in span.events]), text
    assert span.status.description == "openai.BadRequestError: HTTP 400, code=content_policy_violation, type=invalid_request_error"
