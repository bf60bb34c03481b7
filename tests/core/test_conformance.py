"""The conformance checker itself: it catches what the GenAI registry forbids.

(The check over the whole suite's telemetry runs in ``tests/conftest.py``; these tests make sure
the checker would see a problem, and that one full call per adapter family is clean.)
"""

from __future__ import annotations

import openai
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tokentrace.testing import ResponsePlan, conformance


def _span(attributes):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("t").start_span("chat x", attributes=attributes).end()
    return exporter.get_finished_spans()


def test_checker_flags_names_types_and_enum_members():
    problems = conformance.check_spans(
        _span(
            {
                "gen_ai.operation.name": "chat_completion",  # not a registry operation
                "gen_ai.provider.name": "xai",  # the registry spells it x_ai
                "gen_ai.request.top_k": 40.0,  # an int in the registry
                "gen_ai.usage.output_tokens": 1.5,
                "gen_ai.response.finish_reasons": ("end_turn",),  # not normalized
                "gen_ai.usage.total_tokens": 10,  # not a registry name
                "gen_ai.output.type": "markdown",
            }
        )
    )
    text = "\n".join(problems)
    for expected in ("chat_completion", "'x_ai'", "gen_ai.request.top_k must be int", "gen_ai.usage.output_tokens must be int",
                     "'end_turn' is not normalized", "gen_ai.usage.total_tokens", "markdown"):
        assert expected in text, (expected, text)


def test_checker_accepts_documented_names():
    problems = conformance.check_spans(
        _span(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "together_ai",  # a custom value is allowed
                "gen_ai.usage.cache_write.input_tokens": 3,  # proposed, documented
                "tokentrace.cost.usd": 0.1,
                "anthropic.message.stop_reason": "end_turn",
                "server.port": 443,
            }
        )
    )
    assert problems == []


def test_a_real_call_is_conformant(instrument, server):
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], temperature=1, top_p=1)
    list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True))
    server.enqueue(ResponsePlan(status=429))
    try:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    except openai.RateLimitError:
        pass
    assert len(telemetry.llm_spans()) == 3
    assert conformance.check_telemetry(telemetry.exporter, telemetry.reader) == []
