"""Never break the host: errors propagate unchanged, tokentrace's own faults are swallowed and
logged once, uninstrument restores every original, content and secrets stay out of telemetry."""

from __future__ import annotations

import json
import logging
import traceback

import openai
import pytest
import wrapt

import tokentrace
from tokentrace.core import safety
from tokentrace.core.pipeline import Pipeline
from tokentrace.providers.openai import endpoints, extract, streams
from tokentrace.testing import ResponsePlan

API_KEY = "sk-proj-abcdefghijklmnop1234567890SECRET"


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.openai_url, api_key=API_KEY, max_retries=0)


@pytest.fixture(autouse=True)
def _fresh_log_once():
    safety.reset_reported()
    yield
    safety.reset_reported()


def _frames(exc: BaseException):
    return [(f.filename, f.name) for f in traceback.extract_tb(exc.__traceback__) if "tokentrace" not in f.filename and "wrapt" not in f.filename]


@pytest.mark.parametrize("status, error_type", [(401, openai.AuthenticationError), (429, openai.RateLimitError), (500, openai.InternalServerError)])
def test_provider_errors_reach_the_app_unchanged(instrument, server, client, status, error_type):
    request = dict(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    server.enqueue(ResponsePlan(status=status))
    with pytest.raises(error_type) as baseline:
        client.chat.completions.create(**request)
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=status))
    with pytest.raises(error_type) as observed:
        client.chat.completions.create(**request)
    assert str(observed.value) == str(baseline.value)
    assert observed.value.status_code == status
    # The SDK's own frames are all still there, in order; tokentrace only adds its wrapper frame.
    assert _frames(observed.value)[1:] == _frames(baseline.value)[1:]
    span = telemetry.only_llm_span()
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == f"openai.{error_type.__name__}"
    assert telemetry.total("tokentrace.calls", error__type=f"openai.{error_type.__name__}") == 1


def test_api_key_never_reaches_telemetry(instrument, server, client, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_AND_EVENT")
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=401))
    with pytest.raises(openai.AuthenticationError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert API_KEY[-4:] in str(raised.value)  # the provider echoes part of the key...
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True))
    dumped = "".join(span.to_json() for span in telemetry.spans())
    dumped += json.dumps([str(p.attributes) for name in ("tokentrace.calls", "tokentrace.tokens") for p in telemetry.points(name)])
    for secret in (API_KEY, API_KEY[-4:] + ".", "Bearer", API_KEY[:12]):
        assert secret not in dumped  # ...but not into any span, event or metric


def test_no_content_captured_by_default(instrument, server, client):
    telemetry = instrument()
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "system", "content": "TOPSECRET-SYS"}, {"role": "user", "content": "TOPSECRET-USER"}])
    dumped = telemetry.only_llm_span().to_json()
    assert "TOPSECRET" not in dumped
    assert "gen_ai.input.messages" not in dumped


@pytest.mark.parametrize("mode, on_span, as_event", [("SPAN_ONLY", True, False), ("EVENT_ONLY", False, True), ("SPAN_AND_EVENT", True, True), ("true", True, False)])
def test_content_capture_opt_in(instrument, server, client, monkeypatch, mode, on_span, as_event):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", mode)
    telemetry = instrument()
    server.enqueue(ResponsePlan(text="the answer"))
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "the question"}])
    span = telemetry.only_llm_span()
    assert ("gen_ai.input.messages" in span.attributes) is on_span
    events = [e for e in span.events if e.name == "gen_ai.client.inference.operation.details"]
    assert bool(events) is as_event
    source = span.attributes if on_span else events[0].attributes
    assert json.loads(source["gen_ai.input.messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "the question"}]}]
    assert json.loads(source["gen_ai.system_instructions"]) == [{"type": "text", "content": "be brief"}]
    output = json.loads(source["gen_ai.output.messages"])
    assert output == [{"role": "assistant", "parts": [{"type": "text", "content": "the answer"}], "finish_reason": "stop"}]


def _boom(*args, **kwargs):
    raise RuntimeError("injected tokentrace fault")


FAULTS = [
    (endpoints, "build_record"),
    (extract, "fill_chat"),
    (extract, "completion_usage"),
    (Pipeline, "start"),
    (Pipeline, "finish"),
    (Pipeline, "_end_attributes"),
    (Pipeline, "_record_metrics"),
    (streams.StreamState, "_observe_chunk"),
    (streams.StreamState, "end"),
    (streams.ResultHandler, "handle"),
]


@pytest.mark.parametrize("owner, name", FAULTS, ids=[f"{o.__name__}.{n}" for o, n in FAULTS])
def test_faults_inside_tokentrace_never_reach_the_app(instrument, server, client, monkeypatch, caplog, owner, name):
    request = dict(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    server.enqueue(ResponsePlan(text="fixed reply"), ResponsePlan(text="fixed reply"))
    baseline = client.chat.completions.create(**request)
    baseline_stream = [c.model_dump(exclude={"id", "created"}) for c in client.chat.completions.create(stream=True, **request)]

    instrument()
    target = "tokentrace.providers.openai." + ("endpoints" if owner is endpoints else "extract") if owner in (endpoints, extract) else None
    if target:
        monkeypatch.setattr(owner, name, _boom)
        if owner is endpoints:
            import tokentrace.providers.openai as adapter

            monkeypatch.setattr(adapter, name, _boom)
    else:
        monkeypatch.setattr(owner, name, _boom)
    caplog.set_level(logging.WARNING, logger="tokentrace")
    server.enqueue(ResponsePlan(text="fixed reply"), ResponsePlan(text="fixed reply"), ResponsePlan(text="fixed reply"))
    for _ in range(2):
        result = client.chat.completions.create(**request)
        assert result.choices[0].message.content == baseline.choices[0].message.content
        assert result.usage == baseline.usage
    observed_stream = [c.model_dump(exclude={"id", "created"}) for c in client.chat.completions.create(stream=True, **request)]
    assert [c["choices"] for c in observed_stream] == [c["choices"] for c in baseline_stream]
    server.enqueue(ResponsePlan(status=429))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**request)
    messages = [r.getMessage() for r in caplog.records if "injected tokentrace fault" in r.getMessage()]
    assert len(messages) >= 1
    assert len(messages) == len(set(messages)), "each failure site is logged once"


def test_uninstrument_restores_identity_and_instrument_is_idempotent(instrument, server, client):
    from openai._base_client import AsyncAPIClient, SyncAPIClient

    originals = {name: vars(cls)[name] for cls in (SyncAPIClient, AsyncAPIClient) for name in ("request", "_prepare_request")}
    originals_by_class = {(cls, name): vars(cls)[name] for cls in (SyncAPIClient, AsyncAPIClient) for name in ("request", "_prepare_request")}
    telemetry = instrument()
    tokentrace.instrument()  # second call: no double wrapping
    assert isinstance(vars(SyncAPIClient)["request"], wrapt.FunctionWrapper)
    assert not isinstance(vars(SyncAPIClient)["request"].__wrapped__, wrapt.FunctionWrapper)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert len(telemetry.llm_spans()) == 1
    tokentrace.uninstrument()
    tokentrace.uninstrument()
    for (cls, name), original in originals_by_class.items():
        assert vars(cls)[name] is original
    assert originals
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert len(telemetry.llm_spans()) == 1


def test_warns_once_when_another_instrumentation_wraps_openai(instrument, caplog):
    from openai.resources.chat.completions import Completions

    original = vars(Completions)["create"]
    wrapt.wrap_function_wrapper(Completions, "create", lambda wrapped, instance, args, kwargs: wrapped(*args, **kwargs))
    try:
        from tokentrace import instrumentation

        instrumentation._warned_foreign.discard("openai")
        caplog.set_level(logging.WARNING, logger="tokentrace")
        instrument()
        warnings = [r for r in caplog.records if "another instrumentation already wraps openai" in r.getMessage()]
        assert len(warnings) == 1
        assert "Completions.create" in warnings[0].getMessage()
    finally:
        Completions.create = original


def test_instrument_before_client_creation_and_after(instrument, server):
    early = openai.OpenAI(base_url=server.openai_url, api_key="sk-test")
    telemetry = instrument()
    late = openai.OpenAI(base_url=server.openai_url, api_key="sk-test")
    early.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    late.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert len(telemetry.llm_spans()) == 2
