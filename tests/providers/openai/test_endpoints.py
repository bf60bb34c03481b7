"""Responses API, embeddings, legacy completions, raw responses, Azure and compatible hosts."""

from __future__ import annotations

import asyncio

import openai
import pytest

from tokentrace.providers.openai.endpoints import provider_for
from tokentrace.testing import ResponsePlan


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


RESPONSES_USAGE = {
    "input_tokens": 3000,
    "input_tokens_details": {"cached_tokens": 2048},
    "output_tokens": 500,
    "output_tokens_details": {"reasoning_tokens": 320},
    "total_tokens": 3500,
}


def test_responses_create(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=RESPONSES_USAGE))
    response = client.responses.create(model="gpt-5", input="Plan the migration", reasoning={"effort": "high"}, max_output_tokens=900)
    span = telemetry.only_llm_span()
    a = span.attributes
    assert span.name == "chat gpt-5"
    assert a["openai.api.type"] == "responses"
    assert a["gen_ai.request.reasoning.level"] == "high"
    assert a["gen_ai.request.max_tokens"] == 900
    assert a["gen_ai.response.id"] == response.id
    assert a["gen_ai.response.model"] == "gpt-5-2025-08-07"
    assert a["gen_ai.usage.input_tokens"] == 3000
    assert a["gen_ai.usage.cache_read.input_tokens"] == 2048
    assert a["gen_ai.usage.reasoning.output_tokens"] == 320
    # gpt-5: $1.25 input, $0.125 cached, $10 output (reasoning is part of output, billed once).
    assert a["tokentrace.cost.usd"] == pytest.approx((952 * 1.25 + 2048 * 0.125 + 500 * 10) / 1e6, abs=1e-12)
    assert tuple(a["gen_ai.response.finish_reasons"]) == ("stop",)


def test_responses_streaming_and_stream_helper(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=RESPONSES_USAGE), ResponsePlan(usage=RESPONSES_USAGE))
    events = list(client.responses.create(model="gpt-5", input="hi", stream=True))
    assert events[-1].type == "response.completed"
    with client.responses.stream(model="gpt-5", input="hi") as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert final.usage.input_tokens == 3000
    spans = telemetry.llm_spans()
    assert len(spans) == 2
    for span in spans:
        assert span.attributes["gen_ai.usage.output_tokens"] == 500
        assert span.attributes["gen_ai.request.stream"] is True
        assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    # The Responses API reports usage in response.completed; nothing is injected.
    assert "stream_options" not in server.requests[-1].json


def test_embeddings(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 1500, "total_tokens": 1500}))
    result = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"], dimensions=16)
    span = telemetry.only_llm_span()
    a = span.attributes
    assert span.name == "embeddings text-embedding-3-small"
    assert a["gen_ai.operation.name"] == "embeddings"
    assert a["gen_ai.usage.input_tokens"] == 1500
    assert "gen_ai.usage.output_tokens" not in a  # an embedding has no output tokens
    assert a["gen_ai.embeddings.dimension.count"] == len(result.data[0].embedding) == 16
    assert a["tokentrace.cost.usd"] == pytest.approx(1500 * 0.02 / 1e6, abs=1e-15)


def test_legacy_completions_plain_and_streaming(instrument, server, client):
    telemetry = instrument()
    usage = {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52}
    server.enqueue(ResponsePlan(usage=usage), ResponsePlan(usage=usage))
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon", max_tokens=12)
    chunks = list(client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon", stream=True))
    assert all(c.choices for c in chunks)  # the injected usage chunk stays hidden
    spans = telemetry.llm_spans()
    assert [s.attributes["gen_ai.operation.name"] for s in spans] == ["text_completion", "text_completion"]
    assert all(s.attributes["gen_ai.usage.input_tokens"] == 40 for s in spans)
    assert tuple(spans[0].attributes["gen_ai.response.finish_reasons"]) == ("length",)


def test_with_raw_response_and_with_streaming_response(instrument, server, client):
    telemetry = instrument()
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert raw.headers["x-request-id"].startswith("req_")
    completion = raw.parse()
    assert raw.parse() is completion
    with client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}]) as response:
        streamed = response.parse()
    raw_stream = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True)
    chunks = list(raw_stream.parse())
    assert all(c.choices for c in chunks)
    spans = telemetry.llm_spans()
    assert len(spans) == 3
    assert spans[0].attributes["gen_ai.response.id"] == completion.id
    assert spans[1].attributes["gen_ai.response.id"] == streamed.id
    assert all(s.attributes["gen_ai.usage.input_tokens"] > 0 for s in spans)


def test_async_raw_and_streaming_response(instrument, server):
    telemetry = instrument()

    async def main():
        client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
        raw = await client.chat.completions.with_raw_response.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
        raw.parse()
        async with client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}]) as response:
            await response.parse()
        embeddings = await client.embeddings.create(model="text-embedding-3-small", input="x")
        return embeddings

    asyncio.run(main())
    spans = telemetry.llm_spans()
    assert [s.attributes["gen_ai.operation.name"] for s in spans] == ["chat", "chat", "embeddings"]


def test_azure_openai_provider_and_deployment_mapping(instrument, server):
    telemetry = instrument(azure_deployments={"finance-gpt4o": "gpt-4o"})
    client = openai.AzureOpenAI(azure_endpoint=server.url, api_key="azure-key", api_version="2024-10-21", max_retries=0)
    server.enqueue(ResponsePlan(model="gpt-4o-2024-08-06", usage={"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}))
    client.chat.completions.create(model="finance-gpt4o", messages=[{"role": "user", "content": "x"}])
    assert server.requests[-1].path == "/openai/deployments/finance-gpt4o/chat/completions"
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.provider.name"] == "azure.ai.openai"
    assert a["gen_ai.request.model"] == "finance-gpt4o"
    assert a["server.address"] == "127.0.0.1"
    assert a["tokentrace.model.rerouted"] is False
    assert a["tokentrace.model.match"] == "same"


def test_unmapped_azure_deployment_is_unknown_not_a_reroute(instrument, server):
    telemetry = instrument()
    client = openai.AzureOpenAI(azure_endpoint=server.url, api_key="azure-key", api_version="2024-10-21", max_retries=0)
    server.enqueue(ResponsePlan(model="gpt-4o-2024-08-06"))
    client.chat.completions.create(model="finance-prod", messages=[{"role": "user", "content": "x"}])
    a = telemetry.only_llm_span().attributes
    assert "tokentrace.model.rerouted" not in a
    assert a["tokentrace.model.match"] == "unknown"


@pytest.mark.parametrize(
    "requested, answered, match",
    [
        ("gpt-4-vision-preview", "gpt-4-1106-vision-preview", "same"),
        ("davinci-002", "davinci:2023-07-21-v2", "same"),
        ("gpt-5", "gpt-5-mini-2025-08-07", "rerouted"),
    ],
)
def test_reroute_signal_from_the_catalogs_model_identity(instrument, server, requested, answered, match):
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(ResponsePlan(model=answered))
    client.chat.completions.create(model=requested, messages=[{"role": "user", "content": "x"}])
    a = telemetry.only_llm_span().attributes
    assert a["tokentrace.model.match"] == match
    assert a["tokentrace.model.rerouted"] is (match == "rerouted")


@pytest.mark.parametrize(
    "host, port, expected",
    [
        ("api.openai.com", 443, "openai"),
        ("my-resource.openai.azure.com", 443, "azure.ai.openai"),
        ("openrouter.ai", 443, "openrouter"),
        ("api.groq.com", 443, "groq"),
        ("api.deepseek.com", 443, "deepseek"),
        ("api.x.ai", 443, "x_ai"),
        ("api.together.xyz", 443, "together_ai"),
        ("localhost", 11434, "ollama"),
        ("127.0.0.1", 8000, "vllm"),
    ],
)
def test_provider_name_for_compatible_hosts(host, port, expected):
    assert provider_for(host, port, False) == expected


def test_compatible_host_span_carries_its_server_address(instrument, server):
    telemetry = instrument()
    client = openai.OpenAI(base_url=f"http://localhost:{server.port}/api/v1", api_key="sk-or-test", max_retries=0)
    client.chat.completions.create(model="anthropic/claude-sonnet-4.5", messages=[{"role": "user", "content": "x"}])
    a = telemetry.only_llm_span().attributes
    assert a["server.address"] == "localhost"
    assert a["server.port"] == server.port


def test_other_endpoints_are_not_traced(instrument, server, client):
    telemetry = instrument()
    assert [m.id for m in client.models.list()][:1] == ["gpt-4o-mini"]
    with pytest.raises(openai.NotFoundError):
        client.files.list()
    assert telemetry.llm_spans() == []
