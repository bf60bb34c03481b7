"""Anthropic's wire format: the Messages API, direct and through Google Vertex AI.

Bodies follow the Anthropic API reference and the ``anthropic`` SDK's types: a ``Message`` with
``id``, ``model``, ``content`` blocks (``thinking`` with its ``signature`` when the request asks
for extended thinking, then ``text``), ``stop_reason`` and ``usage`` (``input_tokens`` *without*
the cache parts, ``cache_creation_input_tokens`` with its ``cache_creation`` 5-minute / 1-hour
breakdown, ``cache_read_input_tokens``, ``output_tokens``, ``service_tier``). Streams send the
documented event sequence ``message_start``, ``content_block_start``, ``ping``,
``content_block_delta`` (``thinking_delta`` / ``signature_delta`` / ``text_delta``),
``content_block_stop``, ``message_delta`` (``stop_reason`` and the *cumulative* usage) and
``message_stop``, each framed with its ``event:`` line. Errors are
``{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}`` with the status
code the API uses for that type and a ``request-id`` header.

Vertex AI's ``:rawPredict`` / ``:streamRawPredict`` take the same body (the model in the path,
``anthropic_version`` in the body) and answer in the same format. AnthropicBedrock's
``/model/{id}/invoke*`` paths are served by :mod:`.bedrock`.

``ResponsePlan.usage`` is sent verbatim as the message's ``usage``; in a stream,
``message_start`` carries it with ``output_tokens`` 1 (as the API does) and ``message_delta``
the full counts. ``ResponsePlan.error`` with status 200 on a stream sends an ``error`` event
after the first text delta, as the API does when it is overloaded mid-stream.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import unquote

from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan, StreamReply, count_text_tokens, sse

DEFAULT_TEXT = "The invoice arrived three weeks late, so the late fee does not apply."
DEFAULT_THINKING = "The contract says fees apply after 30 days; the invoice came after 21, so no fee."

#: Status code -> (error type, message), from the API reference's error list.
ERRORS = {
    400: ("invalid_request_error", "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"user\" roles in a row"),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "model: {model}"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}

_VERTEX = r"/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/anthropic/models/(?P<model>[^/:]+)"


def register(server: ProviderServer) -> None:
    server.route("POST", r"/v1/messages/count_tokens", count_tokens)
    server.route("POST", r"/v1/messages", messages)
    server.route("POST", _VERTEX + r":rawPredict", messages)
    server.route("POST", _VERTEX + r":streamRawPredict", messages)


# -- helpers ----------------------------------------------------------------------------------------


def _id(prefix: str, seed: str) -> str:
    return prefix + hashlib.sha1(f"{seed}{time.time_ns()}".encode()).hexdigest()[:24]


def _texts(value: Any) -> List[str]:
    """The text of a ``system`` value or a message ``content``: a string or a list of blocks."""
    if isinstance(value, str):
        return [value]
    found: List[str] = []
    for block in value if isinstance(value, list) else []:
        if isinstance(block, dict):
            for key in ("text", "content"):
                found.extend(_texts(block.get(key)))
    return found


def prompt_tokens(body: Dict[str, Any]) -> int:
    """The server's input count: system and messages text, plus the API's per-request framing."""
    parts = _texts(body.get("system"))
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            parts.extend(_texts(message.get("content")))
    return count_text_tokens("\n".join(parts)) + 8


def _split(text: str, parts: int) -> List[str]:
    parts = max(1, parts)
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _thinking_requested(body: Dict[str, Any]) -> bool:
    thinking = body.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")


def _default_usage(body: Dict[str, Any], output_tokens: int) -> Dict[str, Any]:
    return {
        "input_tokens": prompt_tokens(body),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _headers(request_id: str, plan: ResponsePlan) -> Dict[str, str]:
    return {"request-id": request_id, "anthropic-organization-id": "4a1c7b0e-6f2d-4c47-9d1e-0c3b8f6a2e51", **plan.headers}


def error_body(status: int, plan: ResponsePlan, model: str, request_id: str) -> Dict[str, Any]:
    error = plan.error
    if error is None:
        kind, message = ERRORS.get(status, ("api_error", "Internal server error"))
        error = {"type": kind, "message": message.format(model=model)}
    return {"type": "error", "error": error, "request_id": request_id}


def _error_reply(status: int, plan: ResponsePlan, model: str, request_id: str) -> Reply:
    headers = _headers(request_id, plan)
    if status == 429:
        headers.setdefault("retry-after", "1")
    if status in (429, 529, 500):
        headers.setdefault("x-should-retry", "true")
    return Reply(status, error_body(status, plan, model, request_id), headers)


# -- handlers ---------------------------------------------------------------------------------------


def count_tokens(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    body = request.json or {}
    return Reply(200, {"input_tokens": prompt_tokens(body)}, {"request-id": _id("req_011C", "count")})


def messages(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json if isinstance(request.json, dict) else {}
    requested = unquote(match.get("model") or "") or str(body.get("model") or "")
    request_id = _id("req_011C", requested)
    if plan.status != 200:
        return _error_reply(plan.status, plan, requested, request_id)
    model = server.answering_model(requested, plan)
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    thinking = DEFAULT_THINKING if _thinking_requested(body) else None
    output_tokens = count_text_tokens(text) + (count_text_tokens(thinking) if thinking else 0)
    usage = plan.usage if plan.usage is not None else _default_usage(body, output_tokens)
    message_id = _id("msg_01", requested)
    streaming = bool(body.get("stream")) or request.path.endswith(":streamRawPredict")
    if streaming:
        if plan.events is not None:
            return _custom_stream(plan, request_id)
        events = _events(message_id, model, text, thinking, None if plan.omit_usage else usage, plan)
        return StreamReply(
            events, truncate_after=plan.truncate_after, chunk_delay_s=plan.chunk_delay_s, headers=_headers(request_id, plan)
        )
    if plan.body is not None:
        return Reply(200, plan.body, _headers(request_id, plan))
    return Reply(200, _message(message_id, model, text, thinking, usage, plan), _headers(request_id, plan))


def _content(text: str, thinking: Optional[str]) -> List[Dict[str, Any]]:
    blocks: List[Dict[str, Any]] = []
    if thinking is not None:
        blocks.append({"type": "thinking", "thinking": thinking, "signature": _signature(thinking)})
    blocks.append({"type": "text", "text": text, "citations": None})
    return blocks


def _signature(thinking: str) -> str:
    return "EqQBCkgIARABGAIiQ" + hashlib.sha256(thinking.encode()).hexdigest()[:40]


def _message(
    message_id: str, model: str, text: str, thinking: Optional[str], usage: Optional[Dict[str, Any]], plan: ResponsePlan
) -> Dict[str, Any]:
    message: Dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _content(text, thinking),
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }
    if usage is None:
        del message["usage"]
    message.update(plan.extra)
    return message


def _event(payload: Dict[str, Any]) -> bytes:
    return sse(json.dumps(payload), payload["type"])


def _events(
    message_id: str, model: str, text: str, thinking: Optional[str], usage: Optional[Dict[str, Any]], plan: ResponsePlan
) -> Iterator[bytes]:
    start_usage = None if usage is None else {**usage, "output_tokens": 1}
    start = _message(message_id, model, text, thinking, start_usage, plan)
    start.update(content=[], stop_reason=None)
    yield _event({"type": "message_start", "message": start})
    index = 0
    if thinking is not None:
        yield _event({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})
        yield _event({"type": "ping"})
        for piece in _split(thinking, 2):
            yield _event({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": piece}})
        yield _event({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": _signature(thinking)}})
        yield _event({"type": "content_block_stop", "index": 0})
        index = 1
    yield _event({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": "", "citations": None}})
    if thinking is None:
        yield _event({"type": "ping"})
    for number, piece in enumerate(_split(text, plan.chunks)):
        yield _event({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}})
        if number == 0 and plan.error is not None:
            yield _event({"type": "error", "error": plan.error})
            return
    yield _event({"type": "content_block_stop", "index": index})
    delta: Dict[str, Any] = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}}
    if usage is not None:
        # The API repeats the input and cache counts here and gives the cumulative output count.
        delta["usage"] = {
            key: usage[key]
            for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens", "output_tokens_details", "server_tool_use")
            if key in usage
        }
    yield _event(delta)
    yield _event({"type": "message_stop"})


def _custom_stream(plan: ResponsePlan, request_id: str) -> StreamReply:
    def events() -> Iterator[bytes]:
        for item in plan.events or []:
            if isinstance(item, tuple):
                yield sse(item[1], item[0])
            else:
                yield sse(item, json.loads(item).get("type") if item.startswith("{") else None)

    return StreamReply(events(), truncate_after=plan.truncate_after, chunk_delay_s=plan.chunk_delay_s, headers=_headers(request_id, plan))
