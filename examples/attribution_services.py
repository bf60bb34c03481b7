"""Attribution across two HTTP services with W3C baggage, and kept away from the LLM provider.

Run: ``python examples/attribution_services.py``. A "frontend" sets ``team=search`` and calls an
"agent" service over real HTTP on 127.0.0.1; the agent calls the (local) LLM. With
``trust_inbound_baggage=True`` the agent's LLM span is billed to ``search``; the LLM server never
sees a ``tokentrace.*`` baggage member.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict

import openai
import requests
from opentelemetry import context, propagate
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrace
from tokentrace.testing import ProviderServer


def agent_service(llm: openai.OpenAI) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            # What an OpenTelemetry server instrumentation does: extract the caller's context.
            token = context.attach(propagate.extract(dict(self.headers.items())))
            try:
                with tokentrace.agent_step("answer"):
                    headers: Dict[str, str] = {}
                    propagate.inject(headers)  # forward baggage, as an instrumented HTTP client would
                    llm.chat.completions.create(
                        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_headers=headers
                    )
                body = json.dumps(tokentrace.current_attribution()).encode()
            finally:
                context.detach(token)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main() -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    tokentrace.instrument(tracer_provider=tracer_provider, trust_inbound_baggage=True)
    with ProviderServer() as llm_server:
        agent = agent_service(openai.OpenAI(base_url=llm_server.openai_url, api_key="sk-local"))
        with tokentrace.attribute(team="search", feature="ask"):  # the frontend
            headers: Dict[str, str] = {}
            propagate.inject(headers)
            print("frontend sends baggage:", headers.get("baggage"))
            url = f"http://127.0.0.1:{agent.server_address[1]}/"
            print("agent saw attribution:", requests.get(url, headers=headers, timeout=10).json())
        agent.shutdown()
        print("LLM server got baggage:", llm_server.requests[-1].headers.get("baggage"))
    tokentrace.uninstrument()
    span = next(s for s in exporter.get_finished_spans() if s.name.startswith("chat"))
    print("LLM span billed to team:", span.attributes["tokentrace.team"])


if __name__ == "__main__":
    main()
