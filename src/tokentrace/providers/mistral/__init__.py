"""Mistral AI (``mistralai``, the ``Mistral`` client of 1.x and ``mistralai.client`` of 2.x/3.x):
chat, FIM (Codestral) and embeddings, sync and async, streamed or not.

The Speakeasy-generated SDK has no transport choke point that still knows the request's meaning,
so each public method that sends one request is patched (``Chat.complete`` ... ``Fim.stream_async``).
``Chat.parse`` and friends call ``complete`` and are covered by it.
"""

from __future__ import annotations

import importlib
from typing import List

from ..base import Patch, ProviderInstrumentor
from ..methods import MethodSpec, async_method, sync_method
from . import extract
from .streams import StreamState

_LABEL = "Mistral"


def _spec(build: object, fill: object) -> MethodSpec:
    return MethodSpec(_LABEL, build, fill, StreamState)  # type: ignore[arg-type]


def _package() -> str:
    """``mistralai.client`` (2.x and later) or ``mistralai`` (1.x)."""
    try:
        importlib.import_module("mistralai.client.chat")
        return "mistralai.client"
    except ImportError:
        return "mistralai"


class MistralInstrumentor(ProviderInstrumentor):
    name = "mistral"
    module = "mistralai"

    def patches(self) -> List[Patch]:
        root = _package()
        chat, fim, embeddings = f"{root}.chat", f"{root}.fim", f"{root}.embeddings"
        return [
            Patch(chat, "Chat.complete", sync_method(_spec(extract.chat_request(False), extract.fill_chat))),
            Patch(chat, "Chat.complete_async", async_method(_spec(extract.chat_request(False), extract.fill_chat))),
            Patch(chat, "Chat.stream", sync_method(_spec(extract.chat_request(True), extract.fill_chat))),
            Patch(chat, "Chat.stream_async", async_method(_spec(extract.chat_request(True), extract.fill_chat))),
            Patch(fim, "Fim.complete", sync_method(_spec(extract.fim_request(False), extract.fill_chat))),
            Patch(fim, "Fim.complete_async", async_method(_spec(extract.fim_request(False), extract.fill_chat))),
            Patch(fim, "Fim.stream", sync_method(_spec(extract.fim_request(True), extract.fill_chat))),
            Patch(fim, "Fim.stream_async", async_method(_spec(extract.fim_request(True), extract.fill_chat))),
            Patch(embeddings, "Embeddings.create", sync_method(_spec(extract.embeddings_request, extract.fill_embeddings))),
            Patch(embeddings, "Embeddings.create_async", async_method(_spec(extract.embeddings_request, extract.fill_embeddings))),
        ]


__all__ = ["MistralInstrumentor"]
