"""The google-genai stream state, reading the protobuf message inside each Vertex AI SDK chunk.

Every chunk has ``usage_metadata`` and candidates (protobuf defaults when unsent), so usage is
kept only from chunks that carry it and finish reasons only once one is specified.
"""

from __future__ import annotations

from typing import Any

from ...core.safety import report
from ..google_genai import extract as genai
from ..google_genai.streams import StreamState
from .extract import raw_response


class VertexStreamState(StreamState):
    __slots__ = ()

    def observe(self, chunk: Any) -> None:
        try:
            raw = raw_response(chunk)
            if not self.seen_first:
                self.seen_first = True
                self.pipeline.first_chunk(self.call)
                record = self.call.record
                record.response_model = genai.model_name(raw.model_version) or record.request_model
                if raw.response_id:
                    record.response_id = raw.response_id
            if "usage_metadata" in raw:
                self.metadata = raw.usage_metadata
            reasons = genai.raw_finish_reasons(raw)
            if reasons:
                self.reasons = reasons
            if self.capture:
                self.texts.append(genai.candidate_text(raw))
        except Exception as exc:
            report("Vertex AI stream chunk", exc)
