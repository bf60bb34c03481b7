"""The Vertex AI SDK (``vertexai.generative_models``) over REST: usage, cost, streams, errors.

Expected numbers are computed by hand from Gemini's usage semantics (``promptTokenCount``
includes cached tokens; thoughts are billed as output, outside ``candidatesTokenCount``) and the
Vertex AI list prices per 1M tokens: gemini-2.5-pro $1.25 input, $0.125 cached, $10 output;
gemini-2.5-flash $0.30 input, $2.50 output.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, List

import pytest
from google.api_core import exceptions as api_exceptions

import tokentrace
from tokentrace.testing import ResponsePlan

PRO_USAGE = {"promptTokenCount": 10000, "cachedContentTokenCount": 4000, "candidatesTokenCount": 500,
             "thoughtsTokenCount": 1500, "totalTokenCount": 12000}
# input 6,000 x 1.25 + 4,000 x 0.125 = $0.008; output (500 + 1,500) x 10 = $0.02
PRO_COST = 0.028
VERTEX_PATH = "/v1/projects/test-project/locations/us-central1/publishers/google/models/"


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


def _seen(response: Any) -> Any:
    """What the app reads, minus the per-response id and timestamp."""
    data = response.to_dict()
    data.pop("response_id", None)
    data.pop("create_time", None)
    return data


def test_generate_content_usage_cost_and_model(instrument: Any, server: Any, model_factory: Any) -> None:
    server.enqueue(ResponsePlan(usage=PRO_USAGE, text="fixed"))
    plain = _seen(model_factory("gemini-2.5-pro").generate_content("Where is my order?"))
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=PRO_USAGE, text="fixed"))
    response = model_factory("gemini-2.5-pro").generate_content(
        "Where is my order?", generation_config={"max_output_tokens": 256, "temperature": 0.3})

    assert _seen(response) == plain
    assert response.usage_metadata.prompt_token_count == 10000
    assert server.requests[-1].path == VERTEX_PATH + "gemini-2.5-pro:generateContent"
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert attrs["gen_ai.operation.name"] == "generate_content"
    assert attrs["gen_ai.request.model"] == attrs["gen_ai.response.model"] == "gemini-2.5-pro"
    assert attrs["gen_ai.request.max_tokens"] == 256
    assert attrs["gen_ai.request.temperature"] == pytest.approx(0.3)
    assert attrs["server.address"] == "127.0.0.1" and attrs["server.port"] == server.port
    assert attrs["gen_ai.response.id"] == response._raw_response.response_id
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["tokentrace.provider.finish_reasons"] == ("STOP",)
    assert attrs["gen_ai.usage.input_tokens"] == 10000
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 4000
    assert attrs["gen_ai.usage.output_tokens"] == 2000
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 1500
    assert attrs["tokentrace.cost.usd"] == pytest.approx(PRO_COST)
    assert telemetry.total("tokentrace.cost") == pytest.approx(PRO_COST)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="cache_read") == 4000


def test_model_defaults_and_generation_config_object(instrument: Any, server: Any, model_factory: Any) -> None:
    from vertexai.generative_models import GenerationConfig

    telemetry = instrument()
    model = model_factory("publishers/google/models/gemini-2.5-flash",
                          generation_config=GenerationConfig(max_output_tokens=64, top_k=5, stop_sequences=["END"]))
    server.enqueue(ResponsePlan(usage={"promptTokenCount": 1000, "candidatesTokenCount": 100, "totalTokenCount": 1100}))
    model.generate_content("hi")
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.request.model"] == "gemini-2.5-flash"
    assert attrs["gen_ai.request.max_tokens"] == 64
    assert attrs["gen_ai.request.top_k"] == 5
    assert attrs["gen_ai.request.stop_sequences"] == ("END",)
    assert "gen_ai.request.temperature" not in attrs  # unset fields are not reported as 0
    assert attrs["tokentrace.cost.usd"] == pytest.approx((1000 * 0.3 + 100 * 2.5) / 1e6)


def _chunks(stream: Any) -> List[Any]:
    return [(c.text, c.candidates[0].finish_reason, c.to_dict().get("usage_metadata")) for c in stream]


def test_stream_is_transparent_and_counted(instrument: Any, server: Any, model_factory: Any) -> None:
    plain = _chunks(model_factory().generate_content("Where is my order?", stream=True))
    telemetry = instrument()
    stream = model_factory().generate_content("Where is my order?", stream=True)
    assert telemetry.llm_spans() == []  # the request goes out on the first next()
    observed = _chunks(stream)

    assert observed == plain and len(observed) == 3
    assert server.requests[-1].path == VERTEX_PATH + "gemini-2.5-flash:streamGenerateContent"
    final = observed[-1][2]
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.usage.input_tokens"] == final["prompt_token_count"]
    assert attrs["gen_ai.usage.output_tokens"] == final["candidates_token_count"]
    assert attrs["tokentrace.provider.finish_reasons"] == ("STOP",)
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0
    expected = (final["prompt_token_count"] * 0.3 + final["candidates_token_count"] * 2.5) / 1e6
    assert attrs["tokentrace.cost.usd"] == pytest.approx(expected)


def test_stream_closed_early_ends_once(instrument: Any, server: Any, model_factory: Any) -> None:
    telemetry = instrument()
    stream = model_factory().generate_content("hi", stream=True)
    next(iter(stream))
    stream.close()
    stream.close()
    span = telemetry.only_llm_span()
    assert _attrs(span)["gen_ai.request.stream"] is True


def test_async_generate_and_stream(instrument: Any, server: Any, model_factory: Any) -> None:
    async def run() -> Any:
        model = model_factory("gemini-2.5-pro")
        server.enqueue(ResponsePlan(usage=PRO_USAGE))
        response = await model.generate_content_async("Where is my order?")
        server.enqueue(ResponsePlan(usage=PRO_USAGE, chunks=4))
        stream = await model.generate_content_async("Where is my order?", stream=True)
        texts = [chunk.text async for chunk in stream]
        await model._close_async_client()
        return response, texts

    telemetry = instrument()
    response, texts = asyncio.run(run())
    assert response.usage_metadata.total_token_count == 12000
    assert len(texts) == 4
    spans = telemetry.llm_spans()
    assert sorted(_attrs(s).get("gen_ai.request.stream", False) for s in spans) == [False, True]
    for span in spans:
        assert _attrs(span)["gen_ai.usage.output_tokens"] == 2000
        assert _attrs(span)["tokentrace.cost.usd"] == pytest.approx(PRO_COST)
    assert telemetry.total("tokentrace.cost") == pytest.approx(2 * PRO_COST)


def test_chat_session_gets_one_span_per_request(instrument: Any, server: Any, model_factory: Any) -> None:
    telemetry = instrument()
    chat = model_factory().start_chat()
    server.enqueue(ResponsePlan(usage={"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}))
    chat.send_message("Where is my order?")
    server.enqueue(ResponsePlan(usage={"promptTokenCount": 30, "candidatesTokenCount": 7, "totalTokenCount": 37}))
    chat.send_message("And the invoice?")
    assert sorted(_attrs(s)["gen_ai.usage.input_tokens"] for s in telemetry.llm_spans()) == [10, 30]
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="output") == 12


def test_count_tokens_is_not_traced(instrument: Any, server: Any, model_factory: Any) -> None:
    telemetry = instrument()
    counted = model_factory().count_tokens("Where is my order?")
    assert server.requests[-1].path == VERTEX_PATH + "gemini-2.5-flash:countTokens"
    assert counted.total_tokens > 0 and counted.total_billable_characters == len("Where is my order?")
    assert telemetry.llm_spans() == []


def _failure(call: Any) -> BaseException:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test compares what the app sees
        return exc
    raise AssertionError("expected the call to fail")


def test_error_propagates_unchanged(instrument: Any, server: Any, model_factory: Any) -> None:
    server.enqueue(ResponsePlan(status=429))
    plain = _failure(lambda: model_factory().generate_content("hi"))
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=429))
    seen = _failure(lambda: model_factory().generate_content("hi"))
    assert type(seen) is type(plain) is api_exceptions.TooManyRequests
    assert str(seen) == str(plain)
    span = telemetry.only_llm_span()
    assert span.status.status_code.name == "ERROR"
    assert _attrs(span)["error.type"].endswith("TooManyRequests")


def test_content_only_when_opted_in(instrument: Any, server: Any, model_factory: Any) -> None:
    telemetry = instrument()
    model_factory(system_instruction="Be brief.").generate_content("Where is my order?")
    attrs = _attrs(telemetry.only_llm_span())
    assert not any(key.startswith(("gen_ai.input", "gen_ai.output.messages", "gen_ai.system")) for key in attrs)

    tokentrace.uninstrument()
    telemetry.exporter.clear()
    telemetry = instrument(capture_content="SPAN_ONLY")
    model = model_factory("gemini-2.5-pro", system_instruction="Be brief.")
    server.enqueue(ResponsePlan(text="It shipped."))
    model.generate_content("Where is my order?")
    attrs = _attrs(telemetry.only_llm_span())
    assert json.loads(attrs["gen_ai.input.messages"])[0]["parts"][0]["content"] == "Where is my order?"
    assert json.loads(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(attrs["gen_ai.output.messages"])[0]["parts"][0]["content"] == "It shipped."


def test_attribution_reaches_the_span(instrument: Any, server: Any, model_factory: Any) -> None:
    telemetry = instrument()
    with tokentrace.attribute(team="support", feature="order-status"):
        model_factory().generate_content("hi")
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["tokentrace.team"] == "support" and attrs["tokentrace.feature"] == "order-status"


def test_uninstrument_restores_the_originals(instrument: Any, server: Any, model_factory: Any) -> None:
    from vertexai.generative_models import _generative_models as module

    originals = {name: vars(module._GenerativeModel)[name] for name in ("_generate_content", "_generate_content_streaming")}
    telemetry = instrument()
    assert all(vars(module._GenerativeModel)[name] is not fn for name, fn in originals.items())
    tokentrace.uninstrument()
    assert all(vars(module._GenerativeModel)[name] is fn for name, fn in originals.items())
    model_factory().generate_content("hi")
    assert telemetry.llm_spans() == []


def test_imported_after_instrument_is_patched() -> None:
    import os
    import subprocess
    import sys

    code = (
        "import sys, tokentrace; tokentrace.instrument(); assert 'vertexai' not in sys.modules\n"
        "from vertexai.generative_models import _generative_models as m\n"
        "print(type(vars(m._GenerativeModel)['_generate_content']).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "_TokentraceFunctionWrapper"


def test_error_echoing_the_prompt_stays_off_the_span_without_capture(instrument: Any, server: Any, model_factory: Any) -> None:
    secret = "my secret prompt about the merger"
    error = {"code": 400, "message": f"Invalid prompt: {secret!r} contains disallowed content", "status": "INVALID_ARGUMENT"}
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=400, error=error))
    seen = _failure(lambda: model_factory().generate_content(secret))
    assert secret in str(seen)  # the app still gets the provider's whole message
    span = telemetry.only_llm_span()
    texts = [span.status.description or ""] + [str(v) for e in span.events for v in (e.attributes or {}).values()]
    assert secret not in " | ".join(texts) and "disallowed" not in " | ".join(texts), texts
    assert span.status.description.startswith(_attrs(span)["error.type"] + ": HTTP 400"), span.status.description
    telemetry = instrument(capture_content="SPAN_ONLY")
    server.enqueue(ResponsePlan(status=400, error=error))
    _failure(lambda: model_factory().generate_content(secret))
    assert secret in telemetry.llm_spans()[-1].status.description
