"""Stream and raw-response proxies for the OpenAI SDK.

A proxy is a ``wrapt.ObjectProxy`` around the SDK's own object, so the application keeps every
attribute and method; only iteration, context management and ``close()`` pass through
tokentrace. Per chunk the work is a few attribute reads. The call ends exactly once: when the
stream is exhausted, closed, fails, or the proxy is garbage-collected.

When tokentrace itself asked for ``stream_options.include_usage``, the usage-only chunk it
caused is consumed here and never reaches the application, and the ``usage`` field the other
chunks carry (as ``null``) is marked unset again, so the application sees exactly the chunks it
would have seen without tokentrace.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import wrapt

from ...core import finish_reasons
from ...core.estimate import SAMPLE_CHARS, TextSample
from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from .. import flow
from ..proxies import AsyncRawResponseProxy, AsyncStreamProxy, SyncRawResponseProxy, SyncStreamProxy
from . import extract
from .endpoints import CHAT, COMPLETIONS, RESPONSES

_RESPONSE_DONE_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


class StreamState:
    """What a stream has shown so far; ``observe`` says whether the app should see the item.

    The hiding of the usage-only chunk relies on the ``usage``/``choices`` fields that the
    ``openai`` SDK types define for chat and legacy completion chunks.
    """

    __slots__ = (
        "call", "pipeline", "endpoint", "hide_usage_chunk", "capture", "texts", "sample", "reasons", "seen_first",
        "expect_usage",
    )

    def __init__(
        self, call: Call, pipeline: Pipeline, endpoint: str, hide_usage_chunk: bool, usage_expected: bool = False
    ) -> None:
        self.call = call
        self.pipeline = pipeline
        self.endpoint = endpoint
        self.hide_usage_chunk = hide_usage_chunk
        self.capture = pipeline.config.capture_any
        #: The whole text, only for content capture.
        self.texts: List[str] = []
        #: Text for a local count if no usage arrives: none kept when the stream will report usage
        #: (only its length, for the app that leaves before the usage chunk), else bounded.
        expected = usage_expected or hide_usage_chunk or endpoint == RESPONSES
        self.sample = TextSample(0 if expected else SAMPLE_CHARS)
        #: A chat/completions stream whose usage chunk follows the last ``finish_reason``.
        self.expect_usage = (usage_expected or hide_usage_chunk) and endpoint != RESPONSES
        self.reasons: Dict[int, str] = {}
        self.seen_first = False

    def observe(self, item: Any) -> bool:
        visible = True
        try:
            if self.hide_usage_chunk and self.endpoint != RESPONSES:
                # Decided before anything else, so a fault below can never leak tokentrace's chunk
                # or the ``usage`` field it caused.
                visible = not (item.usage is not None and not item.choices)
                if item.usage is None:
                    # Without tokentrace the field would not have been sent at all.
                    item.__pydantic_fields_set__.discard("usage")
            if not self.seen_first:
                self.seen_first = True
                self.pipeline.first_chunk(self.call)
            if self.endpoint == RESPONSES:
                self._observe_response_event(item)
            else:
                self._observe_chunk(item)
        except Exception as exc:
            report("OpenAI stream chunk", exc)
        return visible

    def wants_trailing(self) -> bool:
        """The app stopped at (or after) a ``finish_reason`` chunk and the usage chunk is still due."""
        return self.expect_usage and bool(self.reasons) and self.call.record.usage is None and not self.call.ended

    def visible_on_fault(self, item: Any) -> bool:
        """Whether the app should see ``item`` when ``observe`` itself failed: tokentrace's own
        usage chunk stays hidden even then."""
        if self.hide_usage_chunk and self.endpoint != RESPONSES:
            return _UsageChunkFilter.visible(item)
        return True

    def _observe_chunk(self, chunk: Any) -> None:
        record = self.call.record
        if record.response_model is None:
            extract._common(record, chunk)
        usage = chunk.usage
        if usage is not None:
            record.usage = extract.completion_usage(usage)
            record.provider_cost_usd = extract._provider_cost(usage)
        for choice in chunk.choices:
            if self.endpoint == CHAT:
                text = choice.delta.content if choice.delta is not None else None
            else:
                text = choice.text
            if text:
                if self.capture:
                    self.texts.append(text)
                self.sample.add(text)
            if choice.finish_reason:
                self.reasons[choice.index] = choice.finish_reason

    def _observe_response_event(self, event: Any) -> None:
        kind = event.type
        if kind == "response.output_text.delta":
            if self.capture:
                self.texts.append(event.delta)
            self.sample.add(event.delta)
        elif kind in _RESPONSE_DONE_EVENTS:
            extract.fill_response(self.call.record, event.response, self.capture)
        elif kind == "response.created" and self.call.record.response_model is None:
            extract._common(self.call.record, event.response)

    def end(self, error: Optional[BaseException] = None) -> None:
        try:
            record = self.call.record
            if self.reasons:
                finish_reasons.apply(record, [self.reasons[i] for i in sorted(self.reasons)])
            if self.capture and self.texts and not record.output_messages:
                reason = record.finish_reasons[0] if record.finish_reasons else "stop"
                record.output_messages = [extract.output_message("".join(self.texts), reason)]
            if record.usage is None and self.pipeline.config.estimate_usage:
                record.estimate_output_text = self.sample.text()
                record.estimate_output_chars = self.sample.total
                record.estimate_input_text = record.prompt_text() if record.prompt_text else ""
        except Exception as exc:
            report("OpenAI stream end", exc)
        if error is None:
            flow.finish(self.pipeline, self.call, "OpenAI")
        else:
            flow.fail(self.pipeline, self.call, error, "OpenAI")


class _UsageChunkFilter:
    """Last resort when tokentrace failed to set up its stream proxy: still hide the chunk it caused."""

    @staticmethod
    def visible(item: Any) -> bool:
        try:
            if item.usage is None:
                # Without tokentrace the field would not have been sent at all.
                item.__pydantic_fields_set__.discard("usage")
                return True
            return bool(item.choices)
        except Exception:
            return True


class SyncUsageFilter(wrapt.ObjectProxy):  # type: ignore[misc]
    def __iter__(self) -> "SyncUsageFilter":
        return self

    def __next__(self) -> Any:
        while True:
            item = self.__wrapped__.__next__()
            if _UsageChunkFilter.visible(item):
                return item

    def __enter__(self) -> "SyncUsageFilter":
        self.__wrapped__.__enter__()
        return self


class AsyncUsageFilter(wrapt.ObjectProxy):  # type: ignore[misc]
    def __aiter__(self) -> "AsyncUsageFilter":
        return self

    async def __anext__(self) -> Any:
        while True:
            item = await self.__wrapped__.__anext__()
            if _UsageChunkFilter.visible(item):
                return item

    async def __aenter__(self) -> "AsyncUsageFilter":
        await self.__wrapped__.__aenter__()
        return self


def filter_injected_usage(result: Any) -> Any:
    from openai import AsyncStream, Stream

    if isinstance(result, Stream):
        return SyncUsageFilter(result)
    if isinstance(result, AsyncStream):
        return AsyncUsageFilter(result)
    return result


class ResultHandler:
    """Turns what the SDK's ``request`` returned into telemetry, and into what the app receives."""

    __slots__ = ("call", "pipeline", "endpoint", "hide_usage_chunk")

    def __init__(self, call: Call, pipeline: Pipeline, endpoint: str, hide_usage_chunk: bool) -> None:
        self.call = call
        self.pipeline = pipeline
        self.endpoint = endpoint
        self.hide_usage_chunk = hide_usage_chunk

    def handle(self, result: Any) -> Any:
        """Return the object to give the application (the result itself, or a proxy of it)."""
        from openai import AsyncStream, Stream
        from openai._legacy_response import LegacyAPIResponse
        from openai._response import APIResponse, AsyncAPIResponse

        if isinstance(result, Stream):
            return SyncStreamProxy(result, self._stream_state())
        if isinstance(result, AsyncStream):
            return AsyncStreamProxy(result, self._stream_state())
        if isinstance(result, LegacyAPIResponse):
            return self._legacy_raw(result)
        if isinstance(result, APIResponse):
            return SyncRawResponseProxy(result, self)
        if isinstance(result, AsyncAPIResponse):
            return AsyncRawResponseProxy(result, self)
        self.complete(result)
        return result

    def _stream_state(self) -> StreamState:
        return StreamState(self.call, self.pipeline, self.endpoint, self.hide_usage_chunk)

    def _legacy_raw(self, raw: Any) -> Any:
        if self.call.record.stream:
            return SyncRawResponseProxy(raw, self)
        try:
            # parse() caches its result, so the application's own parse() returns this same object.
            self.complete(raw.parse())
        except Exception as exc:
            report("OpenAI raw response", exc)
            flow.finish(self.pipeline, self.call, "OpenAI")
        return raw

    def complete(self, result: Any) -> None:
        record = self.call.record
        capture = self.pipeline.config.capture_any
        if self.endpoint == RESPONSES:
            extract.fill_response(record, result, capture)
        elif self.endpoint == CHAT or self.endpoint == COMPLETIONS:
            extract.fill_chat(record, result, capture)
        else:
            extract.fill_embeddings(record, result)
        flow.finish(self.pipeline, self.call, "OpenAI")

    def parsed(self, value: Any) -> Any:
        """What a raw response's ``parse()`` returned: a stream to proxy, or the final object."""
        try:
            from openai import AsyncStream, Stream

            if isinstance(value, Stream):
                return SyncStreamProxy(value, self._stream_state())
            if isinstance(value, AsyncStream):
                return AsyncStreamProxy(value, self._stream_state())
            self.complete(value)
        except Exception as exc:
            report("OpenAI raw response parse", exc)
            flow.finish(self.pipeline, self.call, "OpenAI")
        return value

    def abandon(self) -> None:
        """The raw response was closed or dropped without being parsed: end with what is known."""
        flow.finish(self.pipeline, self.call, "OpenAI")

