"""Run in the httpinstr venv (real OpenTelemetry HTTP instrumentations) by test_transport_baggage.py.

Drives google-genai over classic httpx (``GOOGLE_GENAI_HTTP_CLIENT=httpx``) and, async, over
aiohttp, boto3 Bedrock, plain requests, urllib3 and aiohttp against the local provider server,
with the real httpx, requests, urllib3, botocore and aiohttp-client instrumentations injecting
baggage; prints, as JSON, the ``baggage`` header each server
received per request path and how the HTTP client spans are parented.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

os.environ["GOOGLE_GENAI_HTTP_CLIENT"] = "httpx"

import aiohttp  # noqa: E402
import boto3  # noqa: E402
import httpx  # noqa: E402
import requests  # noqa: E402
import urllib3  # noqa: E402
from app_service import AppService  # noqa: E402  (next to this script)
from botocore.config import Config as BotoConfig  # noqa: E402
from google import genai  # noqa: E402
from google.genai import types  # noqa: E402
from opentelemetry import baggage, context  # noqa: E402
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor  # noqa: E402
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor  # noqa: E402
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor  # noqa: E402
from opentelemetry.instrumentation.requests import RequestsInstrumentor  # noqa: E402
from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

import tokentrace  # noqa: E402
from tokentrace.testing import ProviderServer  # noqa: E402


async def _over_aiohttp(gemini: Any, provider_url: str, app_url: str) -> int:
    """google-genai's async client (aiohttp), a lazily started async stream, plain aiohttp requests."""
    with tokentrace.attribute(team="payments", feature="refund-bot", tenant="acme-corp"):
        await gemini.aio.models.generate_content(model="gemini-2.5-flash", contents="hi")
        stream = await gemini.aio.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
    chunks = [chunk async for chunk in stream]  # the request goes out here, outside the scope
    with tokentrace.attribute(team="payments", feature="refund-bot", tenant="acme-corp"):
        async with aiohttp.ClientSession() as session:
            async with session.get(provider_url + "/v1/untraced-by-aiohttp") as response:
                await response.read()
            async with session.get(app_url) as response:
                await response.read()
    await gemini.aio.aclose()
    return len(chunks)


def main() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    RequestsInstrumentor().instrument(tracer_provider=provider)
    URLLib3Instrumentor().instrument(tracer_provider=provider)
    AioHttpClientInstrumentor().instrument(tracer_provider=provider)
    if os.environ.get("TRANSPORT_WORKER_NO_GUARD"):  # the negative control: show the leak without the guard
        from tokentrace import providers

        providers.TRANSPORT_PACKAGES = ()  # neither now nor when an HTTP package is imported later
    tokentrace.instrument(tracer_provider=provider, configure_sdk=False)
    # After tokentrace: its unwrap() at uninstrument() below then puts tokentrace's wrapper back.
    # (Before tokentrace, unwrap() replaces tokentrace's wrapper with its own: see the report of #13.)
    BotocoreInstrumentor().instrument(tracer_provider=provider)

    app = AppService()
    with ProviderServer() as server:
        gemini = genai.Client(
            api_key="AIza-test", http_options=types.HttpOptions(base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1))
        )
        bedrock = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            config=BotoConfig(retries={"total_max_attempts": 1}),
        )
        # Baggage from a calling service, attribution included (and a raw user id).
        inbound = context.get_current()
        for key, value in (("tokentrace.user", "bob%40example.com"), ("tokentrace.team", "evil"), ("session", "s-1")):
            inbound = baggage.set_baggage(key, value, inbound)
        token = context.attach(inbound)
        try:
            # Inbound baggage only, no local scope: nothing of it may reach a provider.
            gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
            with tokentrace.attribute(team="payments", feature="refund-bot", tenant="acme-corp"):
                stream = gemini.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
                chunks = list(stream)
                bedrock.converse(modelId="anthropic.claude-3-haiku-20240307-v1:0", messages=[{"role": "user", "content": [{"text": "hi"}]}])
                # Without the botocore instrumentation's own span, the urllib3 one injects baggage
                # into botocore's request after SigV4 signing.
                BotocoreInstrumentor().uninstrument()
                bedrock.converse(modelId="anthropic.claude-3-haiku-20240307-v1:0", messages=[{"role": "user", "content": [{"text": "hi"}]}])
                httpx.get(server.url + "/v1/untraced-by-httpx", timeout=10)
                requests.get(server.url + "/v1/untraced-by-requests", timeout=10)
                urllib3.PoolManager().request("GET", server.url + "/v1/untraced-by-urllib3", timeout=10)
                requests.get(app.url, timeout=10)
            async_chunks = asyncio.run(_over_aiohttp(gemini, server.url, app.url))
        finally:
            context.detach(token)
    tokentrace.uninstrument()

    spans = exporter.get_finished_spans()
    llm = {s.context.span_id: s.name for s in spans if s.attributes.get("gen_ai.operation.name")}
    http = [
        {"name": s.name, "parent_llm": llm.get(s.parent.span_id) if s.parent else None}
        for s in spans
        if s.kind.name == "CLIENT" and not s.attributes.get("gen_ai.operation.name")
    ]
    print(
        json.dumps(
            {
                "chunks": len(chunks),
                "async_chunks": async_chunks,
                "provider": [{"path": r.path, "baggage": r.headers.get("baggage")} for r in server.requests],
                "app": app.baggage,
                "http_spans": http,
                "llm_spans": sorted(llm.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
    sys.stdout.flush()
