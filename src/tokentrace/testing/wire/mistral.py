"""Mistral AI's wire format: chat completions, FIM (Codestral) and embeddings.

Served under ``/mistral`` (the SDK's ``server_url`` is ``server.mistral_url``) so Mistral's bodies
are not confused with OpenAI's at the same ``/v1/chat/completions`` path. Bodies follow Mistral's
API reference and the ``mistralai`` SDK types: 32-hex ids without prefix, ``usage`` with
``prompt_tokens`` / ``completion_tokens`` / ``total_tokens`` (cached tokens, when reported, in
``prompt_tokens_details.cached_tokens``, included in ``prompt_tokens``); streams are
``chat.completion.chunk`` events whose last chunk carries the ``finish_reason`` *and* the usage,
then ``data: [DONE]``. Errors: ``{"object": "error", "message", "type", "param", "code"}``;
401 is ``{"detail": "Unauthorized"}``.

``ResponsePlan.usage`` is sent verbatim as ``usage``.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Dict, Iterator, List

from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan, StreamReply, count_text_tokens, sse
from .openai import _message_text, _split

DEFAULT_TEXT = "The invoice is 12 days late; a reminder goes out tomorrow."

_ERRORS = {
    400: ("invalid_request_error", "3000", "Invalid model: {model}"),
    404: ("invalid_model", "1500", "Invalid model: {model}"),
    422: ("invalid_request_error", "3051", "Input validation failed"),
    429: ("rate_limited", "1300", "Requests rate limit exceeded"),
    500: ("internal_server_error", "1000", "Internal server error"),
    503: ("service_tier_capacity_exceeded", "3505", "Service tier capacity exceeded for this model."),
}


def register(server: ProviderServer) -> None:
    server.route("POST", r"/mistral/v1/chat/completions", chat)
    server.route("POST", r"/mistral/v1/fim/completions", fim)
    server.route("POST", r"/mistral/v1/embeddings", embeddings)


def _id(seed: str) -> str:
    return hashlib.md5(f"{seed}{time.time_ns()}".encode()).hexdigest()


def _error(plan: ResponsePlan, model: str) -> Reply:
    if plan.error is not None:
        return Reply(plan.status, plan.error, dict(plan.headers))
    if plan.status == 401:
        return Reply(401, {"detail": "Unauthorized"}, dict(plan.headers))
    kind, code, message = _ERRORS.get(plan.status, ("internal_server_error", "1000", "Unexpected error"))
    body = {"object": "error", "message": message.format(model=model), "type": kind, "param": None, "code": code}
    return Reply(plan.status, body, dict(plan.headers))


def usage_of(prompt: int, completion: int, cached: int = 0) -> Dict[str, Any]:
    """A Mistral ``usage`` object: ``prompt_tokens`` include ``cached`` ones."""
    usage: Dict[str, Any] = {"prompt_tokens": prompt, "total_tokens": prompt + completion, "completion_tokens": completion}
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return usage


def _completion(server: ProviderServer, request: ReceivedRequest, plan: ResponsePlan, prompt_text: str) -> Any:
    body = request.json or {}
    requested = str(body.get("model") or "unknown-model")
    if plan.status != 200:
        return _error(plan, requested)
    model = server.answering_model(requested, plan)
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    usage = plan.usage if plan.usage is not None else usage_of(count_text_tokens(prompt_text) + 5, count_text_tokens(text))
    common: Dict[str, Any] = {"id": _id(requested), "created": int(time.time()), "model": model}
    common.update(plan.extra)
    headers = {"mistral-correlation-id": common["id"], **plan.headers}
    if body.get("stream"):
        if plan.events is not None:
            events = (sse(item if isinstance(item, str) else item[1]) for item in plan.events)
            return StreamReply(events, truncate_after=plan.truncate_after, headers=headers)
        return StreamReply(_chunks(common, text, None if plan.omit_usage else usage, plan.chunks), truncate_after=plan.truncate_after,
                           chunk_delay_s=plan.chunk_delay_s, headers=headers)
    if plan.body is not None:
        return Reply(200, plan.body, headers)
    choice = {"index": 0, "message": {"role": "assistant", "content": text, "tool_calls": None, "prefix": False}, "finish_reason": "stop"}
    return Reply(200, {**common, "object": "chat.completion", "usage": usage, "choices": [choice]}, headers)


def _chunks(common: Dict[str, Any], text: str, usage: Any, parts: int) -> Iterator[bytes]:
    base = {"id": common["id"], "object": "chat.completion.chunk", "created": common["created"], "model": common["model"]}
    yield sse(json.dumps({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}))
    pieces: List[str] = _split(text, parts)
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        chunk: Dict[str, Any] = {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": "stop" if last else None}]}
        if last and usage is not None:
            chunk["usage"] = usage
        yield sse(json.dumps(chunk))
    yield sse("[DONE]")


def chat(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    return _completion(server, request, plan, _message_text((request.json or {}).get("messages")))


def fim(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    return _completion(server, request, plan, f"{body.get('prompt') or ''}{body.get('suffix') or ''}")


def embeddings(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    requested = str(body.get("model") or "unknown-model")
    if plan.status != 200:
        return _error(plan, requested)
    if plan.body is not None:
        return Reply(200, plan.body)
    inputs = body.get("input")
    items = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs or []]
    data = []
    for index, item in enumerate(items):
        digest = hashlib.sha256(item.encode()).digest()
        data.append({"object": "embedding", "embedding": [round(b / 255.0 - 0.5, 6) for b in digest[:16]], "index": index})
    tokens = sum(count_text_tokens(item) for item in items)
    usage = plan.usage if plan.usage is not None else {"prompt_tokens": tokens, "total_tokens": tokens, "completion_tokens": 0}
    return Reply(200, {"id": _id(requested), "object": "list", "data": data, "model": server.answering_model(requested, plan), "usage": usage})
