"""The ``anthropic`` SDK's own OpenTelemetry span, while tokentrace traces the same call.

anthropic 2.x starts a CLIENT span per API call (``anthropic.messages.create``) whenever
OpenTelemetry can give it a tracer, and puts usage on it. With tokentrace's span beside it, two
spans would carry the usage of one call. tokentrace therefore switches the SDK's *call span* off
for the calls it traces, and only for those, while instrumented:

* ``start_api_call_span`` answers, for a traced Messages call, a non-recording stand-in that
  carries tokentrace's span context. Everything the SDK records on it is a no-op, while what the
  SDK does with the context is unchanged: it makes it current while the request is sent (HTTP
  client spans nest under tokentrace's span) and, when the client's ``propagation`` is on,
  injects it as ``traceparent`` after signing, exactly where it would inject its own.
* Other calls (``count_tokens``, sessions, the tool runner's spans) keep their native spans.
* A client created with ``open_telemetry=False`` (or ``ANTHROPIC_OPEN_TELEMETRY=false``) never
  asks for a span, and is left as it is.

``uninstrument()`` restores the SDK's functions, and its native spans with them.

The SDK's trace-context injection also writes the W3C ``baggage`` header; tokentrace's
attribution entries are removed from it before the request leaves, so team or user values
never reach the provider.
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable, Optional, Tuple

from opentelemetry import trace

from ...core.safety import report

#: The span of the tokentrace call the current ``request`` is sending, if any.
active_span: contextvars.ContextVar[Optional[Any]] = contextvars.ContextVar("tokentrace_anthropic_span", default=None)


def start_api_call_span_wrapper(pipeline: Any) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        span = active_span.get()
        if span is None:
            return wrapped(*args, **kwargs)
        try:
            context = span.get_span_context()
            return trace.NonRecordingSpan(context) if context.is_valid else None
        except Exception as exc:
            report("Anthropic native span switch", exc)
            return wrapped(*args, **kwargs)

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
