"""Azure AI Inference's ``StreamingChatCompletions`` (a context manager closed with ``close()``)
and ``AsyncStreamingChatCompletions`` (an async context manager closed with ``aclose()``)."""

from __future__ import annotations

from typing import Any

from ..chunks import ChunkState
from ..values import field
from . import extract


class StreamState(ChunkState):
    label = "Azure AI Inference"
    __slots__ = ()

    def read(self, update: Any) -> None:
        choices = extract.read_update(self.call.record, update)
        for choice in choices if isinstance(choices, list) else ():
            text = field(field(choice, "delta"), "content")
            if isinstance(text, str) and text:
                self.texts.append(text)
            reason = field(choice, "finish_reason")
            if isinstance(reason, str) and reason:
                self.reasons.append(str(getattr(reason, "value", reason)))
