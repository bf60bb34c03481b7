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
import peer_setup  # beside this script: its directory is on sys.path

import tokentrace
from tokentrace.testing import ProviderServer

PEER, ORDER = sys.argv[1], sys.argv[2]

exporter, provider = peer_setup.tracing()

warnings: list = []


class Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        warnings.append(record.getMessage())


logging.getLogger("tokentrace").addHandler(Collect(level=logging.WARNING))


other = peer_setup.instrument_with_peer(PEER, ORDER, provider)

server = ProviderServer().start()
client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
REQUEST = dict(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def scopes() -> dict:
    return peer_setup.scopes(exporter)


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
