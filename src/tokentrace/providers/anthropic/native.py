"""The ``anthropic`` SDK's own OpenTelemetry span, kept as the call's one span.

anthropic 2.x starts a CLIENT span per API call (``anthropic.messages.create``) whenever its
client has a tracer (``open_telemetry`` on, which is the default), on the tracer provider the
client was given (``open_telemetry={"tracer_provider": P}``) or else the global one, and records
HTTP, resend, usage, content and conversation attributes on it. tokentrace keeps that span and
makes it the call's span (the pipeline's *borrowed span*, :mod:`tokentrace.core.borrowed`):

* :func:`sdk_traces` tells the adapter, before the call starts, whether the SDK will trace it;
  the call is then opened with ``borrow=True`` (no span of tokentrace's own yet).
* ``start_api_call_span`` is wrapped so the SDK's span, once started, is handed to the pipeline
  (:meth:`~tokentrace.core.pipeline.Pipeline.adopt`), which annotates it with usage, cost and
  attribution and ends it together with the SDK. The SDK records and ends its span exactly as it
  would without tokentrace.
* When the SDK's span is unusable (no tracer provider for it: the SDK gets a no-op tracer),
  tokentrace's own span is the call's, on tokentrace's provider, and the SDK goes on exactly as
  it would alone (no span current while it sends, no ``traceparent``).
* A client created with ``open_telemetry=False`` (or ``ANTHROPIC_OPEN_TELEMETRY=false``) has no
  tracer: tokentrace opens its own span as for any SDK and calls no OpenTelemetry API for the SDK.
* Other calls (``count_tokens``, sessions, the tool runner's spans) keep their native spans as is.

The SDK's trace-context injection also writes the W3C ``baggage`` header; tokentrace's
attribution entries are removed from it before the request leaves, so team or user values
never reach the provider.
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable, Optional, Tuple

from ...core.safety import report

#: The tokentrace call (opened with ``borrow=True``) whose request the SDK is sending.
pending_call: contextvars.ContextVar[Optional[Any]] = contextvars.ContextVar("tokentrace_anthropic_call", default=None)


def sdk_traces(client: Any) -> bool:
    """Whether the SDK will start a span of its own for this client's calls (it has a tracer).

    ``_tracer`` is the SDK's lazily resolved, cached tracer: ``None`` when its tracing is off,
    which it decides without calling OpenTelemetry. SDKs without native tracing lack it.
    """
    try:
        return getattr(client, "_tracer", None) is not None
    except Exception as exc:
        report("Anthropic native tracing check", exc)
        return False


def start_api_call_span_wrapper(pipeline: Any) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        call = pending_call.get()
        if call is None:
            return wrapped(*args, **kwargs)
        try:
            pending_call.set(None)  # one span per call: a nested request is not this call's
        except Exception as exc:
            report("Anthropic native span", exc)
        span = wrapped(*args, **kwargs)
        try:
            return pipeline.adopt(call, span)
        except Exception as exc:
            report("Anthropic native span", exc)
            return span

    return wrapper


def _strip_function() -> Optional[Callable[[Any], Any]]:
    try:
        from ...attribution.propagation import strip_attribution_baggage
    except ImportError:
        return None
    return strip_attribution_baggage


def inject_trace_headers_wrapper(pipeline: Any) -> Callable[..., Any]:
    strip = _strip_function()

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        result = wrapped(*args, **kwargs)
        if strip is not None:
            try:
                headers = args[1] if len(args) > 1 else kwargs.get("headers")
                if headers is not None:
                    strip(headers)
            except Exception as exc:
                report("Anthropic baggage stripping", exc)
        return result

    return wrapper
