"""Fixtures for the ledger tests: real SDK clients against the local provider server."""

from __future__ import annotations

import anthropic
import openai
import pytest


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test-ledger-key-0123456789", max_retries=0)


@pytest.fixture
def claude(server):
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-api03-test-ledger-key-0123456789", max_retries=0)


@pytest.fixture
def ledger_path(tmp_path):
    return tmp_path / "ledger.sqlite"
