"""The wrapper around ``BaseClient._make_api_call`` for the ``bedrock-runtime`` operations.

Every tokentrace step is guarded: a failure is reported once and the call goes on untouched,
and the SDK's own exceptions reach the application unchanged. Streaming operations get their
``EventStream`` replaced by a proxy in the SDK's response dict. InvokeModel's body is a
``StreamingBody`` the app reads itself; tokentrace reads it once and puts back a
``StreamingBody`` over the same bytes, so the app reads exactly what Bedrock sent (a read error
is replayed to the app on its own ``read()``).
"""

from __future__ import annotations

import io
import weakref
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ...attribution.propagation import register_provider_url
from ...core.pipeline import Pipeline
from ...core.safety import report
from .. import flow
from . import extract
from .streams import EventStreamProxy, StreamState

_SERVICE = "bedrock-runtime"
_PROVIDER = "Bedrock"
_HOOK_ID = "tokentrace-strip-attribution-baggage"
_hooked: weakref.WeakSet[Any] = weakref.WeakSet()


def open_call(
    pipeline: Pipeline, instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], provider: str
) -> Optional[Tuple[Any, str, Tuple[Any, ...], Dict[str, Any]]]:
    """The request half shared by boto3 and aiobotocore: ``(call, operation, args, kwargs)``.

    ``None`` when the call is not one tokentrace traces (another service or operation, or no
    call could be opened); ``args``/``kwargs`` carry a policy's model rewrite. Never raises.
    """
    service = getattr(getattr(instance, "_service_model", None), "service_name", None)
    if service != _SERVICE:
        return None
    try:
        _ensure_baggage_hook(instance)
    except Exception as exc:
        report(f"{provider} baggage hook", exc)
    try:
        operation, params = _arguments(args, kwargs)
    except Exception as exc:
        report(f"{provider} request", exc)
        operation, params = "", {}
    if operation not in extract.OPERATIONS:
        return None

    def build() -> Any:
        record = extract.request_record(operation, params, getattr(instance.meta, "endpoint_url", None))
        if pipeline.config.capture_any:
            _capture_input(record, operation, params)
        return record

    call = flow.open_call(pipeline, build, provider, rewrites_model=True)
    if call is None:
        return None
    args, kwargs = flow.apply_policy_model(call, args, kwargs, _with_model_id, provider)
    return call, operation, args, kwargs


def make_api_call_wrapper(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        opened = open_call(pipeline, instance, args, kwargs, _PROVIDER)
        if opened is None:
            return wrapped(*args, **kwargs)
        call, operation, args, kwargs = opened
        result = flow.run_sync(pipeline, call, _PROVIDER, lambda: wrapped(*args, **kwargs))
        return _handle(pipeline, call, operation, result)

    return wrapper


def _with_model_id(model: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Tuple[Any, ...], Dict[str, Any]]:
    """``_make_api_call(operation_name, api_params)``: every runtime operation names ``modelId``."""
    if len(args) > 1:
        return (args[0], {**args[1], "modelId": model}, *args[2:]), kwargs
    return args, {**kwargs, "api_params": {**kwargs["api_params"], "modelId": model}}


def _arguments(args: Tuple[Any, ...], kwargs: Mapping[str, Any]) -> Tuple[str, Mapping[str, Any]]:
    operation = args[0] if args else kwargs.get("operation_name")
    params = args[1] if len(args) > 1 else kwargs.get("api_params")
    return str(operation), params if isinstance(params, Mapping) else {}


def _capture_input(record: Any, operation: str, params: Mapping[str, Any]) -> None:
    source: Mapping[str, Any] = params
    if operation in extract.INVOKE_OPERATIONS:
        source = extract.parse_body(params.get("body")) or {}
    record.input_messages = extract.input_messages(source)
    record.system_instructions = extract.system_instructions(source)


def _handle(pipeline: Pipeline, call: Any, operation: str, result: Any) -> Any:
    """Fill the response half (or install the stream proxy); never raises into the app."""
    try:
        capture = pipeline.config.capture_any
        if operation == "Converse":
            extract.fill_converse(call.record, result, capture)
        elif operation == "ConverseStream":
            result["stream"] = EventStreamProxy(result["stream"], StreamState(call, pipeline), converse=True)
            return result
        elif operation == "InvokeModelWithResponseStream":
            result["body"] = EventStreamProxy(result["body"], StreamState(call, pipeline), converse=False)
            return result
        else:
            data = _rebuffer_body(result)
            headers = (result.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
            body = extract.parse_body(data) if data is not None else None
            extract.fill_invoke(call.record, body, headers, capture)
    except Exception as exc:
        report(f"Bedrock {operation} response", exc)
    flow.finish(pipeline, call, _PROVIDER)
    return result


class _FailedRead(io.RawIOBase):
    """A body whose first read raises what reading the real body raised."""

    def __init__(self, error: BaseException) -> None:
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise self._error


def _rebuffer_body(result: Any) -> Any:
    """Read InvokeModel's body once and give the app an equivalent ``StreamingBody``."""
    from botocore.response import StreamingBody

    body = result.get("body")
    if not isinstance(body, StreamingBody):
        return None
    try:
        data = body.read()
    except Exception as exc:
        result["body"] = StreamingBody(io.BufferedReader(_FailedRead(exc)), None)
        return None
    result["body"] = StreamingBody(io.BytesIO(data), len(data))
    return data


def _ensure_baggage_hook(client: Any) -> None:
    """Register, once per client, the before-sign hook that strips attribution baggage.

    ``before-sign`` and not ``before-send``: SigV4 signs the headers, so a header changed after
    signing would invalidate the signature. The hook stays registered after ``uninstrument()``
    but only removes tokentrace's own baggage members.
    """
    if client in _hooked:
        return
    register_provider_url(getattr(client.meta, "endpoint_url", None))
    client.meta.events.register(f"before-sign.{_SERVICE}", _strip_baggage, unique_id=_HOOK_ID)
    _hooked.add(client)


def _strip_baggage(request: Any = None, **_: Any) -> None:
    """botocore ``before-sign`` handler (botocore's headers append on assignment, hence del + set)."""
    try:
        headers: Any = getattr(request, "headers", None)
        value = headers.get("baggage") if headers is not None else None
        if value is None:
            return None
        from ...attribution.propagation import strip_attribution_baggage

        plain: Dict[str, str] = {"baggage": value}
        strip_attribution_baggage(plain)
        if plain.get("baggage") != value:
            del headers["baggage"]
            if plain.get("baggage"):
                headers["baggage"] = plain["baggage"]
    except Exception as exc:
        report("Bedrock baggage stripping", exc)
    return None
