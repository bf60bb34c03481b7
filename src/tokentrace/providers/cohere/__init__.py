"""Cohere (``cohere`` 5.x and later): the v2 API of ``ClientV2`` / ``AsyncClientV2`` (and
``client.v2``): chat, chat streams, embed and rerank.

The patch points are the raw clients' methods (``RawV2Client.chat`` ...), which send exactly one
request each and are looked up on every call: the public ``Client.chat`` is re-bound on each
client instance when it is constructed (``validate_args``), so patching it would miss clients
created before ``instrument()`` and keep tracing after ``uninstrument()``. ``with_raw_response``
is the raw client itself and is covered the same way.
"""

from __future__ import annotations

from typing import List

from ..base import Patch, ProviderInstrumentor
from ..methods import MethodSpec, async_method, sync_method
from . import extract
from .streams import AsyncStreamContextProxy, SyncStreamContextProxy, stream_wrapper

_LABEL = "Cohere"
_RAW = "cohere.v2.raw_client"

_CHAT = MethodSpec(_LABEL, extract.chat_request(False), extract.fill_chat)
_EMBED = MethodSpec(_LABEL, extract.embed_request, extract.fill_embed)
_RERANK = MethodSpec(_LABEL, extract.rerank_request, extract.fill_rerank)


class CohereInstrumentor(ProviderInstrumentor):
    name = "cohere"
    module = "cohere"

    def patches(self) -> List[Patch]:
        return [
            Patch(_RAW, "RawV2Client.chat", sync_method(_CHAT)),
            Patch(_RAW, "RawV2Client.chat_stream", stream_wrapper(SyncStreamContextProxy)),
            Patch(_RAW, "RawV2Client.embed", sync_method(_EMBED)),
            Patch(_RAW, "RawV2Client.rerank", sync_method(_RERANK)),
            Patch(_RAW, "AsyncRawV2Client.chat", async_method(_CHAT)),
            Patch(_RAW, "AsyncRawV2Client.chat_stream", stream_wrapper(AsyncStreamContextProxy)),
            Patch(_RAW, "AsyncRawV2Client.embed", async_method(_EMBED)),
            Patch(_RAW, "AsyncRawV2Client.rerank", async_method(_RERANK)),
        ]


__all__ = ["CohereInstrumentor"]
