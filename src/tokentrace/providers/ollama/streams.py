"""Ollama streams: the (async) generators of parts ``Client._request(stream=True)`` returns.

Ollama streams newline-delimited JSON; each part carries a piece of text and the last one
(``done: true``) the counts, timings and ``done_reason``, so per part the work is one text read.
"""

from __future__ import annotations

from typing import Any

from ..chunks import ChunkState
from ..values import field
from . import extract


class StreamState(ChunkState):
    label = "Ollama"
    __slots__ = ()

    def read(self, part: Any) -> None:
        text = extract.text_of(part)
        if text:
            self.texts.append(text)
        if field(part, "done") is True:
            extract.fill(self.call.record, part, False)
            self.reasons = list(self.call.record.finish_reasons)
