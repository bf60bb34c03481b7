"""Runs in the peers venv: tokentrace beside another OpenAI instrumentation, in a given order.

``python coexist_app.py PEER ORDER`` with PEER one of ``openinference``, ``otel-v2``,
``openllmetry`` and ORDER ``peer-first`` or ``tokentrace-first``. Prints one JSON object: the
spans of each scope for a plain call, whether a call inside ``tokentrace.budget(usd=0)`` reached
the server, tokentrace's warnings, and the spans after ``tokentrace.uninstrument()``.
"""

from __future__ import annotations

import json
import logging
import sys

import openai
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrace
from tokentrace.testing import ProviderServer

PEER, ORDER = sys.argv[1], sys.argv[2]

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

warnings: list = []


class Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        warnings.append(record.getMessage())


logging.getLogger("tokentrace").addHandler(Collect(level=logging.WARNING))


def peer() -> object:
    if PEER == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor
    elif PEER == "otel-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    else:
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor
    return OpenAIInstrumentor()


other = peer()
if ORDER == "peer-first":
    other.instrument(tracer_provider=provider)
    tokentrace.instrument(tracer_provider=provider, providers=["openai"])
else:
    tokentrace.instrument(tracer_provider=provider, providers=["openai"])
    other.instrument(tracer_provider=provider)

server = ProviderServer().start()
client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
REQUEST = dict(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def scopes() -> dict:
    found: dict = {}
    for span in exporter.get_finished_spans():
        scope = span.instrumentation_scope.name if span.instrumentation_scope else "?"
        found.setdefault(scope, []).append(span.name)
    exporter.clear()
    return found


client.chat.completions.create(**REQUEST)
plain = scopes()

before = len(server.requests)
blocked = None
try:
    with tokentrace.budget(usd=0):
        client.chat.completions.create(**REQUEST)
except tokentrace.BudgetExceeded:
    blocked = True
except Exception as exc:  # pragma: no cover - reported in the output
    blocked = f"{type(exc).__name__}: {exc}"
sent_despite_budget = len(server.requests) > before
scopes()

tokentrace.uninstrument()
client.chat.completions.create(**REQUEST)
after_uninstrument = scopes()
server.stop()
print(json.dumps({
    "plain": plain,
    "blocked": blocked,
    "sent_despite_budget": sent_despite_budget,
    "warnings": [w for w in warnings if "another instrumentation" in w],
    "after_uninstrument": after_uninstrument,
}))
