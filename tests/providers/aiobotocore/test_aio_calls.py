"""Bedrock Runtime through real aiobotocore: usage, cost, streams, InvokeModel bodies, errors.

Expected numbers are computed by hand from Bedrock's usage semantics (``inputTokens`` exclude
cache reads and writes) and the list prices per 1M tokens (Claude Sonnet 4.5 on a regional
``us.`` profile costs 10% more: $3.30 input, $0.33 cache read, $4.125 cache write, $16.50 output;
Llama 3.3 70B $0.72 in and out).
"""

from __future__ import annotations

import gc
import json
from typing import Any, List

import aiobotocore.client
import pytest
from botocore.exceptions import ClientError, EventStreamError

import tokentrace
from tokentrace.testing import ResponsePlan

from .conftest import run

SONNET_US = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
LLAMA = "meta.llama3-3-70b-instruct-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Was the invoice late?"}]}]
ANTHROPIC_BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 512, "messages": [{"role": "user", "content": "Was it late?"}]}


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


async def _events(stream: Any) -> List[Any]:
    return [event async for event in stream]


def test_converse_usage_cost_and_model(instrument: Any, server: Any) -> None:
    usage = {"inputTokens": 100, "outputTokens": 20, "totalTokens": 1120, "cacheReadInputTokens": 800, "cacheWriteInputTokens": 200}

    async def converse(client: Any) -> Any:
        return await client.converse(modelId=SONNET_US, messages=MESSAGES, inferenceConfig={"maxTokens": 256, "temperature": 0.2})

    server.enqueue(ResponsePlan(usage=usage, text="fixed"))
    plain = run(converse, server)
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage, text="fixed"))
    response = run(converse, server)

    assert response["usage"] == usage
    assert {k: v for k, v in response.items() if k != "ResponseMetadata"} == {k: v for k, v in plain.items() if k != "ResponseMetadata"}
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "aws.bedrock"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == attrs["gen_ai.response.model"] == SONNET_US
    assert attrs["gen_ai.request.max_tokens"] == 256
    assert attrs["gen_ai.request.temperature"] == pytest.approx(0.2)
    assert attrs["server.address"] == "127.0.0.1" and attrs["server.port"] == server.port
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.usage.input_tokens"] == 1100  # 100 uncached + 800 read + 200 written
    assert attrs["gen_ai.usage.output_tokens"] == 20
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 800
    assert attrs["gen_ai.usage.cache_write.input_tokens"] == 200
    # 1.1 x (100*3 + 800*0.3 + 200*3.75 + 20*15) / 1e6
    assert attrs["tokentrace.cost.usd"] == pytest.approx(0.001749)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="cache_read") == 800
    assert telemetry.total("tokentrace.cost") == pytest.approx(0.001749)


def test_converse_stream_is_transparent_and_counted(instrument: Any, server: Any) -> None:
    usage = {"inputTokens": 120, "outputTokens": 30, "totalTokens": 150}

    async def stream(client: Any) -> Any:
        response = await client.converse_stream(modelId=SONNET_US, messages=MESSAGES)
        return await _events(response["stream"])

    server.enqueue(ResponsePlan(usage=usage))
    plain = run(stream, server)
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage))
    observed = run(stream, server)

    assert observed == plain and "metadata" in observed[-1]
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.usage.input_tokens"] == 120
    assert attrs["gen_ai.usage.output_tokens"] == 30
    assert attrs["tokentrace.provider.finish_reasons"] == ("end_turn",)
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0
    assert attrs["tokentrace.cost.usd"] == pytest.approx(1.1 * (120 * 3 + 30 * 15) / 1e6)


def test_stream_span_stays_open_until_the_stream_ends(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def stream(client: Any) -> Any:
        response = await client.converse_stream(modelId=SONNET_US, messages=MESSAGES)
        open_before = len(telemetry.llm_spans())
        async for event in response["stream"]:
            if "contentBlockDelta" in event:
                break  # an AioEventStream may be resumed by another loop
        open_after_break = len(telemetry.llm_spans())
        rest = await _events(response["stream"])
        return open_before, open_after_break, rest

    before, after_break, rest = run(stream, server)
    assert (before, after_break) == (0, 0)
    assert "metadata" in rest[-1]
    assert _attrs(telemetry.only_llm_span())["gen_ai.usage.output_tokens"] > 0


def test_stream_closed_early_ends_once_without_usage(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def stream(client: Any) -> Any:
        response = await client.converse_stream(modelId=SONNET_US, messages=MESSAGES)
        async for event in response["stream"]:
            first = event
            break
        response["stream"].close()
        response["stream"].close()
        return first

    assert "messageStart" in run(stream, server)
    gc.collect()
    assert _attrs(telemetry.only_llm_span())["tokentrace.cost.status"] == "no_usage"


def test_invoke_model_body_is_the_same_bytes_and_headers_bill(instrument: Any, server: Any) -> None:
    usage = {"input_tokens": 50, "cache_read_input_tokens": 100000, "cache_creation_input_tokens": 2000,
             "cache_creation": {"ephemeral_5m_input_tokens": 1500, "ephemeral_1h_input_tokens": 500}, "output_tokens": 1000}

    async def invoke(client: Any) -> Any:
        response = await client.invoke_model(modelId=SONNET_US, body=json.dumps(ANTHROPIC_BODY).encode())
        head = await response["body"].read(5)
        rest = await response["body"].read()
        return head + rest

    server.enqueue(ResponsePlan(usage=usage, text="fixed"))
    plain = json.loads(run(invoke, server))
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=usage, text="fixed"))
    observed = json.loads(run(invoke, server))

    assert {k: v for k, v in observed.items() if k != "id"} == {k: v for k, v in plain.items() if k != "id"}
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.request.max_tokens"] == 512
    assert attrs["gen_ai.usage.input_tokens"] == 102050
    assert attrs["gen_ai.usage.output_tokens"] == 1000
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 100000
    assert attrs["gen_ai.usage.cache_write.input_tokens"] == 2000
    assert attrs["gen_ai.response.id"] == observed["id"]
    assert attrs["tokentrace.cost.usd"] == pytest.approx(1.1 * (50 * 3 + 100000 * 0.3 + 1500 * 3.75 + 500 * 6 + 1000 * 15) / 1e6)


def test_invoke_model_body_reads_as_async_context_and_chunks(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def invoke(client: Any) -> Any:
        body = json.dumps({"prompt": "Was it late?", "max_gen_len": 64})
        first = await client.invoke_model(modelId=LLAMA, body=body)
        async with first["body"] as stream:
            whole = await stream.read()
        second = await client.invoke_model(modelId=LLAMA, body=body)
        chunks = [chunk async for chunk in second["body"].iter_chunks(16)]
        return whole, chunks

    whole, chunks = run(invoke, server)
    assert json.loads(whole)["generation"] == json.loads(b"".join(chunks))["generation"]
    assert len(chunks) > 1
    assert len(telemetry.llm_spans()) == 2


def test_malformed_invoke_body_reaches_app_untouched(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(body=b"\x00not json{", usage={"inputTokenCount": 7, "outputTokenCount": 3}))

    async def invoke(client: Any) -> Any:
        response = await client.invoke_model(modelId="mistral.mistral-large-2402-v1:0", body=b"{}")
        return await response["body"].read()

    assert run(invoke, server) == b"\x00not json{"
    attrs = _attrs(telemetry.only_llm_span())
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (7, 3)


def test_invoke_stream_uses_the_invocation_metrics(instrument: Any, server: Any) -> None:
    body = json.dumps({"prompt": "<|begin_of_text|>Was it late?", "max_gen_len": 512})

    async def stream(client: Any) -> Any:
        response = await client.invoke_model_with_response_stream(modelId=LLAMA, body=body)
        return await _events(response["body"])

    server.enqueue(ResponsePlan(usage={"prompt_token_count": 1000, "generation_token_count": 250}, text="fixed"))
    plain = run(stream, server)
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"prompt_token_count": 1000, "generation_token_count": 250}, text="fixed"))
    observed = run(stream, server)
    assert observed == plain and all("chunk" in event for event in observed)
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.request.stream"] is True
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (1000, 250)
    assert attrs["tokentrace.cost.usd"] == pytest.approx(1250 * 0.72 / 1e6)


def _failure(work: Any, server: Any) -> BaseException:
    try:
        run(work, server)
    except Exception as exc:  # noqa: BLE001 - the test compares what the app sees
        return exc
    raise AssertionError("expected the call to fail")


def test_error_propagates_unchanged(instrument: Any, server: Any) -> None:
    async def converse(client: Any) -> Any:
        return await client.converse(modelId=SONNET_US, messages=MESSAGES)

    server.enqueue(ResponsePlan(status=429))
    plain = _failure(converse, server)
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=429))
    seen = _failure(converse, server)

    # Each client builds its own exception classes: same name, same error, same message.
    assert type(seen).__name__ == type(plain).__name__ == "ThrottlingException"
    assert isinstance(seen, ClientError) and seen.response["Error"] == plain.response["Error"]
    assert str(seen) == str(plain)
    span = telemetry.only_llm_span()
    assert span.status.status_code.name == "ERROR"
    assert _attrs(span)["error.type"].endswith("ThrottlingException")


def test_mid_stream_error_propagates_and_ends_the_span(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(error={"exception": "throttlingException", "message": "Too many tokens, please wait."}))
    seen: List[Any] = []

    async def stream(client: Any) -> Any:
        response = await client.converse_stream(modelId=SONNET_US, messages=MESSAGES)
        async for event in response["stream"]:
            seen.append(event)

    error = _failure(stream, server)
    assert isinstance(error, EventStreamError) and error.response["Error"]["Code"] == "throttlingException"
    assert len(seen) == 2
    assert telemetry.only_llm_span().status.status_code.name == "ERROR"


def test_attribution_and_no_credentials(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def converse(client: Any) -> Any:
        with tokentrace.attribute(team="payments", feature="invoice-check"):
            return await client.converse(modelId=SONNET_US, messages=MESSAGES)

    run(converse, server)
    assert "authorization" in server.requests[-1].headers  # aiobotocore really signed it
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["tokentrace.team"] == "payments" and attrs["tokentrace.feature"] == "invoice-check"
    text = json.dumps({k: str(v) for k, v in attrs.items()})
    assert "AKIAIOSFODNN7EXAMPLE" not in text and "Signature" not in text


def test_other_operations_pass_through_once(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def guardrail(client: Any) -> Any:
        return await client.apply_guardrail(guardrailIdentifier="gr-1", guardrailVersion="1", source="INPUT",
                                            content=[{"text": {"text": "hi"}}])

    assert isinstance(_failure(guardrail, server), ClientError)
    assert len(server.requests) == 1
    assert telemetry.llm_spans() == []


def test_sync_and_async_clients_each_counted_once(instrument: Any, server: Any) -> None:
    import boto3
    from botocore.config import Config

    telemetry = instrument()
    sync = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=server.url, aws_access_key_id="AKIATEST",
                        aws_secret_access_key="secret", config=Config(retries={"total_max_attempts": 1}))
    server.enqueue(ResponsePlan(usage={"inputTokens": 10, "outputTokens": 5, "totalTokens": 15}))
    sync.converse(modelId=SONNET_US, messages=MESSAGES)
    server.enqueue(ResponsePlan(usage={"inputTokens": 20, "outputTokens": 7, "totalTokens": 27}))
    run(lambda client: client.converse(modelId=SONNET_US, messages=MESSAGES), server)
    spans = telemetry.llm_spans()
    assert sorted(_attrs(s)["gen_ai.usage.input_tokens"] for s in spans) == [10, 20]
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == 30


def test_uninstrument_restores_the_original(instrument: Any, server: Any) -> None:
    original = aiobotocore.client.AioBaseClient.__dict__["_make_api_call"]
    telemetry = instrument()
    assert aiobotocore.client.AioBaseClient.__dict__["_make_api_call"] is not original
    tokentrace.uninstrument()
    assert aiobotocore.client.AioBaseClient.__dict__["_make_api_call"] is original
    run(lambda client: client.converse(modelId=SONNET_US, messages=MESSAGES), server)
    assert telemetry.llm_spans() == []


def test_imported_after_instrument_is_patched() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tokentrace; tokentrace.instrument(); assert 'aiobotocore' not in sys.modules\n"
        "import aiobotocore.session, aiobotocore.client\n"
        "print(type(vars(aiobotocore.client.AioBaseClient)['_make_api_call']).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "_TokentraceFunctionWrapper"


def test_no_attribution_baggage_reaches_bedrock_over_aiohttp(instrument: Any, server: Any, aiohttp_injector: List[str]) -> None:
    """An aiohttp-level injector (what the aiohttp client instrumentation does, after SigV4 signing)
    with local attribution and inbound baggage: the provider gets the foreign member only."""
    from opentelemetry import baggage, context

    instrument()
    inbound = context.get_current()
    for key, value in (("tokentrace.user", "bob%40example.com"), ("tokentrace.team", "evil"), ("session", "s-1")):
        inbound = baggage.set_baggage(key, value, inbound)
    token = context.attach(inbound)
    try:
        async def work(client: Any) -> None:
            with tokentrace.attribute(team="payments"):
                await client.converse(modelId=SONNET_US, messages=MESSAGES)
                try:  # an operation tokentrace does not trace: only the wire guard cleans it
                    await client.apply_guardrail(guardrailIdentifier="g-1", guardrailVersion="1", source="INPUT", content=[])
                except ClientError:
                    pass  # whatever the local server answers, the request was sent

        run(work, server)
    finally:
        context.detach(token)
    assert any("tokentrace.team=payments" in value for value in aiohttp_injector), aiohttp_injector
    assert [r.headers.get("baggage") for r in server.requests] == ["session=s-1", "session=s-1"]
