"""One vocabulary across adapters, as the GenAI conventions ask."""

from __future__ import annotations

import openai
import pytest

from tokentrace.providers.openai import endpoints, extract
from tokentrace.providers.values import ClientTarget
from tokentrace.testing import ResponsePlan


def test_openai_embeddings_carry_no_output_tokens(instrument, server):
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(ResponsePlan(usage={"prompt_tokens": 42, "total_tokens": 42}))
    client.embeddings.create(model="text-embedding-3-small", input=["refund policy", "late fee"])
    a = telemetry.only_llm_span().attributes
    assert a["gen_ai.usage.input_tokens"] == 42
    assert "gen_ai.usage.output_tokens" not in a
    points = telemetry.points("gen_ai.client.token.usage")
    assert [p.attributes["gen_ai.token.type"] for p in points] == ["input"]
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="output") == 0


def test_gemini_embeddings_carry_no_output_tokens(instrument, server):
    from google import genai
    from google.genai import types

    telemetry = instrument()
    client = genai.Client(api_key="test", http_options=types.HttpOptions(base_url=server.url))
    server.enqueue(ResponsePlan(usage={"promptTokenCount": 12, "totalTokenCount": 12}))
    client.models.embed_content(model="gemini-embedding-001", contents=["a b c"])
    assert "gen_ai.usage.output_tokens" not in telemetry.only_llm_span().attributes
    assert all(p.attributes["gen_ai.token.type"] == "input" for p in telemetry.points("gen_ai.client.token.usage"))


def test_openai_attributes_only_on_openai_spans():
    body = {"model": "llama-3.3-70b-versatile", "messages": [], "service_tier": "flex"}
    groq = endpoints.build_record(endpoints.CHAT, body, ClientTarget("groq", "api.groq.com", 443), False)
    assert not any(key.startswith("openai.") for key in groq.request_attributes)
    extract._common(groq, {"model": "llama-3.3-70b-versatile", "service_tier": "on_demand", "system_fingerprint": "fp_x"})
    assert not any(key.startswith("openai.") for key in groq.response_attributes)
    assert groq.service_tier == "on_demand"  # still recorded, under tokentrace's own name

    own = endpoints.build_record(endpoints.CHAT, body, ClientTarget("openai", "api.openai.com", 443), False)
    assert own.request_attributes["openai.api.type"] == "chat_completions"
    assert own.request_attributes["openai.request.service_tier"] == "flex"
    extract._common(own, {"model": "gpt-4o", "service_tier": "flex", "system_fingerprint": "fp_x"})
    assert own.response_attributes["openai.response.system_fingerprint"] == "fp_x"


@pytest.mark.parametrize("count, expected", [(1, None), (2, 2)])
def test_gemini_choice_count_only_when_not_one(count, expected):
    from tokentrace.providers.google_genai.extract import request_attributes

    assert request_attributes({"candidate_count": count}).get("gen_ai.request.choice.count") == expected


def test_anthropic_time_to_first_chunk_is_the_first_event(instrument, server):
    """``message_start`` is the first chunk; the first text delta may come much later."""
    import time

    import anthropic

    telemetry = instrument()
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    server.enqueue(ResponsePlan(chunk_delay_s=0.1, chunks=2))
    started = time.perf_counter()
    first_text = None
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}]) as stream:
        for event in stream:
            if first_text is None and event.type == "content_block_delta":
                first_text = time.perf_counter() - started
    ttfc = telemetry.only_llm_span().attributes["gen_ai.response.time_to_first_chunk"]
    # message_start and content_block_start come 100 ms apart before the first text delta.
    assert first_text is not None and ttfc < first_text - 0.1
