"""google-genai fixtures: real clients (Gemini API and Vertex AI) pointed at the local server.

Vertex runs offline with a static OAuth token (``google.oauth2.credentials.Credentials``), so
no Application Default Credentials lookup or token refresh happens. Retries are off.
"""

from __future__ import annotations

from typing import Any

import pytest
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

from tokentrace.testing import ProviderServer

API_KEY = "AIzaSyD-test-key-never-in-telemetry"
TOKEN = "ya29.test-token-never-in-telemetry"


def _options(server: ProviderServer) -> types.HttpOptions:
    return types.HttpOptions(base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1))


@pytest.fixture
def gemini(server: ProviderServer) -> Any:
    return genai.Client(api_key=API_KEY, http_options=_options(server))


@pytest.fixture
def vertex(server: ProviderServer) -> Any:
    return genai.Client(
        vertexai=True,
        project="test-project",
        location="us-central1",
        credentials=Credentials(token=TOKEN),
        http_options=_options(server),
    )
