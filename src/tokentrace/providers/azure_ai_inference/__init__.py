"""Azure AI Inference (``azure-ai-inference``): ``ChatCompletionsClient.complete`` (streamed or
not) and ``EmbeddingsClient.embed``, sync (``azure.ai.inference``) and async (``.aio``).

The public methods each send one request through the azure-core pipeline and are the patch
points; the SDK's own opt-in OpenTelemetry tracing (``AIInferenceInstrumentor``) is independent.
"""

from __future__ import annotations

from typing import List

from ..base import Patch, ProviderInstrumentor
from ..methods import MethodSpec, async_method, sync_method
from . import extract
from .streams import StreamState

_LABEL = "Azure AI Inference"
_CHAT = MethodSpec(_LABEL, extract.chat_request, extract.fill_chat, StreamState)
_EMBED = MethodSpec(_LABEL, extract.embed_request, extract.fill_embed)


class AzureAIInferenceInstrumentor(ProviderInstrumentor):
    name = "azure_ai_inference"
    module = "azure.ai.inference"

    def patches(self) -> List[Patch]:
        return [
            Patch("azure.ai.inference._patch", "ChatCompletionsClient.complete", sync_method(_CHAT)),
            Patch("azure.ai.inference._patch", "EmbeddingsClient.embed", sync_method(_EMBED)),
            Patch("azure.ai.inference.aio._patch", "ChatCompletionsClient.complete", async_method(_CHAT)),
            Patch("azure.ai.inference.aio._patch", "EmbeddingsClient.embed", async_method(_EMBED)),
        ]


__all__ = ["AzureAIInferenceInstrumentor"]
