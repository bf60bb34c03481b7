"""The *floor*: the least any instrumentation must spend to emit tokentrace's span and metrics.

A hand-written ``wrapt`` wrapper on the same choke point tokentrace patches
(``SyncAPIClient.request`` / ``AsyncAPIClient.request`` of the ``openai`` and ``anthropic`` SDKs),
through the same OpenTelemetry SDK providers: it starts a CLIENT span with the request
attributes, makes it current while the SDK sends, then sets the response attributes (15 in all),
records four metric points and ends the span. Streams get a ``wrapt.ObjectProxy`` that reads
one field per chunk and finishes at the end. No parsing beyond that, no cost catalog (a constant
rate), no attribution, no guards. tokentrace's overhead is compared against this one's.
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
        self.cost = meter.create_counter("floor.tokentrace.cost", unit="USD")


class _Call:
    __slots__ = ("span", "start", "metric_attributes", "provider")

    def __init__(self, span: Any, start: float, metric_attributes: Dict[str, Any], provider: str) -> None:
        self.span, self.start, self.metric_attributes, self.provider = span, start, metric_attributes, provider


def _start(inst: _Instruments, provider: str, options: Any, stream: bool) -> _Call:
    body = options.json_data or {}
    model = body.get("model")
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "server.address": "api.example.com",
        "gen_ai.request.stream": stream,
    }
    span = inst.tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes)
    metric_attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider, "gen_ai.request.model": model}
    return _Call(span, time.perf_counter(), metric_attributes, provider)


def _finish(inst: _Instruments, call: _Call, model: Optional[str], response_id: Optional[str], reason: Optional[str], input_tokens: int, output_tokens: int) -> None:
    cost = input_tokens * 1.5e-7 + output_tokens * 6e-7
    call.span.set_attributes({
        "gen_ai.response.model": model or "",
        "gen_ai.response.id": response_id or "",
        "gen_ai.response.finish_reasons": [reason or ""],
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "tokentrace.cost.usd": cost,
        "tokentrace.cost.status": "priced",
        "tokentrace.usage.source": "provider",
        "tokentrace.model.rerouted": False,
        "gen_ai.usage.cost.currency": "USD",
    })
    attributes = call.metric_attributes
    inst.duration.record(time.perf_counter() - call.start, attributes)
    inst.token_usage.record(input_tokens, {**attributes, "gen_ai.token.type": "input"})
    inst.token_usage.record(output_tokens, {**attributes, "gen_ai.token.type": "output"})
    inst.cost.add(cost, attributes)
    call.span.end()


def _finish_result(inst: _Instruments, call: _Call, result: Any) -> None:
    usage = result.usage
    if call.provider == "openai":
        _finish(inst, call, result.model, result.id, result.choices[0].finish_reason, usage.prompt_tokens, usage.completion_tokens)
    else:
        _finish(inst, call, result.model, result.id, result.stop_reason, usage.input_tokens, usage.output_tokens)


class _SyncStream(wrapt.ObjectProxy):  # type: ignore[misc]
    def __init__(self, stream: Any, inst: _Instruments, call: _Call) -> None:
        super().__init__(stream)
        self._self_inst, self._self_call, self._self_model = inst, call, None

    def __iter__(self) -> _SyncStream:
        return self

    def __next__(self) -> Any:
        try:
            item = self.__wrapped__.__next__()
        except StopIteration:
            _finish(self._self_inst, self._self_call, self._self_model, None, "stop", 0, 0)
            raise
        if self._self_model is None:
            self._self_model = getattr(item, "model", None) or "m"
        return item


class _AsyncStream(wrapt.ObjectProxy):  # type: ignore[misc]
    def __init__(self, stream: Any, inst: _Instruments, call: _Call) -> None:
        super().__init__(stream)
        self._self_inst, self._self_call, self._self_model = inst, call, None

    def __aiter__(self) -> _AsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            _finish(self._self_inst, self._self_call, self._self_model, None, "stop", 0, 0)
            raise
        if self._self_model is None:
            self._self_model = getattr(item, "model", None) or "m"
        return item


def _sync_wrapper(inst: _Instruments, provider: str) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        stream = bool(kwargs.get("stream", False))
        call = _start(inst, provider, args[1] if len(args) > 1 else kwargs["options"], stream)
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
