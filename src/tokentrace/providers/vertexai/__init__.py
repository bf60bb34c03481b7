"""The Vertex AI SDK (``google-cloud-aiplatform``'s ``vertexai.generative_models``).

``GenerativeModel.generate_content`` / ``generate_content_async`` (``stream=True`` too) and
``ChatSession.send_message`` all send each request through four per-request methods of the base
``_GenerativeModel`` (``_generate_content``, ``_generate_content_streaming`` and their async
twins), which the GA and preview ``GenerativeModel`` classes inherit: those are patched, so
automatic function calling gets one span per billed request. ``count_tokens`` is not billed
and not traced. Usage follows the google-genai adapter's rules (same translation); the
provider is ``gcp.vertex_ai``.
"""

from __future__ import annotations

from typing import List

from ..base import Patch, ProviderInstrumentor
from .wrapper import async_stream_wrapper, async_wrapper, sync_stream_wrapper, sync_wrapper

_MODELS = "vertexai.generative_models._generative_models"


class VertexAIInstrumentor(ProviderInstrumentor):
    name = "vertexai"
    module = "vertexai"

    def patches(self) -> List[Patch]:
        return [
            Patch(_MODELS, "_GenerativeModel._generate_content", sync_wrapper),
            Patch(_MODELS, "_GenerativeModel._generate_content_streaming", sync_stream_wrapper),
            Patch(_MODELS, "_GenerativeModel._generate_content_async", async_wrapper),
            Patch(_MODELS, "_GenerativeModel._generate_content_streaming_async", async_stream_wrapper),
        ]


__all__ = ["VertexAIInstrumentor"]
