"""google-genai through the real SDK: Gemini API and Vertex AI, sync, async, streams, embeddings.

Expected numbers are hand-computed from Gemini's usage semantics (prompt includes cached
content; thoughts are billed as output and are not inside candidates; tool-use prompt tokens
are input) and list prices per 1M tokens: gemini-2.5-pro 1.25 / cached 0.125 / output 10,
gemini-2.5-flash 0.3 / 0.03 / 2.5.
"""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any, List

import pytest
from google.genai import _api_client, errors, models

import tokentrace
from tokentrace.testing import ResponsePlan

from .conftest import API_KEY, TOKEN

PRO_USAGE = {"promptTokenCount": 10000, "cachedContentTokenCount": 4000, "candidatesTokenCount": 500,
             "thoughtsTokenCount": 1500, "totalTokenCount": 12000}
# input 6,000 x 1.25 + 4,000 x 0.125 = $0.008; output (500 + 1,500) x 10 = $0.02
PRO_COST = 0.028


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


def _check_pro(attrs: dict) -> None:
    assert attrs["gen_ai.usage.input_tokens"] == 10000
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 4000
    assert attrs["gen_ai.usage.output_tokens"] == 2000
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 1500
    assert attrs["tokentrace.cost.usd"] == pytest.approx(PRO_COST)


def test_generate_content_gemini_api(instrument: Any, server: Any, gemini: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=PRO_USAGE))
    response = gemini.models.generate_content(
        model="models/gemini-2.5-pro", contents="Where is my order?", config={"temperature": 0.3, "max_output_tokens": 800}
    )
    assert response.usage_metadata.thoughts_token_count == 1500  # the app's object is the SDK's own
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "gcp.gemini"
    assert attrs["gen_ai.operation.name"] == "generate_content"
    assert attrs["gen_ai.request.model"] == "gemini-2.5-pro"
    assert attrs["gen_ai.response.model"] == "gemini-2.5-pro"
    assert attrs["gen_ai.response.id"] == response.response_id
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["tokentrace.provider.finish_reasons"] == ("STOP",)
    assert attrs["gen_ai.request.temperature"] == pytest.approx(0.3)
    assert attrs["gen_ai.request.max_tokens"] == 800
    assert attrs["server.address"] == "127.0.0.1" and attrs["server.port"] == server.port
    _check_pro(attrs)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="reasoning") == 1500


def test_thoughts_already_inside_candidates_are_not_double_counted(instrument: Any, server: Any, gemini: Any) -> None:
    telemetry = instrument()
    # Older responses: prompt + candidates == total although thoughts are reported.
    server.enqueue(ResponsePlan(usage={"promptTokenCount": 1000, "candidatesTokenCount": 700, "thoughtsTokenCount": 400,
                                       "totalTokenCount": 1700}))
    gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.output_tokens"] == 700
    assert attrs["tokentrace.cost.usd"] == pytest.approx((1000 * 0.3 + 700 * 2.5) / 1e6)


def test_tool_use_prompt_tokens_are_input(instrument: Any, server: Any, gemini: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"promptTokenCount": 800, "toolUsePromptTokenCount": 200, "candidatesTokenCount": 100,
                                       "totalTokenCount": 1100}))
    gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.input_tokens"] == 1000
    assert attrs["tokentrace.cost.usd"] == pytest.approx((1000 * 0.3 + 100 * 2.5) / 1e6)


def test_vertex_ai(instrument: Any, server: Any, vertex: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=PRO_USAGE))
    vertex.models.generate_content(model="publishers/google/models/gemini-2.5-pro", contents="Where is my order?")
    assert server.requests[-1].path.startswith("/v1beta1/projects/test-project/locations/us-central1/publishers/google/models/")
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert attrs["gen_ai.request.model"] == "gemini-2.5-pro"
    _check_pro(attrs)


def _chunks(stream: Any) -> List[Any]:
    return [(c.text, c.model_version, c.candidates[0].finish_reason, c.usage_metadata) for c in stream]


def test_stream_is_transparent_and_counted(instrument: Any, server: Any, gemini: Any) -> None:
    plain = _chunks(gemini.models.generate_content_stream(model="gemini-2.5-flash", contents="Where is my order?"))
    telemetry = instrument()
    stream = gemini.models.generate_content_stream(model="gemini-2.5-flash", contents="Where is my order?")
    observed = _chunks(stream)
    assert observed == plain
    final = observed[-1][3]
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.usage.input_tokens"] == final.prompt_token_count
    assert attrs["gen_ai.usage.output_tokens"] == final.candidates_token_count
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["tokentrace.provider.finish_reasons"] == ("STOP",)
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0
    expected = (final.prompt_token_count * 0.3 + final.candidates_token_count * 2.5) / 1e6
    assert attrs["tokentrace.cost.usd"] == pytest.approx(expected)


def test_stream_abandoned_ends_once(instrument: Any, server: Any, gemini: Any) -> None:
    telemetry = instrument()
    stream = gemini.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
    next(iter(stream))
    del stream
    gc.collect()
    spans = telemetry.llm_spans()
    assert len(spans) == 1
    assert _attrs(spans[0])["gen_ai.usage.input_tokens"] > 0  # every chunk carries the prompt count


def test_async_generate_and_stream(instrument: Any, server: Any, gemini: Any) -> None:
    telemetry = instrument()

    async def run() -> List[str]:
        server.enqueue(ResponsePlan(usage=PRO_USAGE))
        await gemini.aio.models.generate_content(model="gemini-2.5-pro", contents="hi")
        server.enqueue(ResponsePlan(usage=PRO_USAGE))
        texts = []
        async for chunk in await gemini.aio.models.generate_content_stream(model="gemini-2.5-pro", contents="hi"):
            texts.append(chunk.text)
        return texts

    texts = asyncio.run(run())
    assert "".join(texts).startswith("Your order shipped")
    spans = telemetry.llm_spans()
    assert len(spans) == 2
    for span in spans:
        _check_pro(_attrs(span))
    assert sorted(bool(_attrs(s).get("gen_ai.request.stream")) for s in spans) == [False, True]


def test_embeddings_gemini_and_vertex(instrument: Any, server: Any, gemini: Any, vertex: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"promptTokenCount": 1200, "totalTokenCount": 1200}))
    result = gemini.models.embed_content(model="gemini-embedding-001", contents=["a b c", "hello world"],
                                         config={"output_dimensionality": 8})
    assert len(result.embeddings) == 2
    vertex.models.embed_content(model="text-embedding-005", contents=["abcdefgh", "abcdefghijkl"])
    first, second = telemetry.llm_spans()
    attrs = _attrs(first)
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["gen_ai.embeddings.dimension.count"] == 8
    assert attrs["gen_ai.usage.input_tokens"] == 1200
    assert attrs["tokentrace.cost.usd"] == pytest.approx(1200 * 0.15 / 1e6)
    attrs = _attrs(second)
    assert attrs["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert attrs["gen_ai.usage.input_tokens"] == 2 + 3  # per-embedding statistics.token_count


def _failure(call: Any) -> BaseException:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test compares what the app sees
        return exc
    raise AssertionError("expected the call to fail")


def test_errors_propagate_unchanged(instrument: Any, server: Any, gemini: Any) -> None:
    server.enqueue(ResponsePlan(status=429))
    plain = _failure(lambda: gemini.models.generate_content(model="gemini-2.5-flash", contents="hi"))
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=429))
    seen = _failure(lambda: gemini.models.generate_content(model="gemini-2.5-flash", contents="hi"))
    assert type(seen) is type(plain) is errors.ClientError
    assert (seen.code, seen.status, seen.message) == (plain.code, plain.status, plain.message)
    span = telemetry.only_llm_span()
    assert span.status.status_code.name == "ERROR"
    assert _attrs(span)["error.type"] == "google.genai.errors.ClientError"

    server.enqueue(ResponsePlan(status=503))
    with pytest.raises(errors.ServerError):
        list(gemini.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
    assert len(telemetry.llm_spans()) == 2


def test_malformed_usage_never_crashes(instrument: Any, server: Any, gemini: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"promptTokenCount": -5, "candidatesTokenCount": 3}))
    response = gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert response.text
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.input_tokens"] == 0 and attrs["gen_ai.usage.output_tokens"] == 3


def test_unknown_model_has_no_cost(instrument: Any, server: Any, gemini: Any) -> None:
    telemetry = instrument()
    gemini.models.generate_content(model="gemini-99-imaginary", contents="hi")
    attrs = _attrs(telemetry.only_llm_span())
    assert "tokentrace.cost.usd" not in attrs
    assert attrs["tokentrace.cost.status"] == "unknown_model"


def test_content_and_secrets(instrument: Any, server: Any, gemini: Any, vertex: Any) -> None:
    telemetry = instrument()
    gemini.models.generate_content(model="gemini-2.5-flash", contents="Where is my order?")
    vertex.models.generate_content(model="gemini-2.5-flash", contents="Where is my order?")
    assert server.requests[-2].headers["x-goog-api-key"] == API_KEY
    text = json.dumps([{k: str(v) for k, v in _attrs(s).items()} for s in telemetry.llm_spans()])
    assert API_KEY not in text and TOKEN not in text and "Where is my order?" not in text

    tokentrace.uninstrument()
    telemetry.exporter.clear()
    telemetry = instrument(capture_content="SPAN_ONLY")
    gemini.models.generate_content(model="gemini-2.5-flash", contents="Where is my order?",
                                   config={"system_instruction": "Answer briefly."})
    attrs = _attrs(telemetry.only_llm_span())
    assert json.loads(attrs["gen_ai.input.messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "Where is my order?"}]}]
    assert json.loads(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": "Answer briefly."}]
    assert json.loads(attrs["gen_ai.output.messages"])[0]["parts"][0]["content"].startswith("Your order shipped")


def test_internal_fault_never_reaches_the_app(instrument: Any, server: Any, gemini: Any, monkeypatch: Any) -> None:
    from tokentrace.providers.google_genai import extract

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(extract, "fill_generate", broken)
    monkeypatch.setattr(extract, "raw_finish_reasons", broken)
    telemetry = instrument()
    assert gemini.models.generate_content(model="gemini-2.5-flash", contents="hi").text
    assert "".join(c.text for c in gemini.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
    assert len(telemetry.llm_spans()) == 2


def test_attribution_reaches_the_span(instrument: Any, server: Any, gemini: Any) -> None:
    telemetry = instrument()
    with tokentrace.attribute(team="support", feature="order-status"):
        gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["tokentrace.team"] == "support"
    assert attrs["tokentrace.feature"] == "order-status"


def test_uninstrument_restores_every_original(instrument: Any, server: Any, gemini: Any) -> None:
    names = ["_generate_content", "_generate_content_stream", "_embed_content"]
    originals = {(cls, n): cls.__dict__[n] for cls in (models.Models, models.AsyncModels) for n in names}
    build = _api_client.BaseApiClient.__dict__["_build_request"]
    telemetry = instrument()
    assert all(cls.__dict__[n] is not original for (cls, n), original in originals.items())
    tokentrace.uninstrument()
    assert all(cls.__dict__[n] is original for (cls, n), original in originals.items())
    assert _api_client.BaseApiClient.__dict__["_build_request"] is build
    gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert telemetry.llm_spans() == []


def test_attribution_baggage_is_stripped_from_requests(instrument: Any, server: Any, gemini: Any) -> None:
    instrument()
    config = {"http_options": {"headers": {"baggage": "tokentrace.team=support,session-kind=chat"}}}
    gemini.models.generate_content(model="gemini-2.5-flash", contents="hi", config=config)
    assert server.requests[-1].headers["baggage"] == "session-kind=chat"


def test_vertex_priority_traffic_is_priced_at_priority_rates(instrument: Any, server: Any, vertex: Any) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"promptTokenCount": 1000, "candidatesTokenCount": 100, "totalTokenCount": 1100,
                                       "trafficType": "ON_DEMAND_PRIORITY"}))
    vertex.models.generate_content(model="gemini-2.5-pro", contents="hi")
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["tokentrace.service_tier"] == "priority"
    # gemini-2.5-pro priority: 2.25 input, 18 output per 1M
    assert attrs["tokentrace.cost.usd"] == pytest.approx((1000 * 2.25 + 100 * 18) / 1e6)
