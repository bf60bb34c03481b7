"""Errors reach the app unchanged; tokentrace's own failures never do; uninstrument() restores all."""

from __future__ import annotations

import traceback

import anthropic
import anthropic._base_client as base_client
import pytest
from opentelemetry.trace import StatusCode

import tokentrace
from tokentrace.providers import anthropic as adapter
from tokentrace.providers.anthropic import extract, request
from tokentrace.testing import ResponsePlan

from .conftest import CACHED_USAGE, MESSAGES, no_secret

STATUSES = {
    400: anthropic.BadRequestError,
    401: anthropic.AuthenticationError,
    403: anthropic.PermissionDeniedError,
    404: anthropic.NotFoundError,
    413: anthropic.APIStatusError,
    429: anthropic.RateLimitError,
    500: anthropic.InternalServerError,
    529: anthropic.APIStatusError,
}


def _app_frames(exc: BaseException):
    """The traceback's frames outside tokentrace and wrapt: what the app's own debugging sees.

    Files and functions, not line texts: with a trace context present the SDK takes its own traced
    branch inside ``request`` (as it does under any active span), a different line of the same frame.
    """
    return [
        (frame.filename, frame.name)
        for frame in traceback.extract_tb(exc.__traceback__)
        if "/tokentrace/" not in frame.filename and "/wrapt/" not in frame.filename
    ]


def _call(client):
    try:
        client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    except Exception as exc:  # noqa: BLE001 - compared below
        return exc
    raise AssertionError("the call should have failed")


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_http_errors_propagate_unchanged(instrument, server, client, status):
    tokentrace.uninstrument()
    server.enqueue(ResponsePlan(status=status))
    baseline = _call(client)
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=status))
    observed = _call(client)
    assert type(observed) is type(baseline)
    assert isinstance(observed, STATUSES[status])
    assert observed.status_code == status
    assert observed.body == {**baseline.body, "request_id": observed.body["request_id"]}
    assert observed.body["type"] == "error"
    assert observed.request_id == observed.body["request_id"]
    assert _app_frames(observed) == _app_frames(baseline)
    span = telemetry.only_llm_span()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == f"anthropic.{type(observed).__name__}"
    assert "gen_ai.usage.input_tokens" not in span.attributes
    no_secret(span)
    assert telemetry.total("tokentrace.calls", error__type=f"anthropic.{type(observed).__name__}") == 1


def test_connection_error_propagates(instrument, server):
    telemetry = instrument()
    client = anthropic.Anthropic(base_url="http://127.0.0.1:9", api_key="sk-ant-x", max_retries=0)
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    assert telemetry.only_llm_span().attributes["error.type"] == "anthropic.APIConnectionError"


def test_internal_error_in_response_reading_never_reaches_the_app(instrument, server, client, monkeypatch):
    telemetry = instrument()

    def broken(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(extract, "fill_message", broken)
    server.enqueue(ResponsePlan(usage=CACHED_USAGE))
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    assert message.usage.input_tokens == 120
    assert len(telemetry.llm_spans()) == 1


def test_internal_error_per_stream_event_never_reaches_the_app(instrument, server, client, monkeypatch):
    telemetry = instrument()

    def broken(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(extract, "fill_identity", broken)
    monkeypatch.setattr(extract, "fill_usage", broken)
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "end_turn"
    assert len(telemetry.llm_spans()) == 1


def test_internal_error_building_the_record_sends_the_call_untraced(instrument, server, client, monkeypatch):
    telemetry = instrument()

    def broken(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(adapter, "build_record", broken)
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    assert message.content[0].text
    assert telemetry.llm_spans() == []


def test_uninstrument_restores_every_original(instrument):
    originals = {
        "sync": vars(base_client.SyncAPIClient)["request"],
        "async": vars(base_client.AsyncAPIClient)["request"],
        "start": base_client.start_api_call_span,
        "inject": base_client.inject_trace_headers,
    }
    instrument()
    assert vars(base_client.SyncAPIClient)["request"] is not originals["sync"]
    assert vars(base_client.AsyncAPIClient)["request"] is not originals["async"]
    assert base_client.start_api_call_span is not originals["start"]
    assert base_client.inject_trace_headers is not originals["inject"]
    tokentrace.uninstrument()
    assert vars(base_client.SyncAPIClient)["request"] is originals["sync"]
    assert vars(base_client.AsyncAPIClient)["request"] is originals["async"]
    assert base_client.start_api_call_span is originals["start"]
    assert base_client.inject_trace_headers is originals["inject"]


def test_no_span_after_uninstrument(instrument, server, client):
    telemetry = instrument()
    tokentrace.uninstrument()
    client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES)
    assert telemetry.llm_spans() == []


def test_messages_path_detection():
    class Options:
        def __init__(self, method, url):
            self.method, self.url = method, url

    assert request.is_messages_call(Options("post", "/v1/messages"))
    assert request.is_messages_call(Options("post", "/v1/messages?beta=true"))
    assert not request.is_messages_call(Options("post", "/v1/messages/count_tokens"))
    assert not request.is_messages_call(Options("post", "/v1/messages/batches"))
    assert not request.is_messages_call(Options("get", "/v1/messages"))
    assert not request.is_messages_call(None)


@pytest.mark.parametrize("surface", ["with_raw_response", "with_streaming_response"])
def test_raw_response_parse_raising_is_a_failure(instrument, server, client, surface):
    """An empty 200 body: plain create() raises while parsing; the raw variants raise from the
    app's own parse(). Either way the span records the failure."""
    from opentelemetry.trace import StatusCode

    from tokentrace.core.pipeline import error_type
    from tokentrace.testing import ResponsePlan

    server.enqueue(ResponsePlan(body=b""))
    with pytest.raises(Exception) as plain:
        client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES)
    telemetry = instrument()
    server.enqueue(ResponsePlan(body=b""))
    if surface == "with_raw_response":
        raw = client.messages.with_raw_response.create(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES)
        with pytest.raises(type(plain.value)) as caught:
            raw.parse()
    else:
        with client.messages.with_streaming_response.create(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES) as raw:
            with pytest.raises(type(plain.value)) as caught:
                raw.parse()
    assert str(caught.value) == str(plain.value)
    span = telemetry.only_llm_span()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == error_type(plain.value)
