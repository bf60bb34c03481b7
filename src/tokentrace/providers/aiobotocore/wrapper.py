"""The wrapper around ``AioBaseClient._make_api_call`` for the ``bedrock-runtime`` operations.

The async twin of :mod:`..bedrock.wrapper`: the same request record, policy rewrite and baggage
hook, with the response read by the shared Bedrock extractors. Streaming operations get their
``AioEventStream`` wrapped in the shared async-iterable proxy. InvokeModel's body is an async
streaming body the app awaits itself; tokentrace reads it once and puts back an async body over
the same bytes (a read error is replayed on the app's own ``read()``).
"""

from __future__ import annotations

import io
from typing import Any, Callable, Dict, Optional, Tuple

from ...core.pipeline import Pipeline
from ...core.safety import report
from .. import flow
from ..bedrock import extract
from ..bedrock.wrapper import open_call
from ..proxies import AsyncIterableProxy
from .streams import AsyncStreamState

_PROVIDER = "Bedrock (aiobotocore)"


def make_api_call_wrapper(pipeline: Pipeline) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        opened = open_call(pipeline, instance, args, kwargs, _PROVIDER)
        if opened is None:
            return await wrapped(*args, **kwargs)
        call, operation, args, kwargs = opened
        result = await flow.run_async(pipeline, call, _PROVIDER, lambda: wrapped(*args, **kwargs))
        return await _handle(pipeline, call, operation, result)

    return wrapper


async def _handle(pipeline: Pipeline, call: Any, operation: str, result: Any) -> Any:
    """Fill the response half (or install the stream proxy); never raises into the app."""
    try:
        capture = pipeline.config.capture_any
        if operation == "Converse":
            extract.fill_converse(call.record, result, capture)
        elif operation in extract.STREAM_OPERATIONS:
            key = "stream" if operation == "ConverseStream" else "body"
            state = AsyncStreamState(call, pipeline, converse=operation == "ConverseStream")
            result[key] = AsyncIterableProxy(result[key], state)
            return result
        else:
            data = await _rebuffer_body(result)
            headers = (result.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
            body = extract.parse_body(data) if data is not None else None
            extract.fill_invoke(call.record, body, headers, capture)
    except Exception as exc:
        report(f"Bedrock (aiobotocore) {operation} response", exc)
    flow.finish(pipeline, call, _PROVIDER)
    return result


def _buffered_body_class() -> Optional[type]:
    """An aiobotocore async body over bytes already read (None on releases without the base)."""
    global _BODY_CLASS
    if _BODY_CLASS is not None:
        return _BODY_CLASS
    try:
        from aiobotocore.response import AioStreamingBodyBase
    except ImportError:
        return None

    class BufferedBody(AioStreamingBodyBase):
        """The bytes the real body held (or the error reading it raised), read the same way."""

        def __init__(self, original: Any, data: bytes, error: Optional[BaseException]) -> None:
            super().__init__(getattr(original, "_raw_stream", None), len(data) if error is None else None)
            self._tokentrace_bytes = io.BytesIO(data)
            self._tokentrace_error = error

        def readable(self) -> bool:
            return self._tokentrace_error is not None or self._tokentrace_bytes.tell() < len(self._tokentrace_bytes.getbuffer())

        async def read(self, amt: Optional[int] = None) -> bytes:
            if self._tokentrace_error is not None:
                raise self._tokentrace_error
            chunk = self._tokentrace_bytes.read(amt if amt is not None else -1)
            self._amount_read += len(chunk)
            if amt is None or (not chunk and amt > 0):
                self._verify_content_length()
            return chunk

        async def readinto(self, b: Any) -> int:
            chunk = await self.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

        def close(self) -> None:
            raw = self._raw_stream
            if raw is not None and callable(getattr(raw, "close", None)):
                raw.close()

        async def aclose(self) -> None:
            self.close()

    _BODY_CLASS = BufferedBody
    return BufferedBody


_BODY_CLASS: Optional[type] = None


async def _rebuffer_body(result: Any) -> Optional[bytes]:
    """Read InvokeModel's body once and give the app an equivalent async body."""
    body_class = _buffered_body_class()
    body = result.get("body")
    if body_class is None or body is None or not callable(getattr(body, "read", None)):
        return None
    try:
        data = await body.read()
    except Exception as exc:
        result["body"] = body_class(body, b"", exc)
        return None
    result["body"] = body_class(body, data, None)
    return data
