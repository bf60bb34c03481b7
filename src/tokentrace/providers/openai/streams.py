"""Stream and raw-response proxies for the OpenAI SDK.

A proxy is a ``wrapt.ObjectProxy`` around the SDK's own object, so the application keeps every
attribute and method; only iteration, context management and ``close()`` pass through
tokentrace. Per chunk the work is a few attribute reads. The call ends exactly once: when the
stream is exhausted, closed, fails, or the proxy is garbage-collected.

When tokentrace itself asked for ``stream_options.include_usage``, it takes back exactly what
asking changed, given what the host sends unasked (:mod:`.stream_hosts`): the usage-only chunk
it caused is consumed here, a usage it caused on a chunk that carries anything else is removed
from that chunk, and a ``"usage": null`` the host would not have sent is marked unset again, so
the application sees exactly the chunks (fields-set, ``to_dict()``, ``to_json()``) it would have
seen without tokentrace.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import wrapt

from ...core import finish_reasons
from ...core.estimate import SAMPLE_CHARS, TextSample
from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from .. import flow
from ..proxies import AsyncRawResponseProxy, AsyncStreamProxy, SyncRawResponseProxy, SyncStreamProxy
from . import background, extract, stream_hosts
from .endpoints import CHAT, COMPLETIONS, RESPONSES

_RESPONSE_DONE_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


#: Fields every chunk carries; a usage chunk with nothing else (set and non-null) is tokentrace's own.
_CHUNK_METADATA = frozenset(
    {"id", "object", "created", "model", "system_fingerprint", "service_tier", "usage", "choices", "obfuscation"}
)


def take_back(asked: stream_hosts.Profile, chunk: Any) -> bool:
    """Undo on one chunk what asking for usage changed; ``False`` when the whole chunk is ours.

    ``asked`` is what the host sends unasked. A ``"usage": null`` it would not have sent is
    marked unset again; a usage it would not have sent is removed, and the chunk hidden only
    when usage is all it carries (a chunk that also carries a moderation report, a content
    filter result or any other field reaches the application, without the usage).
    """
    fields = chunk.__pydantic_fields_set__
    if "usage" not in fields:
        return True
    if chunk.usage is not None:
        if not chunk.choices and not _carries_more(chunk, fields):
            return False
        chunk.__dict__["usage"] = None
    if not asked.null_usage:
        fields.discard("usage")
    return True


def _carries_more(chunk: Any, fields: Any) -> bool:
    for name in fields:
        if name not in _CHUNK_METADATA and getattr(chunk, name, None) is not None:
            return True
    extra = chunk.model_extra
    return bool(extra) and any(value is not None for value in extra.values())


class Probe:
    """Watches a stream sent as the application asked, to learn what its host sends unasked."""

    __slots__ = ("host", "port", "null_usage", "usage", "complete")

    def __init__(self, host: Optional[str], port: Optional[int]) -> None:
        self.host = host
        self.port = port
        self.null_usage = False
        self.usage = False
        self.complete = False

    def see(self, chunk: Any) -> None:
        if "usage" in chunk.__pydantic_fields_set__:
            if chunk.usage is None:
                self.null_usage = True
            else:
                self.usage = True

    def exhausted(self) -> None:
        self.complete = True

    def learn(self) -> None:
        # A stream closed early may not have reached a usage chunk at its end: only what was
        # seen counts then, and "usage seen" is the one conclusion that needs no end.
        if self.complete or self.usage:
            stream_hosts.learn(self.host, self.port, self.null_usage, self.usage)


class StreamState:
    """What a stream has shown so far; ``observe`` says whether the app should see the item.

    ``asked`` is set when tokentrace asked for usage (it is the host's unasked behaviour, used to
    take back exactly what asking changed); ``probe`` when the stream is being observed to learn
    its host.
    """

    __slots__ = (
        "call", "pipeline", "endpoint", "asked", "probe", "capture", "texts", "sample", "reasons", "seen_first",
        "expect_usage", "background", "chat", "events",
    )

    def __init__(
        self,
        call: Call,
        pipeline: Pipeline,
        endpoint: str,
        asked: Optional[stream_hosts.Profile],
        probe: Optional[Probe] = None,
        usage_expected: bool = False,
        background: bool = False,
    ) -> None:
        self.call = call
        #: A background response's create stream: a stream that ends before its terminal event
        #: is billed later (see :mod:`.background`).
        self.background = background
        self.pipeline = pipeline
        self.endpoint = endpoint
        self.asked = asked if endpoint != RESPONSES else None
        self.probe = probe if endpoint != RESPONSES else None
        self.capture = pipeline.config.capture_any
        #: The whole text, only for content capture.
        self.texts: List[str] = []
        #: Text for a local count if no usage arrives (thinking parts included: billed output):
        #: none kept when the stream will report usage (only its length, for the app that leaves
        #: before the usage chunk), else bounded.
        expected = usage_expected or asked is not None or endpoint == RESPONSES
        self.sample = TextSample(0 if expected else SAMPLE_CHARS)
        #: A chat/completions stream whose usage chunk follows the last ``finish_reason``.
        self.expect_usage = (usage_expected or asked is not None) and endpoint != RESPONSES
        self.reasons: Dict[int, str] = {}
        self.seen_first = False
        #: Decided once, not per chunk: chat deltas, or Responses API events.
        self.chat = endpoint == CHAT
        self.events = endpoint == RESPONSES

    def observe(self, item: Any) -> bool:
        # Runs once per chunk: the common case (a content delta, usage null or absent) reads a
        # handful of attributes and calls nothing.
        visible = True
        decided = False
        try:
            usage = None
            if not self.events:
                usage = item.usage
                asked = self.asked
                if asked is not None:
                    # Decided before anything else, so a fault below can never leak
                    # tokentrace's chunk or the ``usage`` field it caused (take_back inlined
                    # for the chunks without usage).
                    fields = item.__pydantic_fields_set__
                    if "usage" in fields:
                        if usage is not None:
                            visible = take_back(asked, item)
                        elif not asked.null_usage:
                            fields.discard("usage")
                elif self.probe is not None:
                    self.probe.see(item)
                decided = True
            if not self.seen_first:
                self.seen_first = True
                self.pipeline.first_chunk(self.call)
            if self.events:
                self._observe_response_event(item)
            else:
                self._observe_chunk(item, usage)
        except Exception as exc:
            report("OpenAI stream chunk", exc)
            if not decided:
                return self.visible_on_fault(item)
        return visible

    def wants_trailing(self) -> bool:
        """The app stopped at (or after) a ``finish_reason`` chunk and the usage chunk is still due."""
        return self.expect_usage and bool(self.reasons) and self.call.record.usage is None and not self.call.ended

    def visible_on_fault(self, item: Any) -> bool:
        """Whether the app should see ``item`` when ``observe`` itself failed: tokentrace's own
        usage chunk stays hidden even then."""
        if self.asked is not None:
            return _UsageChunkFilter.visible(self.asked, item)
        return True

    def exhausted(self) -> None:
        """The stream ran to its end (not closed early)."""
        if self.probe is not None:
            self.probe.exhausted()

    def _observe_chunk(self, chunk: Any, usage: Any) -> None:
        record = self.call.record
        if record.response_model is None:
            extract._common(record, chunk)
        if usage is not None:
            record.usage = extract.completion_usage(usage)
            record.provider_cost_usd = extract._provider_cost(usage)
        # Writer sends ``"choices": null``; the SDK does not validate chunks.
        for choice in chunk.choices or ():
            if self.chat:
                delta = choice.delta
                text = delta.content if delta is not None else None
            else:
                text = choice.text
            if text:
                self._add_text(text)
            if choice.finish_reason:
                self.reasons[choice.index] = choice.finish_reason

    def _add_text(self, text: Any) -> None:
        if text.__class__ is not str and not isinstance(text, str):
            # Mistral's reasoning models: content as a list of parts, thinking first.
            thinking = extract.thinking_text(text)
            if thinking:
                self.sample.add(thinking)
            text = extract.content_text(text)
        if text:
            if self.capture:
                self.texts.append(text)
            sample = self.sample
            if sample.kept < sample.limit:
                sample.add(text)
            else:  # nothing kept any more (or ever, when usage will come): the length only
                sample.total += len(text)

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
            if self.probe is not None and error is None:
                self.probe.learn()
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
            if self.background:
                background.after_create_stream(self.call, error)
        except Exception as exc:
            report("OpenAI stream end", exc)
        if error is None:
            flow.finish(self.pipeline, self.call, "OpenAI")
        else:
            flow.fail(self.pipeline, self.call, error, "OpenAI")


class ChatStreamState(StreamState):
    """The usual chat stream: tokentrace asked for its usage, no content capture, host known.

    Its chunks are almost all content deltas with ``"usage": null``; :meth:`observe` handles those
    in a few attribute reads (the length of the text, the finish reason) and hands every other
    chunk (the usage chunk, a first chunk, a malformed one) to :meth:`StreamState.observe`. The
    per-chunk work was most of what a stream cost over the floor (benchmarks/README.md, #19).
    """

    __slots__ = ("discard_null", "pending")

    def __init__(self, call: Call, pipeline: Pipeline, asked: stream_hosts.Profile, background: bool = False) -> None:
        super().__init__(call, pipeline, CHAT, asked, background=background)
        #: The host sends no ``"usage": null`` unasked: take the field back from every chunk.
        self.discard_null = not asked.null_usage
        #: The response model (read from the first chunk that has one) is still to come: the full
        #: path reads it, and the first chunk's time.
        self.pending = True

    def observe(self, item: Any) -> bool:
        if self.pending:
            visible = StreamState.observe(self, item)
            self.pending = self.call.record.response_model is None  # set only after the first chunk
            return visible
        try:
            if item.usage is not None:
                return StreamState.observe(self, item)
            if self.discard_null:
                item.__pydantic_fields_set__.discard("usage")
        except Exception as exc:
            report("OpenAI stream chunk", exc)
            return self.visible_on_fault(item)
        try:
            for choice in item.choices or ():
                delta = choice.delta
                if delta is not None:
                    text = delta.content
                    if text:
                        if text.__class__ is str:
                            # Usage will come, so the sample keeps no text (limit 0): the length only.
                            self.sample.total += len(text)
                        else:
                            self._add_text(text)
                if choice.finish_reason:
                    self.reasons[choice.index] = choice.finish_reason
        except Exception as exc:
            report("OpenAI stream chunk", exc)
        return True


class _UsageChunkFilter:
    """Last resort when tokentrace failed to set up its stream proxy, or :func:`take_back` itself
    failed: still hide the usage chunk it caused. Deliberately independent of ``take_back``."""

    @staticmethod
    def visible(asked: stream_hosts.Profile, item: Any) -> bool:
        try:
            if item.usage is None:
                if not asked.null_usage:
                    item.__pydantic_fields_set__.discard("usage")
                return True
            return bool(item.choices)
        except Exception:
            return True


class SyncUsageFilter(wrapt.ObjectProxy):
    def __init__(self, stream: Any, asked: stream_hosts.Profile) -> None:
        super().__init__(stream)
        self._self_asked = asked

    def __iter__(self) -> SyncUsageFilter:
        return self

    def __next__(self) -> Any:
        while True:
            item = self.__wrapped__.__next__()
            if _UsageChunkFilter.visible(self._self_asked, item):
                return item

    def __enter__(self) -> SyncUsageFilter:
        self.__wrapped__.__enter__()
        return self


class AsyncUsageFilter(wrapt.ObjectProxy):
    def __init__(self, stream: Any, asked: stream_hosts.Profile) -> None:
        super().__init__(stream)
        self._self_asked = asked

    def __aiter__(self) -> AsyncUsageFilter:
        return self

    async def __anext__(self) -> Any:
        while True:
            item = await self.__wrapped__.__anext__()
            if _UsageChunkFilter.visible(self._self_asked, item):
                return item

    async def __aenter__(self) -> AsyncUsageFilter:
        await self.__wrapped__.__aenter__()
        return self


_SDK_TYPES: List[Any] = []


def _sdk_types() -> Tuple[Any, Any, Any, Any, Any]:
    """(Stream, AsyncStream, LegacyAPIResponse, APIResponse, AsyncAPIResponse), imported once:
    an import statement inside the per-call path costs a module lookup on every call."""
    if not _SDK_TYPES:
        from openai import AsyncStream, Stream
        from openai._legacy_response import LegacyAPIResponse
        from openai._response import APIResponse, AsyncAPIResponse

        _SDK_TYPES.append((Stream, AsyncStream, LegacyAPIResponse, APIResponse, AsyncAPIResponse))
    return _SDK_TYPES[0]  # type: ignore[no-any-return]


def filter_injected_usage(result: Any, asked: stream_hosts.Profile) -> Any:
    """The app's stream without what exists only because tokentrace asked for it.

    Also the last resort when handling the result failed, so it does not rely on the cached type
    lookup that may be what failed."""
    try:
        Stream, AsyncStream = _sdk_types()[:2]
    except Exception:
        from openai import AsyncStream, Stream

    if isinstance(result, Stream):
        return SyncUsageFilter(result, asked)
    if isinstance(result, AsyncStream):
        return AsyncUsageFilter(result, asked)
    return result


class ResultHandler:
    """Turns what the SDK's ``request`` returned into telemetry, and into what the app receives."""

    __slots__ = ("call", "pipeline", "endpoint", "asked", "probe_host", "background")

    def __init__(
        self,
        call: Call,
        pipeline: Pipeline,
        endpoint: str,
        asked: Optional[stream_hosts.Profile],
        probe_host: Optional[Tuple[Optional[str], Optional[int]]] = None,
        background: bool = False,
    ) -> None:
        self.call = call
        self.pipeline = pipeline
        self.endpoint = endpoint
        self.asked = asked
        self.probe_host = probe_host
        self.background = background

    def handle(self, result: Any) -> Any:
        """Return the object to give the application (the result itself, or a proxy of it)."""
        Stream, AsyncStream, LegacyAPIResponse, APIResponse, AsyncAPIResponse = _sdk_types()

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
        if self.probe_host is None and self.asked is not None and self.endpoint == CHAT and not self.pipeline.config.capture_any:
            return ChatStreamState(self.call, self.pipeline, self.asked, background=self.background)
        probe = Probe(*self.probe_host) if self.probe_host is not None else None
        return StreamState(self.call, self.pipeline, self.endpoint, self.asked, probe, background=self.background)

    def _legacy_raw(self, raw: Any) -> Any:
        if self.call.record.stream:
            return SyncRawResponseProxy(raw, self)
        try:
            # parse() caches its result, so the application's own parse() returns this same object.
            value = raw.parse()
        except Exception as exc:
            # The body plain ``create()`` could not parse either (an empty 200): the call failed,
            # and the app's own parse() raises the same error.
            flow.fail(self.pipeline, self.call, exc, "OpenAI")
            return raw
        try:
            self.complete(value)
        except Exception as exc:
            report("OpenAI raw response", exc)
            flow.finish(self.pipeline, self.call, "OpenAI")
        return raw

    def complete(self, result: Any) -> None:
        record = self.call.record
        capture = self.pipeline.config.capture_any
        if self.endpoint == RESPONSES:
            extract.fill_response(record, result, capture)
            if self.background:
                try:
                    background.after_create(self.call, result)
                except Exception as exc:
                    report("OpenAI background response", exc)
        elif self.endpoint == CHAT or self.endpoint == COMPLETIONS:
            extract.fill_chat(record, result, capture)
        else:
            extract.fill_embeddings(record, result)
        flow.finish(self.pipeline, self.call, "OpenAI")

    def parsed(self, value: Any) -> Any:
        """What a raw response's ``parse()`` returned: a stream to proxy, or the final object."""
        try:
            Stream, AsyncStream = _sdk_types()[:2]

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

    def failed(self, error: BaseException) -> None:
        """The app's ``parse()`` raised: the error plain ``create()`` would have raised."""
        flow.fail(self.pipeline, self.call, error, "OpenAI")

