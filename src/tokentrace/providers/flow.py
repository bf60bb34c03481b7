"""The guarded call flow every adapter wraps around the SDK's own request.

Each adapter knows how to read its provider's request and response; none of them should have to
remember, at every step, that tokentrace must never break the call. These helpers are that
memory: opening the call, making its span current, recording a failure and ending it each report
an internal error once (:func:`~tokentrace.core.safety.report`) and let the SDK's own result or
exception through untouched. Only a budget's deliberate block
(:class:`~tokentrace.core.safety.InstrumentationIntent`) reaches the application.
"""

from __future__ import annotations

from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from contextvars import ContextVar, Token
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple, cast

from ..core.pipeline import Call, Pipeline
from ..core.safety import InstrumentationIntent, report
from ..records.call import CallRecord

__all__ = [
    "open_call",
    "activate",
    "current_call",
    "deactivate",
    "fail",
    "finish",
    "run_sync",
    "run_async",
    "apply_policy_model",
    "options_with_model",
    "enter_gateway",
    "leave_gateway",
]

#: Set while a gateway SDK (LiteLLM) that tokentrace traces as one call sends its request: the
#: provider SDK it goes through (openai, anthropic ...) must not open a second span for it.
_gateway: ContextVar[Optional[str]] = ContextVar("tokentrace_gateway_call", default=None)


def enter_gateway(name: str) -> Token:
    return _gateway.set(name)


def leave_gateway(token: Token) -> None:
    try:
        _gateway.reset(token)
    except ValueError:  # reset from another context (a stream closed elsewhere): clear it here
        _gateway.set(None)

Arguments = Tuple[Tuple[Any, ...], Dict[str, Any]]

#: The call whose SDK request runs in this context: hooks inside the SDK (its retry loop) find
#: their call here.
_CURRENT: ContextVar[Optional[Call]] = ContextVar("tokentrace_current_call", default=None)


def current_call() -> Optional[Call]:
    return _CURRENT.get()


def open_call(
    pipeline: Pipeline,
    build: Callable[[], Optional[CallRecord]],
    provider: str,
    borrow: Optional[Callable[[], bool]] = None,
    rewrites_model: bool = False,
) -> Optional[Call]:
    """Build the request half of the record and start the call; ``None`` means "call the SDK untouched".

    ``build`` returns ``None`` for requests tokentrace does not trace. Inside a gateway call
    (:func:`enter_gateway`) nothing is opened: the gateway's span already covers the request.
    ``borrow`` answers whether the SDK will start its own span for the call, which then becomes
    the call's span (:meth:`~tokentrace.core.pipeline.Pipeline.adopt`). ``rewrites_model``: the
    adapter applies a policy's model (:func:`apply_policy_model`) to this request.
    """
    if _gateway.get() is not None:
        return None
    try:
        record = build()
    except Exception as exc:
        report(f"{provider} request", exc)
        return None
    if record is None:
        return None
    if rewrites_model:
        record.model_rewritable = True
    borrowing = False
    if borrow is not None:
        try:
            borrowing = bool(borrow())
        except Exception as exc:
            report(f"{provider} native tracing check", exc)
    try:
        return pipeline.start(record, borrow=borrowing) if borrowing else pipeline.start(record)
    except InstrumentationIntent:
        raise
    except Exception as exc:
        report(f"{provider} call start", exc)
        return None


def activate(pipeline: Pipeline, call: Call, provider: str) -> Optional[object]:
    """Make the call's span current so the SDK's own HTTP spans nest under it."""
    try:
        return (pipeline.activate(call), _CURRENT.set(call))
    except Exception as exc:
        report(f"{provider} span activation", exc)
        return None


def deactivate(token: Optional[object], provider: str) -> None:
    if token is None:
        return
    try:
        span_token, call_token = cast(Tuple[object, Any], token)
        _CURRENT.reset(call_token)
        Pipeline.deactivate(span_token)
    except Exception as exc:
        report(f"{provider} span deactivation", exc)


def fail(pipeline: Pipeline, call: Call, exc: BaseException, provider: str) -> None:
    """End the call with the SDK's exception, which the caller then re-raises unchanged."""
    try:
        pipeline.finish(call, exc)
    except Exception as inner:
        report(f"{provider} call failure", inner)


def finish(pipeline: Pipeline, call: Call, provider: str) -> None:
    try:
        pipeline.finish(call)
    except Exception as exc:
        report(f"{provider} call end", exc)


def run_sync(pipeline: Pipeline, call: Call, provider: str, send: Callable[[], Any]) -> Any:
    """Send the request with the call's span current; a failure ends the call and propagates as is."""
    token = activate(pipeline, call, provider)
    try:
        return send()
    except BaseException as exc:
        fail(pipeline, call, exc, provider)
        raise
    finally:
        deactivate(token, provider)


async def run_async(pipeline: Pipeline, call: Call, provider: str, send: Callable[[], Awaitable[Any]]) -> Any:
    """The asyncio twin of :func:`run_sync`."""
    token = activate(pipeline, call, provider)
    try:
        return await send()
    except BaseException as exc:
        fail(pipeline, call, exc, provider)
        raise
    finally:
        deactivate(token, provider)


def apply_policy_model(
    call: Call,
    args: Tuple[Any, ...],
    kwargs: Dict[str, Any],
    rewrite: Callable[[str, Tuple[Any, ...], Dict[str, Any]], Arguments],
    provider: str,
) -> Arguments:
    """The SDK arguments naming the model a tokentrace policy chose (``record.policy_model``).

    A budget's downgrade or a model policy's rewrite decides the model in ``before_call``; the
    adapter's ``rewrite`` puts it into its SDK's request. If that fails, the request goes out as
    the application wrote it and the span says so (no ``tokentrace.model.policy``): a policy is
    never claimed that was not applied.
    """
    model = call.record.policy_model
    if not model:
        return args, kwargs
    try:
        return rewrite(model, args, kwargs)
    except Exception as exc:
        report(f"{provider} model policy", exc)
        call.record.policy_model = None
        return args, kwargs


def options_with_model(model: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Arguments:
    """For SDKs built on Stainless' ``request(cast_to, options, ...)`` (openai, anthropic)."""
    options = args[1] if len(args) > 1 else kwargs["options"]
    body = options.json_data
    if not isinstance(body, Mapping):
        raise TypeError("the request has no JSON body to put the model in")
    new_options = options.model_copy()
    new_options.json_data = {**body, "model": model}
    if len(args) > 1:
        return (args[0], new_options, *args[2:]), kwargs
    return args, {**kwargs, "options": new_options}
