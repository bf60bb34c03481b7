"""Proxies for the generators ``Models._generate_content_stream`` (sync and async) return.

The proxy is a ``wrapt.ObjectProxy`` around the SDK's own generator, so ``send``/``throw`` and
every attribute stay as they are; iteration and ``close()``/``aclose()`` pass through tokentrace.
Gemini sends ``usage_metadata`` on every chunk and the complete counts on the last, so per
chunk the work is keeping a reference to the latest one; it is read once, when the call ends
(exhausted, closed, failed, or the proxy garbage-collected).
"""

from __future__ import annotations

from typing import Any, List, Optional

from ...core import finish_reasons
from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from .. import flow
from . import extract


class StreamState:
    __slots__ = ("call", "pipeline", "capture", "texts", "metadata", "reasons", "seen_first")

    def __init__(self, call: Call, pipeline: Pipeline) -> None:
        self.call = call
        self.pipeline = pipeline
        self.capture = pipeline.config.capture_any
        self.texts: List[str] = []
        self.metadata: Any = None
        self.reasons: List[str] = []
        self.seen_first = False

    def observe(self, chunk: Any) -> None:
        try:
            if not self.seen_first:
                self.seen_first = True
                self.pipeline.first_chunk(self.call)
                record = self.call.record
                record.response_model = extract.model_name(chunk.model_version) or record.request_model
                if isinstance(chunk.response_id, str):
                    record.response_id = chunk.response_id
            metadata = chunk.usage_metadata
            if metadata is not None:
                self.metadata = metadata
            candidates = chunk.candidates
            if candidates:
                if candidates[0].finish_reason is not None:
                    self.reasons = extract.raw_finish_reasons(chunk)
                if self.capture:
                    self.texts.append(extract.candidate_text(chunk))
        except Exception as exc:
            report("Gemini stream chunk", exc)

    def end(self, error: Optional[BaseException] = None) -> None:
        try:
            record = self.call.record
            record.usage = extract.usage(self.metadata)
            record.service_tier = extract.service_tier(self.metadata)
            finish_reasons.apply(record, self.reasons)
            if self.capture and self.texts:
                reason = record.finish_reasons[0] if record.finish_reasons else None
                record.output_messages = [extract.output_message("".join(self.texts), reason)]
        except Exception as exc:
            report("Gemini stream end", exc)
        if error is None:
            flow.finish(self.pipeline, self.call, "Gemini")
        else:
            flow.fail(self.pipeline, self.call, error, "Gemini")

