"""Fixtures for the attribution tests: settings reset, real OpenAI clients against the local server."""

from __future__ import annotations

from typing import Iterator

import openai
import pytest

from tokentrace.attribution import settings as attribution_settings, values as attribution_values
from tokentrace.core.safety import reset_reported
from tokentrace.testing import ProviderServer


@pytest.fixture(autouse=True)
def _fresh_attribution_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts from the environment's settings and with every log-once warning forgotten."""
    for name in ("TOKENTRACE_STRICT", "TOKENTRACE_USER_HASH_KEY", "TOKENTRACE_TRUST_INBOUND_BAGGAGE"):
        monkeypatch.delenv(name, raising=False)
    attribution_settings.install(None)
    attribution_values.reset_warnings()
    reset_reported()
    yield
    attribution_settings.install(None)


@pytest.fixture
def client(server: ProviderServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test-attribution", max_retries=0)


@pytest.fixture
def async_client(server: ProviderServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test-attribution", max_retries=0)

