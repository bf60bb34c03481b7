"""InvokeModel bodies beyond the five families, and the billing truth Bedrock states itself.

Bodies follow each model's Bedrock reference: Amazon Titan Text (``results[].tokenCount``,
``completionReason``), AI21 Jurassic-2 (``completions[].finishReason.reason``), Anthropic text
completions (Claude v2: ``completion``, ``stop_reason``), Cohere Command
(``generations[].finish_reason``; streamed ``is_finished``), and imported models answering in the
OpenAI shape. Where a body has no usage, or disagrees with what Bedrock bills, the
``X-Amzn-Bedrock-*-Token-Count`` headers and ``amazon-bedrock-invocationMetrics`` win.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tokentrace.testing import ResponsePlan

TITAN = "amazon.titan-text-express-v1"
AI21 = "ai21.j2-ultra-v1"
CLAUDE_V2 = "anthropic.claude-v2:1"
COHERE = "cohere.command-text-v14"
IMPORTED = "arn:aws:bedrock:us-east-1:123456789012:imported-model/abcd1234efgh"
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"

CASES = [
    # model, request body, usage as the wire states it, (input, output), raw reason, normalized
    (TITAN, {"inputText": "Summarise the invoice dispute.", "textGenerationConfig": {"maxTokenCount": 256, "temperature": 0.3, "topP": 0.9}},
     {"inputTextTokenCount": 9, "tokenCount": 41}, (9, 41), "FINISH", "stop"),
    (AI21, {"prompt": "Summarise the invoice dispute.", "maxTokens": 200, "temperature": 0.7},
     {"inputTokenCount": 8, "outputTokenCount": 37}, (8, 37), "endoftext", "stop"),
    (CLAUDE_V2, {"prompt": "\n\nHuman: Summarise the invoice dispute.\n\nAssistant:", "max_tokens_to_sample": 300},
     {"inputTokenCount": 19, "outputTokenCount": 44}, (19, 44), "stop_sequence", "stop"),
    (COHERE, {"prompt": "Summarise the invoice dispute.", "max_tokens": 200, "p": 0.75, "k": 40},
     {"inputTokenCount": 7, "outputTokenCount": 33}, (7, 33), "COMPLETE", "stop"),
    (IMPORTED, {"messages": [{"role": "user", "content": "Summarise the invoice dispute."}], "max_tokens": 128},
     {"prompt_tokens": 12, "completion_tokens": 29, "total_tokens": 41}, (12, 29), "stop", "stop"),
]


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


@pytest.mark.parametrize("model_id, body, usage, counts, raw, reason", CASES, ids=["titan", "ai21", "claude-v2", "cohere", "imported"])
def test_invoke_model_older_families(instrument, server, bedrock, model_id, body, usage, counts, raw, reason):
    server.enqueue(ResponsePlan(usage=usage))
    plain = json.loads(bedrock.invoke_model(modelId=model_id, body=json.dumps(body))["body"].read())
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage))
    observed = json.loads(bedrock.invoke_model(modelId=model_id, body=json.dumps(body))["body"].read())
    for volatile in ("id", "created"):
        plain.pop(volatile, None), observed.pop(volatile, None)
    if model_id == COHERE:
        plain["generations"][0].pop("id"), observed["generations"][0].pop("id")
    assert observed == plain
    a = _attrs(telemetry.only_llm_span())
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == counts
    assert a["gen_ai.response.finish_reasons"] == (reason,)
    assert a["tokentrace.provider.finish_reasons"] == (raw,)
    assert a["tokentrace.usage.source"] == "provider"


@pytest.mark.parametrize("model_id, body, usage, counts, raw, reason", [c for c in CASES if c[0] != AI21], ids=["titan", "claude-v2", "cohere", "imported"])
def test_invoke_stream_older_families(instrument, server, bedrock, model_id, body, usage, counts, raw, reason):
    server.enqueue(ResponsePlan(usage=usage))
    plain = list(bedrock.invoke_model_with_response_stream(modelId=model_id, body=json.dumps(body))["body"])
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage))
    observed = list(bedrock.invoke_model_with_response_stream(modelId=model_id, body=json.dumps(body))["body"])
    assert len(observed) == len(plain)
    a = _attrs(telemetry.only_llm_span())
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == counts  # invocation metrics
    assert a["gen_ai.response.finish_reasons"] == (reason,)
    assert a["gen_ai.response.time_to_first_chunk"] > 0


def test_titan_request_parameters(instrument, server, bedrock):
    telemetry = instrument()
    bedrock.invoke_model(modelId=TITAN, body=json.dumps(CASES[0][1]))
    a = _attrs(telemetry.only_llm_span())
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.request.max_tokens"] == 256
    assert a["gen_ai.request.top_p"] == pytest.approx(0.9)


def test_cohere_top_k_is_an_integer(instrument, server, bedrock):
    telemetry = instrument()
    bedrock.invoke_model(modelId=COHERE, body=json.dumps(CASES[3][1]))
    top_k = _attrs(telemetry.only_llm_span())["gen_ai.request.top_k"]
    assert top_k == 40 and isinstance(top_k, int)


def test_claude_stream_counts_what_bedrock_bills(instrument, server, bedrock):
    """message_delta says 130 output tokens, the invocation metrics (the bill) say 98."""
    telemetry = instrument()
    usage = {"input_tokens": 250, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 130}
    metrics = {"inputTokenCount": 250, "outputTokenCount": 98, "invocationLatency": 900, "firstByteLatency": 210,
               "cacheReadInputTokenCount": 0, "cacheWriteInputTokenCount": 0}
    server.enqueue(ResponsePlan(usage=usage, extra={"amazon-bedrock-invocationMetrics": metrics}))
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256, "messages": [{"role": "user", "content": "hi"}]}
    list(bedrock.invoke_model_with_response_stream(modelId=SONNET, body=json.dumps(body))["body"])
    a = _attrs(telemetry.only_llm_span())
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (250, 98)


def test_invoke_headers_win_over_a_body_that_disagrees(instrument, server, bedrock):
    telemetry = instrument()
    usage = {"input_tokens": 250, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1000, "output_tokens": 130}
    server.enqueue(ResponsePlan(usage=usage, headers={"X-Amzn-Bedrock-Output-Token-Count": "98"}))
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256, "messages": [{"role": "user", "content": "hi"}]}
    bedrock.invoke_model(modelId=SONNET, body=json.dumps(body))
    a = _attrs(telemetry.only_llm_span())
    assert a["gen_ai.usage.output_tokens"] == 98
    assert a["gen_ai.usage.input_tokens"] == 1250  # 250 plain + 1000 cache reads (from the body)
    assert a["gen_ai.usage.cache_read.input_tokens"] == 1000
