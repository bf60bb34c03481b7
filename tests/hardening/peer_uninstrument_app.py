"""Runs in the peers venv: another OpenAI instrumentation uninstruments while tokentrace stays on.

``python peer_uninstrument_app.py PEER ORDER`` (as ``coexist_app.py``). OpenInference's
``uninstrument()`` puts a plain ``request`` on ``openai.OpenAI`` (the base method it captured),
which shadows tokentrace's patch on ``SyncAPIClient.request``. Prints one JSON object: the scopes
of the spans of each step, for a client and its resources built before the peer left and for a
new client, whether a budget still blocks, and what re-instrumenting gives.
"""

from __future__ import annotations

import asyncio
import json
import sys

import openai
import peer_setup  # beside this script: its directory is on sys.path

import tokentrace
from tokentrace.testing import ProviderServer

PEER, ORDER = sys.argv[1], sys.argv[2]
exporter, provider = peer_setup.tracing()

other = peer_setup.instrument_with_peer(PEER, ORDER, provider)

server = ProviderServer().start()
REQUEST = dict(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
early = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
loop = asyncio.new_event_loop()  # one loop: the async client keeps its connections
early_async = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


def scopes() -> dict:
    return peer_setup.scopes(exporter)


def calls() -> dict:
    """One sync call on the early client, one async, one on a client built now."""
    early.chat.completions.create(**REQUEST)
    loop.run_until_complete(early_async.chat.completions.create(**REQUEST))
    openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0).chat.completions.create(**REQUEST)
    return scopes()


def blocked() -> object:
    before = len(server.requests)
    try:
        with tokentrace.budget(usd=0):
            early.chat.completions.create(**REQUEST)
    except tokentrace.BudgetExceeded:
        return len(server.requests) == before
    finally:
        scopes()
    return False


result = {"both": calls()}
other.uninstrument()
result["after_peer_uninstrument"] = calls()
result["blocked_after_peer_uninstrument"] = blocked()
tokentrace.uninstrument()
result["after_both_uninstrument"] = calls()
tokentrace.instrument(tracer_provider=provider, providers=["openai"])
result["reinstrumented"] = calls()
tokentrace.uninstrument()
result["shadowing_left"] = sorted(k for k in ("request",) if k in vars(openai.OpenAI) and "tokentrace" in type(vars(openai.OpenAI)[k]).__module__)
server.stop()
print(json.dumps(result))
