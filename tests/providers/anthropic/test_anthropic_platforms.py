"""AnthropicBedrock and AnthropicVertex: the same adapter, their own provider name and paths."""

from __future__ import annotations

import asyncio

import anthropic
import pytest

from tokentrace.testing import ResponsePlan

from .conftest import CACHED_INPUT_TOTAL, CACHED_USAGE, MESSAGES

BEDROCK_MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"
VERTEX_MODEL = "claude-haiku-4-5@20251001"


@pytest.fixture
def bedrock(server):
    return anthropic.AnthropicBedrock(
        aws_access_key="AKIAIOSFODNN7EXAMPLE",
        aws_secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        aws_region="us-east-1",
        base_url=server.url,
        max_retries=0,
    )


@pytest.fixture
def vertex(server):
    return anthropic.AnthropicVertex(
        region="us-east5", project_id="acme-prod", access_token="ya29.test-token", base_url=server.url + "/v1", max_retries=0
    )


def test_bedrock_create(instrument, server, bedrock):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    message = bedrock.messages.create(model=BEDROCK_MODEL, max_tokens=1024, messages=MESSAGES)
    assert server.requests[-1].path == f"/model/{BEDROCK_MODEL}/invoke"
    span = telemetry.only_llm_span()
    a = span.attributes
    assert a["gen_ai.provider.name"] == "aws.bedrock"
    assert a["gen_ai.request.model"] == BEDROCK_MODEL
    assert a["gen_ai.response.model"] == message.model
    assert a["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert a["gen_ai.usage.cache_read.input_tokens"] == 40000
    assert a["gen_ai.usage.output_tokens"] == 800
    # Bedrock's regional rates are the catalog's business; the call must be priced, not silently 0.
    assert a["tokentrace.cost.status"] == "priced" and a["tokentrace.cost.usd"] > 0
    assert "AKIA" not in str(dict(a)) and "wJalr" not in str(dict(a))


def test_bedrock_stream(instrument, server, bedrock):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    with bedrock.messages.stream(model=BEDROCK_MODEL, max_tokens=1024, messages=MESSAGES) as stream:
        final = stream.get_final_message()
    assert server.requests[-1].path == f"/model/{BEDROCK_MODEL}/invoke-with-response-stream"
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.provider.name"] == "aws.bedrock"
    assert a["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert a["gen_ai.usage.output_tokens"] == final.usage.output_tokens == 800


def test_vertex_create_and_stream(instrument, server, vertex):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE), ResponsePlan(usage=CACHED_USAGE))
    vertex.messages.create(model=VERTEX_MODEL, max_tokens=1024, messages=MESSAGES)
    base = f"/v1/projects/acme-prod/locations/us-east5/publishers/anthropic/models/{VERTEX_MODEL}"
    assert server.requests[-1].path.replace("%40", "@") == base + ":rawPredict"
    events = list(vertex.messages.create(model=VERTEX_MODEL, max_tokens=1024, messages=MESSAGES, stream=True))
    assert server.requests[-1].path.replace("%40", "@") == base + ":streamRawPredict"
    assert events[-1].type == "message_stop"
    spans = telemetry.llm_spans()
    assert len(spans) == 2
    for span in spans:
        a = span.attributes
        assert a["gen_ai.provider.name"] == "gcp.vertex_ai"
        assert a["gen_ai.request.model"] == VERTEX_MODEL
        assert a["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
        assert a["gen_ai.usage.output_tokens"] == 800
        assert a["tokentrace.cost.status"] == "priced" and a["tokentrace.cost.usd"] > 0
        assert "ya29" not in str(dict(a))


def test_vertex_async(instrument, server):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))

    async def main():
        client = anthropic.AsyncAnthropicVertex(
            region="us-east5", project_id="acme-prod", access_token="ya29.test-token", base_url=server.url + "/v1", max_retries=0
        )
        return await client.messages.create(model=VERTEX_MODEL, max_tokens=1024, messages=MESSAGES)

    asyncio.run(main())
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert a["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL


def test_vertex_error(instrument, server, vertex):
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=429))
    with pytest.raises(anthropic.RateLimitError):
        vertex.messages.create(model=VERTEX_MODEL, max_tokens=1024, messages=MESSAGES)
    assert telemetry.only_llm_span().attributes["error.type"] == "anthropic.RateLimitError"
