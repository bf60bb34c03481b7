"""Attribution across two real local HTTP services via W3C baggage; never to the LLM provider."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List

import httpx2
import openai
import pytest
import requests
from opentelemetry import baggage, context, propagate

import tokentrace
from tokentrace.attribution import strip_attribution_baggage, without_attribution_baggage

MESSAGES = [{"role": "user", "content": "hi"}]


class Service:
    """A real HTTP service on 127.0.0.1 that extracts the caller's context as a server instrumentation would."""

    def __init__(self, handle: Callable[[], Dict[str, Any]]) -> None:
        self.received: List[Dict[str, str]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                service.received.append(headers)
                token = context.attach(propagate.extract(headers))
                try:
                    payload = json.dumps(handle()).encode()
                finally:
                    context.detach(token)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _get(url: str) -> Dict[str, Any]:
    headers: Dict[str, str] = {}
    propagate.inject(headers)  # what an instrumented HTTP client does
    return requests.get(url, headers=headers, timeout=10).json()


@pytest.fixture
def services(server) -> Iterator[Dict[str, Service]]:
    llm = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)

    def call_llm(step: str) -> Dict[str, Any]:
        headers: Dict[str, str] = {}
        propagate.inject(headers)  # the app (or an HTTP instrumentation) forwards its baggage to every request
        llm.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, extra_headers=headers, metadata=None)
        return {"step": step, "attribution": tokentrace.current_attribution()}

    b = Service(lambda: call_llm("b"))

    def handle_a() -> Dict[str, Any]:
        seen = tokentrace.current_attribution()
        with tokentrace.attribute(agent_step="front"):
            own = call_llm("a")
            downstream = _get(b.url)
        return {"seen": seen, "own": own, "downstream": downstream}

    a = Service(handle_a)
    yield {"a": a, "b": b}
    a.close()
    b.close()


def _client_request(url: str) -> Dict[str, Any]:
    token = context.attach(baggage.set_baggage("session", "s-1"))
    try:
        with tokentrace.attribute(team="search", feature="ask"):
            return _get(url)
    finally:
        context.detach(token)


def test_trusted_inbound_baggage_attributes_calls_two_services_away(instrument, server, services):
    telemetry = instrument(trust_inbound_baggage=True)
    result = _client_request(services["a"].url)
    assert "tokentrace.team=search" in services["a"].received[0]["baggage"]
    assert result["seen"] == {"team": "search", "feature": "ask"}
    assert result["downstream"]["attribution"] == {"team": "search", "feature": "ask", "agent_step": "front"}
    teams = sorted((s.attributes.get("tokentrace.team"), s.attributes.get("tokentrace.agent_step")) for s in telemetry.llm_spans())
    assert teams == [("search", "front"), ("search", "front")]
    _assert_llm_saw_no_attribution(server)


def test_untrusted_inbound_baggage_is_ignored_and_not_forwarded(instrument, server, services):
    telemetry = instrument()  # trust_inbound_baggage defaults to False
    result = _client_request(services["a"].url)
    assert "tokentrace.team=search" in services["a"].received[0]["baggage"]  # the client did send it
    assert result["seen"] == {}
    assert result["own"]["attribution"] == {"agent_step": "front"}
    forwarded = services["b"].received[0]["baggage"]
    assert "tokentrace.agent_step=front" in forwarded and "tokentrace.team" not in forwarded
    assert "session=s-1" in forwarded  # other members travel untouched
    assert result["downstream"]["attribution"] == {}
    for span in telemetry.llm_spans():
        assert "tokentrace.team" not in span.attributes
    _assert_llm_saw_no_attribution(server)


def _assert_llm_saw_no_attribution(server) -> None:
    received = [r for r in server.requests if r.path.endswith("/chat/completions")]
    assert len(received) == 2
    for request in received:
        assert "tokentrace" not in json.dumps(request.headers)
        assert request.headers.get("baggage") == "session=s-1"


def test_propagation_can_be_turned_off(instrument):
    instrument(propagate_baggage=False)
    with tokentrace.attribute(team="search"):
        assert dict(baggage.get_all()) == {}


def test_user_never_goes_into_baggage(instrument):
    instrument()
    with tokentrace.attribute(team="search", user="alice", env="prod"):
        assert dict(baggage.get_all()) == {"tokentrace.team": "search", "tokentrace.tag.env": "prod"}


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"baggage": "tokentrace.team=a,session=s,tokentrace.tag.env=p"}, {"baggage": "session=s"}),
        ({"Baggage": "tokentrace.team=a;prop=1"}, {}),
        ({"baggage": "session=s, other=o"}, {"baggage": "session=s, other=o"}),
        ({"traceparent": "00-x"}, {"traceparent": "00-x"}),
    ],
)
def test_strip_attribution_baggage(headers, expected):
    assert dict(strip_attribution_baggage(dict(headers))) == expected


def test_strip_works_on_httpx_headers():
    headers = httpx2.Headers({"baggage": " tokentrace.team=a , k=v"})
    strip_attribution_baggage(headers)
    assert headers["baggage"] == "k=v"


def test_without_attribution_baggage_keeps_other_members():
    ctx = baggage.set_baggage("tokentrace.team", "a", baggage.set_baggage("k", "v"))
    assert dict(baggage.get_all(without_attribution_baggage(ctx))) == {"k": "v"}
