"""Mistral's ``EventStream`` / ``EventStreamAsync`` of ``CompletionEvent`` (chat and FIM).

Each event's ``data`` is a ``CompletionChunk``; the last one carries ``usage``. Per event the work
is a few attribute reads.
"""

from __future__ import annotations

from typing import Any

from ..chunks import ChunkState
from ..values import field
from . import extract


class StreamState(ChunkState):
    label = "Mistral"
    __slots__ = ()

    def read(self, event: Any) -> None:
        choices = extract.read_chunk(self.call.record, field(event, "data"))
        for choice in choices if isinstance(choices, list) else ():
            delta = field(choice, "delta")
            text = field(delta, "content")
            if isinstance(text, str) and text:
                self.texts.append(text)
            reason = field(choice, "finish_reason")
            if isinstance(reason, str) and reason:
                self.reasons.append(reason)
