"""Another instrumentation's leftovers on ``openai.OpenAI.request`` never make tokentrace blind.

What OpenInference does, done here with wrapt: it keeps ``openai.OpenAI.request`` (the base
class's function, read before wrapping), wraps ``OpenAI.request``, and its ``uninstrument()``
assigns the kept function back. That plain function on the subclass shadows tokentrace's patch on
``SyncAPIClient.request``. (The real package: tests/hardening/test_coexistence.py.)
"""

from __future__ import annotations

from typing import Any, Iterator

import openai
import pytest
import wrapt

import tokentrace
from tokentrace.testing import ProviderServer

REQUEST = dict(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])


def _passthrough(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    return wrapped(*args, **kwargs)


@pytest.fixture
def peer() -> Iterator[Any]:
    """A peer's instrument() (the returned function is its uninstrument())."""
    kept = openai.OpenAI.request
    wrapt.wrap_function_wrapper("openai", "OpenAI.request", _passthrough)

    def uninstrument() -> None:
        openai.OpenAI.request = kept  # type: ignore[method-assign]

    yield uninstrument
    if "request" in vars(openai.OpenAI):
        del openai.OpenAI.request


def test_peer_uninstrument_after_tokentrace_leaves_no_blind_call(instrument: Any, server: ProviderServer, peer: Any) -> None:
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    client.chat.completions.create(**REQUEST)
    peer()  # leaves the plain base function on openai.OpenAI
    assert vars(openai.OpenAI)["request"] is vars(openai._base_client.SyncAPIClient)["request"].__wrapped__
    client.chat.completions.create(**REQUEST)  # the very next call is seen
    openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0).chat.completions.create(**REQUEST)
    assert len(telemetry.llm_spans()) == 3
    with pytest.raises(tokentrace.BudgetExceeded):
        with tokentrace.budget(usd=0):
            client.chat.completions.create(**REQUEST)
    sent = len(server.requests)
    tokentrace.uninstrument()
    # What the peer left is what stays: its plain function, no tokentrace wrapper.
    assert vars(openai.OpenAI)["request"] is vars(openai._base_client.SyncAPIClient)["request"]
    client.chat.completions.create(**REQUEST)
    assert len(server.requests) == sent + 1 and len(telemetry.llm_spans()) == 4  # the blocked call's span, no new one


def test_reinstrument_after_a_peer_kept_an_old_tokentrace_wrapper(instrument: Any, server: ProviderServer) -> None:
    """tokentrace first, then the peer (which keeps tokentrace's wrapper as "the original"), the
    peer leaves, tokentrace cycles: the old, switched-off wrapper on openai.OpenAI is not a dead end."""
    instrument()
    kept = openai.OpenAI.request  # tokentrace's wrapper, bound to the class
    openai.OpenAI.request = kept  # type: ignore[method-assign]  # the peer's uninstrument()
    try:
        telemetry = instrument()  # uninstrument() + instrument()
        openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0).chat.completions.create(**REQUEST)
        assert len(telemetry.llm_spans()) == 1
    finally:
        if "request" in vars(openai.OpenAI):
            del openai.OpenAI.request
