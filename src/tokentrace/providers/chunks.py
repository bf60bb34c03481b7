"""The stream state most per-method adapters share (see :mod:`.methods`).

A subclass reads one item (:meth:`ChunkState.read`); this base keeps first-chunk timing, the
streamed text (for opted-in capture, or local estimation when the stream reports no usage) and
ends the call exactly once through the guarded :mod:`.flow`.
"""

from __future__ import annotations

from typing import Any, List, Optional

from ..core import finish_reasons
from ..core.pipeline import Call, Pipeline
from ..core.safety import report
from . import flow


class ChunkState:
    """Base stream state: first-chunk timing, text kept for estimation or capture, one end.

    Subclasses implement :meth:`read` (one item: usage, model, finish reason, text) and may
    extend :meth:`settle` (the record's last touches before the call ends).
    """

    label = "provider"
    __slots__ = ("call", "pipeline", "capture", "texts", "reasons", "seen_first")

    def __init__(self, call: Call, pipeline: Pipeline) -> None:
        self.call = call
        self.pipeline = pipeline
        self.capture = pipeline.config.capture_any
        self.texts: List[str] = []
        self.reasons: List[str] = []
        self.seen_first = False

    def observe(self, item: Any) -> None:
        if not self.seen_first:
            self.seen_first = True
            self.pipeline.first_chunk(self.call)
        self.read(item)

    def read(self, item: Any) -> None:
        raise NotImplementedError

    def settle(self) -> None:
        record = self.call.record
        if self.reasons:
            # The provider's own values, normalized to the conventions' (Cohere's COMPLETE -> stop).
            finish_reasons.apply(record, self.reasons)
        if self.capture and self.texts and not record.output_messages:
            reason = record.finish_reasons[0] if record.finish_reasons else "stop"
            record.output_messages = [{"role": "assistant", "parts": [{"type": "text", "content": "".join(self.texts)}], "finish_reason": reason}]
        if record.usage is None and self.pipeline.config.estimate_usage:
            record.estimate_output_text = "".join(self.texts)
            record.estimate_input_text = record.prompt_text() if record.prompt_text else ""

    def end(self, error: Optional[BaseException] = None) -> None:
        try:
            self.settle()
        except Exception as exc:
            report(f"{self.label} stream end", exc)
        if error is None:
            flow.finish(self.pipeline, self.call, self.label)
        else:
            flow.fail(self.pipeline, self.call, error, self.label)
