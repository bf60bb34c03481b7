"""The *floor*: the least any instrumentation must spend to emit tokentrace's span and metrics.

A hand-written ``wrapt`` wrapper on the same choke point tokentrace patches
(``SyncAPIClient.request`` / ``AsyncAPIClient.request`` of the ``openai`` and ``anthropic`` SDKs),
through the same OpenTelemetry SDK providers: it starts a CLIENT span with the request
attributes, makes it current while the SDK sends, then sets the response attributes and ends the
span. The span carries the same attributes as tokentrace's (25 for these calls: the GenAI ones,
cost, usage source, rerouting, the provider's own), and the metric points have tokentrace's
attribute sets (operation, provider, both models, server, usage source, service tier): the floor
is what the OpenTelemetry SDK charges for exactly tokentrace's telemetry, so the ratio measures
tokentrace's own work. Four metric points: duration, token usage x2 and the cost counter (a
stream adds time to first chunk, as tokentrace's does). Streams get a ``wrapt.ObjectProxy`` that reads
one field per chunk and finishes at the end. No parsing beyond that, no cost catalog (a constant
rate), no attribution, no guards. tokentrace's overhead is compared against this one's.

A stream's span needs its token counts too, so the floor gets them the cheapest way each API
offers, as tokentrace does: an OpenAI chat stream is sent with ``stream_options.include_usage``
(the usage arrives in one more chunk, and every chunk carries ``"usage": null``), and the floor
keeps the ``usage`` field of the chunk that has one; an Anthropic stream reports usage in its
``message_start`` and ``message_delta`` events, which the floor reads by their ``type``.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import wrapt
from opentelemetry import context as otel_context, trace
from opentelemetry.trace import SpanKind

_TARGETS = [("openai._base_client", "SyncAPIClient", False), ("openai._base_client", "AsyncAPIClient", True),
            ("anthropic._base_client", "SyncAPIClient", False), ("anthropic._base_client", "AsyncAPIClient", True)]


class _Instruments:
    def __init__(self, tracer_provider: Any, meter_provider: Any) -> None:
        self.tracer = trace.get_tracer("floor", tracer_provider=tracer_provider)
        meter = meter_provider.get_meter("floor")
        self.duration = meter.create_histogram("floor.gen_ai.client.operation.duration", unit="s")
        self.token_usage = meter.create_histogram("floor.gen_ai.client.token.usage", unit="{token}")
        self.first_chunk = meter.create_histogram("floor.gen_ai.client.operation.time_to_first_chunk", unit="s")
        self.cost = meter.create_counter("floor.tokentrace.cost", unit="USD")


class _Call:
    __slots__ = ("span", "start", "metric_attributes", "provider")

    def __init__(self, span: Any, start: float, metric_attributes: Dict[str, Any], provider: str) -> None:
        self.span, self.start, self.metric_attributes, self.provider = span, start, metric_attributes, provider


_HOSTS = {"openai": "api.openai.com", "anthropic": "api.anthropic.com"}
_REASONS = {"end_turn": "stop", "max_tokens": "length", "stop": "stop"}


def _start(inst: _Instruments, provider: str, options: Any, stream: bool) -> _Call:
    body = options.json_data or {}
    model = body.get("model")
    attributes: Dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "server.address": _HOSTS[provider],
        "server.port": 443,
    }
    if stream:
        attributes["gen_ai.request.stream"] = True
    if provider == "openai":
        attributes["openai.api.type"] = "chat_completions"
    else:
        attributes["gen_ai.request.max_tokens"] = body.get("max_tokens")
    span = inst.tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes)
    metric_attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider, "gen_ai.request.model": model,
                         "server.address": _HOSTS[provider], "tokentrace.usage.source": "provider"}
    return _Call(span, time.perf_counter(), metric_attributes, provider)


def _finish(inst: _Instruments, call: _Call, model: Optional[str], response_id: Optional[str], reason: Optional[str],
            input_tokens: int, output_tokens: int, cache_read: int = 0, tier: Optional[str] = None,
            extra: Optional[Dict[str, Any]] = None, first_chunk: Optional[float] = None) -> None:
    cost = (input_tokens - cache_read) * 1.5e-7 + cache_read * 7.5e-8 + output_tokens * 6e-7
    raw = reason or "stop"
    attributes: Dict[str, Any] = {
        "gen_ai.response.model": model or "",
        "gen_ai.response.id": response_id or "",
        "gen_ai.response.finish_reasons": [_REASONS.get(raw, raw)],
        "tokentrace.service_tier": tier or "default",
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "tokentrace.usage.source": "provider",
        "tokentrace.cost.status": "priced",
        "tokentrace.cost.usd": cost,
        "gen_ai.usage.cost.amount": cost,
        "gen_ai.usage.cost.currency": "USD",
        "gen_ai.usage.cost.source": "local",
        "tokentrace.cost.model": model or "",
        "tokentrace.model.rerouted": False,
        "tokentrace.model.match": "same",
        "tokentrace.provider.finish_reasons": [raw],
    }
    if cache_read:
        attributes["gen_ai.usage.cache_read.input_tokens"] = cache_read
    if first_chunk is not None:
        attributes["gen_ai.response.time_to_first_chunk"] = first_chunk - call.start
    if extra:
        attributes.update(extra)
    call.span.set_attributes(attributes)
    metric_attributes = {**call.metric_attributes, "gen_ai.response.model": model or "", "tokentrace.service_tier": tier or "default"}
    inst.duration.record(time.perf_counter() - call.start, metric_attributes)
    if first_chunk is not None:
        inst.first_chunk.record(first_chunk - call.start, metric_attributes)
    inst.token_usage.record(input_tokens, {**metric_attributes, "gen_ai.token.type": "input"})
    inst.token_usage.record(output_tokens, {**metric_attributes, "gen_ai.token.type": "output"})
    inst.cost.add(cost, metric_attributes)
    call.span.end()


def _finish_result(inst: _Instruments, call: _Call, result: Any) -> None:
    usage = result.usage
    if call.provider == "openai":
        details = usage.prompt_tokens_details
        extra = {"openai.response.service_tier": result.service_tier, "openai.response.system_fingerprint": result.system_fingerprint}
        _finish(inst, call, result.model, result.id, result.choices[0].finish_reason, usage.prompt_tokens, usage.completion_tokens,
                details.cached_tokens if details else 0, result.service_tier, extra)
    else:
        cache_read = usage.cache_read_input_tokens or 0
        extra = {"anthropic.message.stop_reason": result.stop_reason, "anthropic.response.service_tier": usage.service_tier}
        _finish(inst, call, result.model, result.id, result.stop_reason, usage.input_tokens + cache_read, usage.output_tokens,
                cache_read, usage.service_tier, extra)


class _Tokens:
    """What a stream reported so far: the model and the two token counts (one field per chunk)."""

    __slots__ = ("model", "id", "input", "output", "reason", "first")

    def __init__(self) -> None:
        self.model: Optional[str] = None
        self.id: Optional[str] = None
        self.reason: Optional[str] = None
        self.first: Optional[float] = None
        self.input = self.output = 0

    def openai(self, item: Any) -> None:
        if self.first is None:
            self.first, self.model, self.id = time.perf_counter(), item.model, item.id
        usage = item.usage
        if usage is not None:
            self.input, self.output = usage.prompt_tokens, usage.completion_tokens
        for choice in item.choices:
            if choice.finish_reason:
                self.reason = choice.finish_reason

    def anthropic(self, item: Any) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        kind = item.type
        if kind == "message_start":
            message = item.message
            self.model, self.id, self.input = message.model, message.id, message.usage.input_tokens
        elif kind == "message_delta":
            self.output, self.reason = item.usage.output_tokens, item.delta.stop_reason


class _SyncStream(wrapt.ObjectProxy):  # type: ignore[misc]
    def __init__(self, stream: Any, inst: _Instruments, call: _Call) -> None:
        super().__init__(stream)
        self._self_inst, self._self_call, self._self_tokens = inst, call, _Tokens()
        self._self_read = getattr(self._self_tokens, call.provider)

    def __iter__(self) -> _SyncStream:
        return self

    def __next__(self) -> Any:
        try:
            item = self.__wrapped__.__next__()
        except StopIteration:
            tokens = self._self_tokens
            _finish(self._self_inst, self._self_call, tokens.model, tokens.id, tokens.reason, tokens.input, tokens.output,
                    first_chunk=tokens.first)
            raise
        self._self_read(item)
        return item


class _AsyncStream(wrapt.ObjectProxy):  # type: ignore[misc]
    def __init__(self, stream: Any, inst: _Instruments, call: _Call) -> None:
        super().__init__(stream)
        self._self_inst, self._self_call, self._self_tokens = inst, call, _Tokens()
        self._self_read = getattr(self._self_tokens, call.provider)

    def __aiter__(self) -> _AsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            tokens = self._self_tokens
            _finish(self._self_inst, self._self_call, tokens.model, tokens.id, tokens.reason, tokens.input, tokens.output,
                    first_chunk=tokens.first)
            raise
        self._self_read(item)
        return item


def _with_stream_usage(provider: str, stream: bool, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
    """An OpenAI stream reports usage only when asked: ask, as tokentrace does."""
    if provider != "openai" or not stream:
        return args, kwargs
    options = args[1] if len(args) > 1 else kwargs["options"]
    new_options = options.model_copy()
    new_options.json_data = {**options.json_data, "stream_options": {"include_usage": True}}
    if len(args) > 1:
        return (args[0], new_options, *args[2:]), kwargs
    return args, {**kwargs, "options": new_options}


def _sync_wrapper(inst: _Instruments, provider: str) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        stream = bool(kwargs.get("stream", False))
        call = _start(inst, provider, args[1] if len(args) > 1 else kwargs["options"], stream)
        args, kwargs = _with_stream_usage(provider, stream, args, kwargs)
        token = otel_context.attach(trace.set_span_in_context(call.span))
        try:
            result = wrapped(*args, **kwargs)
        finally:
            otel_context.detach(token)
        if stream:
            return _SyncStream(result, inst, call)
        _finish_result(inst, call, result)
        return result

    return wrapper


def _async_wrapper(inst: _Instruments, provider: str) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        stream = bool(kwargs.get("stream", False))
        call = _start(inst, provider, args[1] if len(args) > 1 else kwargs["options"], stream)
        args, kwargs = _with_stream_usage(provider, stream, args, kwargs)
        token = otel_context.attach(trace.set_span_in_context(call.span))
        try:
            result = await wrapped(*args, **kwargs)
        finally:
            otel_context.detach(token)
        if stream:
            return _AsyncStream(result, inst, call)
        _finish_result(inst, call, result)
        return result

    return wrapper


class Floor:
    """Install / remove the floor wrappers; the originals are put back verbatim."""

    def __init__(self, tracer_provider: Any, meter_provider: Any) -> None:
        self._inst = _Instruments(tracer_provider, meter_provider)
        self._saved: List[Tuple[Any, Any]] = []

    def install(self) -> None:
        import importlib

        for module, cls_name, is_async in _TARGETS:
            cls = getattr(importlib.import_module(module), cls_name)
            provider = module.split(".")[0]
            original = vars(cls)["request"]
            factory = _async_wrapper if is_async else _sync_wrapper
            cls.request = wrapt.FunctionWrapper(original, factory(self._inst, provider))
            self._saved.append((cls, original))

    def uninstall(self) -> None:
        while self._saved:
            cls, original = self._saved.pop()
            cls.request = original
