"""Google GenAI (``google-genai``): Gemini API and Vertex AI, sync and async, streams and embeddings.

The provider is ``gcp.gemini`` or ``gcp.vertex_ai`` by the client's ``vertexai`` setting. See
:mod:`.wrapper` for why the per-request private methods are the patch points.
"""

from __future__ import annotations

from typing import List

from ..base import Patch, ProviderInstrumentor
from .extract import GENERATE
from .wrapper import (
    async_stream_wrapper,
    async_wrapper,
    build_request_wrapper,
    sync_stream_wrapper,
    sync_wrapper,
)

_MODELS = "google.genai.models"


class GoogleGenAIInstrumentor(ProviderInstrumentor):
    name = "google_genai"
    module = "google.genai"

    def patches(self) -> List[Patch]:
        return [
            Patch(_MODELS, "Models._generate_content", sync_wrapper(GENERATE)),
            Patch(_MODELS, "Models._generate_content_stream", sync_stream_wrapper),
            Patch(_MODELS, "Models._embed_content", sync_wrapper("embeddings")),
            Patch(_MODELS, "AsyncModels._generate_content", async_wrapper(GENERATE)),
            Patch(_MODELS, "AsyncModels._generate_content_stream", async_stream_wrapper),
            Patch(_MODELS, "AsyncModels._embed_content", async_wrapper("embeddings")),
            Patch("google.genai._api_client", "BaseApiClient._build_request", build_request_wrapper),
        ]


__all__ = ["GoogleGenAIInstrumentor"]
