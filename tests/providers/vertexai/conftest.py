"""Vertex AI SDK fixtures: ``vertexai.init`` over REST to the local provider server.

google-cloud-aiplatform requires google-genai<3, so it lives in ``.ci-work/vertexai-venv``
(``.ci/install-vertexai.sh``); ``test_in_venv.py`` runs this folder there. In an interpreter
without it the SDK tests are not collected (the venv runner is). The SDK speaks gRPC by default;
``api_transport="rest"`` makes it send the REST requests the server speaks. Anonymous
credentials (sync) and their ``google.auth.aio`` twin (async REST) mean no token lookup.
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import Any

import pytest

collect_ignore_glob = [] if importlib.util.find_spec("vertexai") else ["test_vertex_*.py"]

PROJECT = "test-project"
LOCATION = "us-central1"


def init_vertex(server: Any) -> None:
    import vertexai
    from google.auth.aio.credentials import AnonymousCredentials as AsyncAnonymousCredentials
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.aiplatform import initializer

    vertexai.init(project=PROJECT, location=LOCATION, api_transport="rest", api_endpoint=server.url,
                  credentials=AnonymousCredentials())
    # The SDK's async REST transport takes its credentials from here (its own error message says so).
    initializer._set_async_rest_credentials(AsyncAnonymousCredentials())


@pytest.fixture
def model_factory(server: Any) -> Any:
    """``model_factory(name, **options)``: a fresh ``GenerativeModel`` (each has its own clients)."""
    init_vertex(server)
    from vertexai.generative_models import GenerativeModel

    def make(name: str = "gemini-2.5-flash", **options: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SDK's deprecation notice for generative_models
            return GenerativeModel(name, **options)

    return make
