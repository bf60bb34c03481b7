"""Proxies for botocore's ``EventStream`` (ConverseStream and InvokeModelWithResponseStream).

The proxy is a ``wrapt.ObjectProxy`` around the SDK's own ``EventStream``, so the application
keeps every attribute and method; ``iter()`` hands out an iterator that sees each event on its
way to the app. ``EventStream`` lets an app break out of a loop and resume later, so breaking
out does not end the call; it ends when the stream is exhausted, fails, is closed, or when both
the proxy and its iterators are garbage-collected.

Per event the work is small: Converse events are dicts, read by key; InvokeModel chunks are the
model's own JSON as bytes, and only the few chunks that can carry usage, a stop reason or the
invocation metrics are parsed (a substring test decides), unless content capture is on.
"""

from __future__ import annotations

import json
import weakref
from typing import Any, Dict, List, Optional

import wrapt

from ...core import finish_reasons
from ...core.estimate import TextSample
from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from ...records.call import Usage
from .. import flow
from ..anthropic.extract import canonical_usage
from ..proxies import end_safely
from ..values import token_count
from . import extract

_INTERESTING = (
    b'"usage"', b"invocationMetrics", b'"messageStop"', b'"stop_reason"', b'"completionReason"', b'"finish_reason"',
)


class StreamState:
    """What a stream has shown so far; ends the call exactly once."""

    __slots__ = ("call", "pipeline", "capture", "texts", "reason", "native", "metrics_usage", "nova_usage", "seen_first", "sample", "__weakref__")

    def __init__(self, call: Call, pipeline: Pipeline) -> None:
        self.call = call
        self.pipeline = pipeline
        self.capture = pipeline.config.capture_any
        self.texts: List[str] = []
        self.reason: Optional[str] = None
        #: Anthropic usage fields merged across message_start and message_delta.
        self.native: Optional[Dict[str, Any]] = None
        self.metrics_usage: Optional[Usage] = None
        self.nova_usage: Optional[Usage] = None
        self.seen_first = False
        #: Bounded text for a local count if no usage arrives (the whole text only for capture).
        self.sample = TextSample()
        # Weakly: this state ends the call when collected (``__del__``), so the call must not keep
        # it alive; at exit the call still reaches it to settle what is known.
        call.owner = weakref.ref(self)

    def _first(self) -> None:
        if not self.seen_first:
            self.seen_first = True
            self.pipeline.first_chunk(self.call)

    # -- ConverseStream -----------------------------------------------------------------------------

    def observe_converse(self, event: Any) -> None:
        try:
            self._first()
            delta = event.get("contentBlockDelta")
            if delta is not None:
                text = (delta.get("delta") or {}).get("text")
                if text:
                    if self.capture:
                        self.texts.append(text)
                    self.sample.add(text)
                return
            stop = event.get("messageStop")
            if stop is not None:
                self.reason = stop.get("stopReason")
                return
            metadata = event.get("metadata")
            if metadata is not None:
                self.call.record.usage = extract.converse_usage(metadata.get("usage"))
                tier = metadata.get("serviceTier")
                if isinstance(tier, dict) and isinstance(tier.get("type"), str):
                    self.call.record.service_tier = tier["type"]
        except Exception as exc:
            report("Bedrock ConverseStream event", exc)

    # -- InvokeModelWithResponseStream --------------------------------------------------------------

    def observe_invoke(self, event: Any) -> None:
        try:
            self._first()
            chunk = event.get("chunk")
            data = chunk.get("bytes") if chunk is not None else None
            if not data:
                return
            if not self.capture and not any(marker in data for marker in _INTERESTING):
                return
            payload = json.loads(data)
            if isinstance(payload, dict):
                self._invoke_payload(payload)
        except Exception as exc:
            report("Bedrock InvokeModelWithResponseStream chunk", exc)

    def _invoke_payload(self, payload: Dict[str, Any]) -> None:
        kind = payload.get("type")
        if kind == "message_start":  # Anthropic
            message = payload.get("message") or {}
            if isinstance(message.get("id"), str):
                self.call.record.response_id = message["id"]
            self._merge_native(message.get("usage"))
        elif kind == "message_delta":
            self._merge_native(payload.get("usage"))
            self._reason((payload.get("delta") or {}).get("stop_reason"))
        elif kind == "content_block_delta":
            self._text((payload.get("delta") or {}).get("text"))
        elif "messageStop" in payload:  # Nova
            self._reason((payload.get("messageStop") or {}).get("stopReason"))
        elif "contentBlockDelta" in payload:
            self._text(((payload.get("contentBlockDelta") or {}).get("delta") or {}).get("text"))
        elif "generation" in payload:  # Llama
            self._text(payload.get("generation"))
            self._reason(payload.get("stop_reason"))
        elif isinstance(payload.get("outputs"), list):  # Mistral
            for output in payload["outputs"]:
                if isinstance(output, dict):
                    self._text(output.get("text"))
                    self._reason(output.get("stop_reason"))
        elif "outputText" in payload:  # Amazon Titan Text
            self._text(payload.get("outputText"))
            self._reason(payload.get("completionReason"))
        elif isinstance(payload.get("completion"), str):  # Anthropic text completions (Claude v2)
            self._text(payload["completion"])
            self._reason(payload.get("stop_reason"))
        elif "is_finished" in payload:  # Cohere Command
            self._text(payload.get("text"))
            self._reason(payload.get("finish_reason"))
        elif isinstance(payload.get("choices"), list):  # imported, OpenAI-shaped
            for choice in payload["choices"]:
                if isinstance(choice, dict):
                    delta = choice.get("delta")
                    self._text(delta.get("content") if isinstance(delta, dict) else choice.get("text"))
                    self._reason(choice.get("finish_reason"))
            usage = payload.get("usage")
            if isinstance(usage, dict) and "prompt_tokens" in usage:
                self.nova_usage = Usage(
                    input_tokens=token_count(usage.get("prompt_tokens")), output_tokens=token_count(usage.get("completion_tokens"))
                )
        metadata = payload.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("usage"), dict):
            self.nova_usage = extract.nova_usage(metadata["usage"])
        metrics = payload.get("amazon-bedrock-invocationMetrics")
        if metrics is not None:
            self.metrics_usage = extract.invocation_metrics_usage(metrics)

    def _merge_native(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        if self.native is None:
            self.native = {}
        self.native.update({k: v for k, v in usage.items() if v is not None})

    def _reason(self, reason: Any) -> None:
        if isinstance(reason, str):
            self.reason = reason

    def _text(self, text: Any) -> None:
        if isinstance(text, str) and text:
            if self.capture:
                self.texts.append(text)
            self.sample.add(text)

    # -- end ----------------------------------------------------------------------------------------

    def end(self, error: Optional[BaseException] = None) -> None:
        try:
            record = self.call.record
            record.response_model = record.sent_model  # the model sent (a policy's rewrite)
            native = canonical_usage(self.native) if self.native is not None and "input_tokens" in self.native else None
            if self.metrics_usage is not None:
                # What Bedrock bills; a body's own count (Claude's message_delta) can differ.
                record.usage = self.metrics_usage
                if native is not None:
                    record.usage.cache_write_long_tokens = min(native.cache_write_long_tokens, record.usage.cache_write_tokens)
            elif native is not None:
                record.usage = native
            elif self.nova_usage is not None:
                record.usage = self.nova_usage
            if self.reason:
                finish_reasons.apply(record, [self.reason])
            if self.capture and self.texts:
                reason = record.finish_reasons[0] if record.finish_reasons else None
                record.output_messages = [extract.output_message("".join(self.texts), reason)]
            if record.usage is None and error is None and self.sample.total and self.pipeline.config.estimate_usage:
                record.estimate_output_text = self.sample.text()
                record.estimate_output_chars = self.sample.total
                record.estimate_input_text = record.prompt_text() if record.prompt_text else ""
        except Exception as exc:
            report("Bedrock stream end", exc)
        if error is None:
            flow.finish(self.pipeline, self.call, "Bedrock")
        else:
            flow.fail(self.pipeline, self.call, error, "Bedrock")

    def __del__(self) -> None:
        end_safely(self)


class _EventIterator:
    """The iterator ``iter(proxy)`` returns: each event goes through ``observe`` first."""

    __slots__ = ("_events", "_state", "_observe")

    def __init__(self, events: Any, state: StreamState, converse: bool) -> None:
        self._events = events
        self._state = state
        self._observe = state.observe_converse if converse else state.observe_invoke

    def __iter__(self) -> _EventIterator:
        return self

    def __next__(self) -> Any:
        try:
            event = next(self._events)
        except StopIteration:
            end_safely(self._state)
            raise
        except BaseException as exc:
            end_safely(self._state, exc)
            raise
        try:
            self._observe(event)
        except Exception as exc:
            report("Bedrock stream event", exc)
        return event


class EventStreamProxy(wrapt.ObjectProxy):
    """Wraps ``botocore.eventstream.EventStream`` in the response's ``stream`` / ``body``."""

    def __init__(self, stream: Any, state: StreamState, converse: bool) -> None:
        super().__init__(stream)
        self._self_state = state
        self._self_converse = converse

    def __iter__(self) -> _EventIterator:
        return _EventIterator(iter(self.__wrapped__), self._self_state, self._self_converse)

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            end_safely(self._self_state)
