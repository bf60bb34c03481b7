"""Streams whose request goes out on the first ``next()`` send it inside the LLM call's span.

google-genai's ``_generate_content_stream``, ollama's ``chat(stream=True)`` and cohere's
``chat_stream`` return a generator: the HTTP request is made in its first step, after the
patched method returned. What an HTTP instrumentation sees at that moment — the current span
its client span would nest under, the baggage it would inject — must be the call's.

The probe is the real httpx (or httpx2) transport of each real SDK, wrapped to note the current span and
baggage as each request is sent to the local provider server; no HTTP instrumentation is
needed to see what one would see.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, Iterator, List, Tuple

import cohere
import httpx
import httpx2
import ollama
import pytest
from google import genai
from google.genai import types
from opentelemetry import baggage, context, trace

import tokentrace
from tokentrace.testing import ResponsePlan

Seen = List[Tuple[str, int, Dict[str, object]]]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    """(path, current span id, baggage) for every request an httpx transport sends."""
    seen: Seen = []

    def note(request: Any) -> None:
        span_id = trace.get_current_span().get_span_context().span_id
        seen.append((request.url.path, span_id, dict(baggage.get_all())))

    for module in (httpx, httpx2):  # ollama and cohere send with httpx, google-genai with httpx2
        sync_send = module.HTTPTransport.handle_request
        async_send = module.AsyncHTTPTransport.handle_async_request

        def handle_request(self: Any, request: Any, send: Any = sync_send) -> Any:
            note(request)
            return send(self, request)

        async def handle_async_request(self: Any, request: Any, send: Any = async_send) -> Any:
            note(request)
            return await send(self, request)

        monkeypatch.setattr(module.HTTPTransport, "handle_request", handle_request)
        monkeypatch.setattr(module.AsyncHTTPTransport, "handle_async_request", handle_async_request)
    yield seen


def _only_request_in_the_llm_span(telemetry: Any, seen: Seen, path_part: str) -> None:
    span = telemetry.only_llm_span()
    requests = [entry for entry in seen if path_part in entry[0]]
    assert len(requests) == 1, seen
    _, span_id, members = requests[0]
    assert span_id == span.context.span_id, "the request was sent outside the LLM call's span"
    assert not any(key.startswith("tokentrace.") for key in members), members
    assert members.get("app.request") == "r-1"  # the application's own baggage is still there


def _as_the_app(send: Callable[[], Any]) -> Any:
    """``send()`` where the app iterates its stream: its own baggage member and an attribution."""
    token = context.attach(baggage.set_baggage("app.request", "r-1"))
    try:
        with tokentrace.attribute(team="search"):  # asyncio.run() copies this context into its task
            return send()
    finally:
        context.detach(token)


def test_ollama_stream_sends_in_the_call_span(instrument: Any, server: Any, sent: Seen) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"prompt_eval_count": 10, "eval_count": 4}, chunks=3))
    client = ollama.Client(host=server.url)

    def send() -> List[Any]:
        stream = client.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=True)
        assert sent == []  # nothing sent yet: the request goes out on the first next()
        return list(stream)

    parts = _as_the_app(send)
    assert parts[-1].done is True
    _only_request_in_the_llm_span(telemetry, sent, "/api/chat")


def test_ollama_async_stream_sends_in_the_call_span(instrument: Any, server: Any, sent: Seen) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"prompt_eval_count": 10, "eval_count": 4}, chunks=3))

    async def main() -> None:
        client = ollama.AsyncClient(host=server.url)
        stream = await client.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=True)
        async for _ in stream:
            pass

    _as_the_app(lambda: asyncio.run(main()))
    _only_request_in_the_llm_span(telemetry, sent, "/api/chat")


def test_cohere_stream_sends_in_the_call_span(instrument: Any, server: Any, sent: Seen) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"input_tokens": 100, "output_tokens": 20}, chunks=3))
    client = cohere.ClientV2(api_key="cohere-test-key", base_url=server.url, max_retries=0)
    _as_the_app(lambda: list(client.chat_stream(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}])))
    _only_request_in_the_llm_span(telemetry, sent, "/v2/chat")


def test_cohere_async_stream_sends_in_the_call_span(instrument: Any, server: Any, sent: Seen) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"input_tokens": 100, "output_tokens": 20}, chunks=3))

    async def main() -> None:
        client = cohere.AsyncClientV2(api_key="cohere-test-key", base_url=server.url, max_retries=0)
        async for _ in client.chat_stream(model="command-a-03-2025", messages=[{"role": "user", "content": "hi"}]):
            pass

    _as_the_app(lambda: asyncio.run(main()))
    _only_request_in_the_llm_span(telemetry, sent, "/v2/chat")


def test_google_genai_stream_sends_in_the_call_span(instrument: Any, server: Any, sent: Seen) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage={"prompt_token_count": 100, "candidates_token_count": 20}, chunks=3))
    options = types.HttpOptions(base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1))
    client = genai.Client(api_key="AIza-test", http_options=options)

    def send() -> None:
        stream = client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
        assert sent == []
        list(stream)

    _as_the_app(send)
    _only_request_in_the_llm_span(telemetry, sent, "streamGenerateContent")
