"""Ollama (``ollama`` Python client): chat, generate and embed, sync and async, streamed or not.

Patched at ``Client._request`` / ``AsyncClient._request``, the one method every API call goes
through with its path and JSON body: ``chat``, ``generate``, ``embed`` and ``embeddings`` are
traced, model management (``pull``, ``list``, ``show`` ...) passes straight through. Ollama's own
OpenAI-compatible endpoint (``/v1``, port 11434) reached through the ``openai`` SDK is the OpenAI
adapter's, with the same provider name ``ollama``.
"""

from __future__ import annotations

from typing import List

from ..base import Patch, ProviderInstrumentor
from ..methods import MethodSpec, async_method, sync_method
from . import extract
from .streams import StreamState

_SPEC = MethodSpec("Ollama", extract.request_record, extract.fill, StreamState)


class OllamaInstrumentor(ProviderInstrumentor):
    name = "ollama"
    module = "ollama"

    def patches(self) -> List[Patch]:
        return [
            Patch("ollama._client", "Client._request", sync_method(_SPEC)),
            Patch("ollama._client", "AsyncClient._request", async_method(_SPEC)),
        ]


__all__ = ["OllamaInstrumentor"]
