"""The SDK's own OpenTelemetry call span: switched off for traced calls, restored by uninstrument().

Exactly one span per call carries the usage, whether the SDK's native tracing is on or off.
"""

from __future__ import annotations

import anthropic

import tokentrace
from tokentrace.testing import ResponsePlan

from .conftest import API_KEY, CACHED_INPUT_TOTAL, CACHED_USAGE, MESSAGES

NATIVE_NAME = "anthropic.messages.create"


def _usage_spans(telemetry):
    return [s for s in telemetry.spans() if "gen_ai.usage.output_tokens" in (s.attributes or {})]


def _native_client(server, telemetry, **extra):
    options = {"tracer_provider": telemetry.tracer_provider, **extra}
    return anthropic.Anthropic(base_url=server.url, api_key=API_KEY, max_retries=0, open_telemetry=options)


def test_native_span_exists_without_tokentrace(telemetry, server):
    """The baseline the next tests rely on: the SDK really emits a span with usage."""
    tokentrace.uninstrument()
    client = _native_client(server, telemetry)
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    spans = _usage_spans(telemetry)
    assert [s.name for s in spans] == [NATIVE_NAME]
    assert spans[0].attributes["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL


def test_native_tracing_on_one_span_carries_usage(instrument, server):
    telemetry = instrument()
    client = _native_client(server, telemetry)
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES) as stream:
        stream.until_done()
    spans = _usage_spans(telemetry)
    assert [s.name for s in spans] == ["chat claude-haiku-4-5"] * 2
    assert NATIVE_NAME not in [s.name for s in telemetry.spans()]
    assert spans[0].attributes["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert telemetry.total("tokentrace.calls") == 2
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="output") == 800 + spans[1].attributes["gen_ai.usage.output_tokens"]


def test_native_propagation_now_carries_tokentraces_span(instrument, server):
    telemetry = instrument()
    client = _native_client(server, telemetry)
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    span = telemetry.only_llm_span()
    traceparent = server.requests[-1].headers["traceparent"]
    _, trace_id, span_id, _ = traceparent.split("-")
    assert int(trace_id, 16) == span.context.trace_id
    assert int(span_id, 16) == span.context.span_id


def test_native_propagation_off_is_respected(instrument, server):
    telemetry = instrument()
    client = _native_client(server, telemetry, propagation=False)
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    assert "traceparent" not in server.requests[-1].headers
    assert len(telemetry.llm_spans()) == 1


def test_attribution_baggage_never_reaches_the_provider(instrument, server):
    telemetry = instrument()
    client = _native_client(server, telemetry)
    with tokentrace.attribute(team="billing", user="alice@example.com"):
        client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    assert telemetry.only_llm_span().attributes["tokentrace.team"] == "billing"
    headers = server.requests[-1].headers
    assert "traceparent" in headers
    assert "tokentrace" not in headers.get("baggage", "")
    assert "alice" not in str(headers)


def test_other_calls_keep_their_native_span(instrument, server):
    telemetry = instrument()
    client = _native_client(server, telemetry)
    client.messages.count_tokens(model="claude-haiku-4-5", messages=MESSAGES)
    assert [s.name for s in telemetry.spans()] == ["anthropic.messages.count_tokens"]


def test_native_tracing_off(instrument, server):
    telemetry = instrument()
    client = anthropic.Anthropic(base_url=server.url, api_key=API_KEY, max_retries=0, open_telemetry=False)
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    spans = _usage_spans(telemetry)
    assert [s.name for s in spans] == ["chat claude-haiku-4-5"]
    assert "traceparent" not in server.requests[-1].headers


def test_uninstrument_brings_the_native_span_back(instrument, server):
    telemetry = instrument()
    client = _native_client(server, telemetry)
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    tokentrace.uninstrument()
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    assert [s.name for s in _usage_spans(telemetry)] == ["chat claude-haiku-4-5", NATIVE_NAME]
