"""The SDK's own OpenTelemetry call span is kept: it is the call's one span, annotated by tokentrace.

A client given its own tracer provider (``open_telemetry={"tracer_provider": P}``) gets its
Messages spans on P, with the SDK's HTTP, resend, content and conversation attributes, and
tokentrace's usage, cost and attribution on the same span. With the SDK's tracing off,
tokentrace's own span is the call's, as for any SDK. Every test drives the real SDK over HTTP.
"""

from __future__ import annotations

import asyncio
from typing import Any, List

import anthropic
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import StatusCode

import tokentrace
from tokentrace.testing import ResponsePlan

from .conftest import API_KEY, CACHED_COST_HAIKU, CACHED_INPUT_TOTAL, CACHED_USAGE, MESSAGES

NATIVE_NAME = "anthropic.messages.create"
MODEL = "claude-haiku-4-5"


class Provider:
    """A tracer provider of the application's, separate from the one tokentrace was given."""

    def __init__(self, **options: Any) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(**options)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def spans(self) -> List[Any]:
        # No flush of tokentrace's estimator: a call with usage is complete when the app is done.
        return list(self.exporter.get_finished_spans())

    def only(self, name: str = NATIVE_NAME) -> Any:
        spans = [s for s in self.spans() if s.name == name]
        assert len(spans) == 1, [s.name for s in self.spans()]
        return spans[0]


def _usage_spans(spans: List[Any]) -> List[Any]:
    return [s for s in spans if "gen_ai.usage.output_tokens" in (s.attributes or {})]


def _client(server: Any, open_telemetry: Any = None, **extra: Any) -> anthropic.Anthropic:
    options: dict = {"base_url": server.url, "api_key": API_KEY, "max_retries": 0, **extra}
    if open_telemetry is not None:
        options["open_telemetry"] = open_telemetry
    return anthropic.Anthropic(**options)


def _assert_accounted(span: Any, telemetry: Any, calls: int = 1) -> None:
    """tokentrace's usage, cost and metrics for one CACHED_USAGE call on claude-haiku-4-5."""
    attributes = span.attributes
    assert attributes["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert attributes["gen_ai.usage.output_tokens"] == 800
    assert attributes["tokentrace.usage.source"] == "provider"
    assert attributes["tokentrace.cost.status"] == "priced"
    assert attributes["tokentrace.cost.usd"] == pytest.approx(CACHED_COST_HAIKU)
    assert telemetry.total("tokentrace.calls") == calls
    assert telemetry.total("tokentrace.cost") == pytest.approx(CACHED_COST_HAIKU * calls)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="cache_read") == 40000 * calls


def test_native_span_exists_without_tokentrace(telemetry, server):
    """The baseline the next tests rely on: the SDK really emits a span with usage."""
    tokentrace.uninstrument()
    client = _client(server, {"tracer_provider": telemetry.tracer_provider})
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    spans = _usage_spans(telemetry.spans())
    assert [s.name for s in spans] == [NATIVE_NAME]
    assert spans[0].attributes["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert not any(k.startswith("tokentrace.") for k in spans[0].attributes)


def test_client_with_its_own_provider_gets_the_one_span_with_usage_and_cost(instrument, server):
    telemetry = instrument()
    app = Provider()
    options = {"tracer_provider": app.provider, "conversation_id": "conv_7", "traces": {"content_mode": "content"}}
    client = _client(server, options)
    server.enqueue(ResponsePlan(usage=CACHED_USAGE, headers={"request-id": "req_42"}))
    with tokentrace.attribute(team="billing", feature="invoices"):
        client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)

    span = app.only()
    _assert_accounted(span, telemetry)
    attributes = span.attributes
    # The SDK's own attributes, as the SDK set them.
    assert attributes["http.response.status_code"] == 200
    assert attributes["http.request.method"] == "POST"
    assert attributes["url.full"] == f"{server.url}/v1/messages"
    assert attributes["anthropic.request.id"] == "req_42"
    assert attributes["gen_ai.conversation.id"] == "conv_7"
    assert "Was the invoice late" in attributes["gen_ai.input.messages"]
    assert span.instrumentation_scope.name == "com.anthropic.sdk.python"
    assert span.status.status_code == StatusCode.OK
    # tokentrace's attribution on the same span.
    assert attributes["tokentrace.team"] == "billing"
    assert attributes["tokentrace.feature"] == "invoices"
    # Nothing on tokentrace's provider: one span per call, on the client's provider.
    assert _usage_spans(telemetry.spans()) == []
    assert len(_usage_spans(app.spans())) == 1
    # The request carried the trace context of that one span.
    _, trace_id, span_id, _ = server.requests[-1].headers["traceparent"].split("-")
    assert (int(trace_id, 16), int(span_id, 16)) == (span.context.trace_id, span.context.span_id)


def test_resend_count_and_retries_on_the_one_span(instrument, server):
    telemetry = instrument()
    app = Provider()
    client = _client(server, {"tracer_provider": app.provider}, max_retries=1)
    server.enqueue(ResponsePlan(status=529, headers={"retry-after-ms": "1"}))
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    span = app.only()
    assert span.attributes["http.request.resend_count"] == 1
    assert span.attributes["tokentrace.retries"] == 1
    _assert_accounted(span, telemetry)


def test_global_provider_gets_the_one_span(instrument, server, monkeypatch):
    telemetry = instrument()
    app = Provider()
    # What trace.set_tracer_provider would register (it can only be called once per process).
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", app.provider)
    client = _client(server)
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    _assert_accounted(app.only(), telemetry)
    assert _usage_spans(telemetry.spans()) == []


def test_no_tracer_provider_anywhere_gives_tokentraces_own_span(instrument, server):
    """A default client, no global provider: the SDK's tracer is a no-op, tokentrace's span is the call's."""
    telemetry = instrument()
    client = _client(server)
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    span = telemetry.only_llm_span()
    assert span.name == f"chat {MODEL}"
    _assert_accounted(span, telemetry)
    # The SDK goes on as it does alone with a no-op tracer: no trace context sent.
    assert "traceparent" not in server.requests[-1].headers


def test_client_given_a_no_op_provider_gets_tokentraces_own_span(instrument, server):
    telemetry = instrument()
    client = _client(server, {"tracer_provider": trace.NoOpTracerProvider()})
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    _assert_accounted(telemetry.only_llm_span(), telemetry)


def test_native_tracing_off_makes_no_otel_calls_for_the_sdk(instrument, server, monkeypatch):
    telemetry = instrument()
    client = _client(server, False)
    asked: List[str] = []
    get_tracer = trace.get_tracer
    monkeypatch.setattr(trace, "get_tracer", lambda name, *a, **k: asked.append(name) or get_tracer(name, *a, **k))
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    with client.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
        stream.until_done()
    assert asked == []
    spans = _usage_spans(telemetry.spans())
    assert [s.name for s in spans] == [f"chat {MODEL}"] * 2
    assert "traceparent" not in server.requests[-1].headers
    assert spans[0].attributes["tokentrace.cost.usd"] == pytest.approx(CACHED_COST_HAIKU)


def test_sync_streams_keep_the_sdk_span_ended_when_the_app_is_done(instrument, server):
    telemetry = instrument()
    app = Provider()
    client = _client(server, {"tracer_provider": app.provider})
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    with client.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
        stream.until_done()
    _assert_accounted(app.only(), telemetry)  # ended at the end of the block, no waiting

    server.enqueue(ResponsePlan(usage=CACHED_USAGE, chunks=6))
    with client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES, stream=True) as events:
        next(iter(events))  # message_start: input and cache counts; the app stops there
    spans = app.spans()
    assert [s.name for s in spans] == [NATIVE_NAME] * 2
    early = spans[1]
    assert early.attributes["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert early.attributes["tokentrace.usage.source"] == "provider"
    assert early.attributes["gen_ai.request.stream"] is True
    assert telemetry.total("tokentrace.calls") == 2
    assert _usage_spans(telemetry.spans()) == []


def test_async_stream_and_create_keep_the_sdk_span(instrument, server):
    telemetry = instrument()
    app = Provider()
    client = anthropic.AsyncAnthropic(base_url=server.url, api_key=API_KEY, max_retries=0, open_telemetry={"tracer_provider": app.provider})

    async def run() -> None:
        server.enqueue(ResponsePlan(usage=CACHED_USAGE))
        await client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
        server.enqueue(ResponsePlan(usage=CACHED_USAGE))
        async with client.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
            await stream.until_done()

    asyncio.run(run())
    spans = app.spans()
    assert [s.name for s in spans] == [NATIVE_NAME] * 2
    for span in spans:
        assert span.attributes["tokentrace.cost.usd"] == pytest.approx(CACHED_COST_HAIKU)
        assert span.attributes["gen_ai.usage.input_tokens"] == CACHED_INPUT_TOTAL
    assert spans[1].attributes["gen_ai.request.stream"] is True
    assert telemetry.total("tokentrace.cost") == pytest.approx(2 * CACHED_COST_HAIKU)


def test_error_keeps_the_sdks_error_description(instrument, server):
    telemetry = instrument()
    app = Provider()
    client = _client(server, {"tracer_provider": app.provider})
    server.enqueue(ResponsePlan(status=429))
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    span = app.only()
    assert span.attributes["error.type"] == "rate_limit_error"  # the SDK's, not overwritten
    assert span.attributes["http.response.status_code"] == 429
    assert span.status.status_code == StatusCode.ERROR
    assert [e.name for e in span.events] == []  # the SDK records no exception event; neither does tokentrace
    assert span.attributes["tokentrace.cost.status"] == "no_usage"
    assert telemetry.total("tokentrace.calls", error__type="anthropic.RateLimitError") == 1
    assert _usage_spans(telemetry.spans()) == [] and telemetry.llm_spans() == []


def test_stream_error_event_keeps_the_sdk_span(instrument, server):
    telemetry = instrument()
    app = Provider()
    client = _client(server, {"tracer_provider": app.provider})
    server.enqueue(ResponsePlan(error={"type": "overloaded_error", "message": "Overloaded"}))
    with pytest.raises(anthropic.APIStatusError):
        with client.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
            stream.until_done()
    span = app.only()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "overloaded_error"
    assert telemetry.total("tokentrace.calls") == 1


def test_sampled_out_sdk_span_exports_nothing_but_metrics_count(instrument, server):
    telemetry = instrument()
    app = Provider(sampler=ALWAYS_OFF)
    client = _client(server, {"tracer_provider": app.provider})
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    assert app.spans() == [] and telemetry.llm_spans() == []
    assert telemetry.total("tokentrace.cost") == pytest.approx(CACHED_COST_HAIKU)


def test_native_propagation_off_is_respected(instrument, server):
    instrument()
    app = Provider()
    client = _client(server, {"tracer_provider": app.provider, "propagation": False})
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    assert "traceparent" not in server.requests[-1].headers
    assert len(_usage_spans(app.spans())) == 1


def test_attribution_baggage_never_reaches_the_provider(instrument, server):
    instrument()
    app = Provider()
    client = _client(server, {"tracer_provider": app.provider})
    with tokentrace.attribute(team="billing", user="alice@example.com"):
        client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    assert app.only().attributes["tokentrace.team"] == "billing"
    headers = server.requests[-1].headers
    assert "traceparent" in headers
    assert "tokentrace" not in headers.get("baggage", "")
    assert "alice" not in str(headers)


def test_other_calls_keep_their_native_span(instrument, server):
    instrument()
    app = Provider()
    client = _client(server, {"tracer_provider": app.provider})
    client.messages.count_tokens(model=MODEL, messages=MESSAGES)
    assert [s.name for s in app.spans()] == ["anthropic.messages.count_tokens"]
    assert not any(k.startswith("tokentrace.") for k in app.spans()[0].attributes)


def test_uninstrument_leaves_the_native_span_without_tokentrace(instrument, server):
    instrument()
    app = Provider()
    client = _client(server, {"tracer_provider": app.provider})
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    tokentrace.uninstrument()
    client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    first, second = app.spans()
    assert (first.name, second.name) == (NATIVE_NAME, NATIVE_NAME)
    assert "tokentrace.cost.status" in first.attributes
    assert not any(k.startswith("tokentrace.") for k in second.attributes)


def test_stream_closed_before_the_first_event_is_estimated_on_the_sdk_span_at_once(instrument, server):
    telemetry = instrument()
    app = Provider()
    client = _client(server, {"tracer_provider": app.provider})
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    with client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES, stream=True):
        pass  # closed before reading anything
    span = app.only()  # ended with the SDK's, no flush: the estimate did not wait for the worker
    attributes = span.attributes
    assert attributes["tokentrace.usage.source"] == "estimate"
    prompt = MESSAGES[0]["content"]
    if attributes["tokentrace.usage.estimator"] == "heuristic":
        assert attributes["gen_ai.usage.input_tokens"] == (len(prompt) + 3) // 4
    else:
        assert 0 < attributes["gen_ai.usage.input_tokens"] < len(prompt)
    assert telemetry.total("tokentrace.calls") == 1


def test_stream_read_as_bytes_by_the_app_settles_with_the_sdk_span(instrument, server):
    telemetry = instrument()
    app = Provider()
    client = _client(server, {"tracer_provider": app.provider})
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    stream = client.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES, stream=True)
    assert b"message_delta" in b"".join(stream.response.iter_bytes())
    span = app.only()  # the SDK ended its span when the body ended; tokentrace settled with it
    assert span.status.status_code == StatusCode.OK
    assert "tokentrace.cost.status" in span.attributes
    assert telemetry.total("tokentrace.calls") == 1
    del stream
