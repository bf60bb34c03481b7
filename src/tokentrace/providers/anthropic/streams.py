"""Stream and raw-response proxies for the Anthropic SDK.

A proxy is a ``wrapt.ObjectProxy`` around the SDK's own ``Stream`` / ``AsyncStream``, so the
application (and the SDK's own ``MessageStream`` helper, which reads the raw stream through it:
``text_stream``, ``get_final_message()``, ``until_done()``) keeps every attribute and method, and
sees exactly the events it would see without tokentrace. Per event the work is one attribute read
and a few comparisons; only ``message_start`` and ``message_delta`` (model, usage, stop reason)
are read further, and delta text is kept only when content capture is on or the stream turned
out to carry no usage (then it is counted locally, off the hot path).

Usage in a stream: ``message_start`` carries the input and cache counts, ``message_delta`` the
*cumulative* output count (and, on the current API, the input and cache counts again). Fields
are merged, the last value winning, never summed.

The call ends exactly once: when the stream is exhausted, closed, fails, or the proxy is
garbage-collected.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ...core.estimate import TextSample
from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from .. import flow
from ..proxies import AsyncStreamProxy, SyncStreamProxy
from . import extract


class StreamState:
    """What a stream has shown so far."""

    __slots__ = ("call", "pipeline", "capture", "collect", "usage", "texts", "thinking", "sample", "stop_reason", "first")

    def __init__(self, call: Call, pipeline: Pipeline) -> None:
        self.call = call
        self.pipeline = pipeline
        self.capture = pipeline.config.capture_any
        #: Keep the whole delta text: only for content capture.
        self.collect = self.capture
        self.usage: Dict[str, Any] = {}
        self.texts: List[str] = []
        self.thinking: List[str] = []
        #: Bounded text for a local count, until ``message_start`` shows the stream reports usage.
        self.sample = TextSample()
        self.stop_reason: Optional[str] = None
        self.first = True

    def observe(self, event: Any) -> None:
        try:
            if self.first:  # the first chunk of any kind, as on every adapter
                self.first = False
                self.pipeline.first_chunk(self.call)
            kind = event.type
            if kind == "content_block_delta":
                if self.collect:
                    self._collect(event.delta)
                if not self.usage:
                    self._count(event.delta)
            elif kind == "message_start":
                message = event.message
                extract.fill_identity(self.call.record, message)
                self.usage.update(extract.usage_fields(getattr(message, "usage", None)))
                if self.usage:
                    self.sample.stop_keeping()
            elif kind == "message_delta":
                reason = getattr(event.delta, "stop_reason", None)
                if reason:
                    self.stop_reason = reason
                self.usage.update(extract.usage_fields(getattr(event, "usage", None)))
        except Exception as exc:
            report("Anthropic stream event", exc)

    def wants_trailing(self) -> bool:
        """Closed (or stopped by the ``.stream()`` helper's error) after ``message_start`` but
        before ``message_delta``, which carries the billed output count: read it if it arrived."""
        return bool(self.usage) and self.stop_reason is None and not self.call.ended

    def _collect(self, delta: Any) -> None:
        kind = getattr(delta, "type", None)
        if kind == "text_delta":
            self.texts.append(delta.text)
        elif kind == "thinking_delta":
            self.thinking.append(delta.thinking)

    def _count(self, delta: Any) -> None:
        kind = getattr(delta, "type", None)
        if kind == "text_delta":
            self.sample.add(delta.text)
        elif kind == "thinking_delta":
            self.sample.add(delta.thinking)

    def end(self, error: Optional[BaseException] = None) -> None:
        try:
            record = self.call.record
            if self.usage:
                extract.fill_usage(record, self.usage)
            extract.fill_stop_reason(record, self.stop_reason)
            if self.capture and (self.texts or self.thinking):
                blocks = []
                if self.thinking:
                    blocks.append({"type": "thinking", "thinking": "".join(self.thinking)})
                blocks.append({"type": "text", "text": "".join(self.texts)})
                reason = record.finish_reasons[0] if record.finish_reasons else "stop"
                record.output_messages = [extract.output_message(blocks, reason)]
            if record.usage is None and self.pipeline.config.estimate_usage:
                record.estimate_output_text = self.sample.text()
                record.estimate_output_chars = self.sample.total
                record.estimate_input_text = record.prompt_text() if record.prompt_text else ""
        except Exception as exc:
            report("Anthropic stream end", exc)
        if error is None:
            flow.finish(self.pipeline, self.call, "Anthropic")
        else:
            flow.fail(self.pipeline, self.call, error, "Anthropic")


_SDK_TYPES: List[Any] = []


def _sdk_types() -> Tuple[Any, Any, Any]:
    """(Stream, AsyncStream, BaseAPIResponse), imported once, not on every call."""
    if not _SDK_TYPES:
        from anthropic import AsyncStream, Stream
        from anthropic._response import BaseAPIResponse

        _SDK_TYPES.append((Stream, AsyncStream, BaseAPIResponse))
    return _SDK_TYPES[0]  # type: ignore[no-any-return]


class ResultHandler:
    """Turns what the SDK's ``request`` returned into telemetry, and into what the app receives."""

    __slots__ = ("call", "pipeline")

    def __init__(self, call: Call, pipeline: Pipeline) -> None:
        self.call = call
        self.pipeline = pipeline

    def wrap_stream(self, value: Any) -> Any:
        """A proxy for an SDK stream; ``None`` when ``value`` is not one."""
        Stream, AsyncStream, _ = _sdk_types()

        if isinstance(value, Stream):
            return SyncStreamProxy(value, StreamState(self.call, self.pipeline))
        if isinstance(value, AsyncStream):
            return AsyncStreamProxy(value, StreamState(self.call, self.pipeline))
        return None

    def is_raw(self, value: Any) -> bool:
        return isinstance(value, _sdk_types()[2])

    def read_now(self, raw: Any) -> bool:
        """Whether a raw response's body is already read (``with_raw_response`` of a non-stream
        call), so parsing it now costs nothing the app would not pay: ``parse()`` caches."""
        return not self.call.record.stream and bool(getattr(raw.http_response, "is_closed", False))

    def complete(self, message: Any) -> None:
        try:
            extract.fill_message(self.call.record, message, self.pipeline.config.capture_any)
        except Exception as exc:
            report("Anthropic response", exc)
        flow.finish(self.pipeline, self.call, "Anthropic")

    def parsed(self, value: Any) -> Any:
        """What a raw response's ``parse()`` returned: a stream to proxy, or the final message."""
        try:
            proxy = self.wrap_stream(value)
            if proxy is not None:
                return proxy
        except Exception as exc:
            report("Anthropic raw response parse", exc)
            return value
        try:
            self.complete(value)
        except Exception as exc:
            report("Anthropic raw response parse", exc)
            flow.finish(self.pipeline, self.call, "Anthropic")
        return value

    def abandon(self) -> None:
        """The raw response was closed or dropped without being parsed: end with what is known."""
        flow.finish(self.pipeline, self.call, "Anthropic")

    def failed(self, error: BaseException) -> None:
        """The app's ``parse()`` raised: the error plain ``create()`` would have raised."""
        flow.fail(self.pipeline, self.call, error, "Anthropic")

