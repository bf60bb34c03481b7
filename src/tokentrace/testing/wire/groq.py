"""Groq's wire format (OpenAI-compatible Chat Completions with Groq's own fields).

Served under ``/groq/openai/v1`` (``groq.Groq(base_url=server.groq_url)``; the SDK adds
``/openai/v1``). Bodies follow Groq's API reference and the ``groq`` SDK types: ids
``chatcmpl-<uuid>``, ``system_fingerprint``, ``x_groq.id`` (``req_...``), usage with timings
(``queue_time``, ``prompt_time``, ``completion_time``, ``total_time``). Streams send
``x_groq.id`` on the first chunk and ``x_groq.usage`` on the last (the finish-reason chunk), or an
OpenAI-style usage-only chunk when ``stream_options.include_usage`` is asked for; then
``data: [DONE]``. Errors are ``{"error": {"message", "type", "code"}}``.

``ResponsePlan.usage`` is sent verbatim as ``usage`` (token counts; timings are added when absent).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Dict, Iterator

from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan, StreamReply, count_text_tokens, sse
from .openai import _message_text, _split

DEFAULT_TEXT = "Invoice 4471 is overdue by nine days."

_ERRORS = {
    400: ("invalid_request_error", None, "'messages' : minimum number of items is 1"),
    401: ("invalid_request_error", "invalid_api_key", "Invalid API Key"),
    404: ("invalid_request_error", "model_not_found", "The model `{model}` does not exist or you do not have access to it."),
    429: ("tokens", "rate_limit_exceeded", "Rate limit reached for model `{model}` in organization `org_01test` service tier `on_demand` on tokens per minute (TPM): Limit 6000, Used 5312, Requested 1024. Please try again in 3.36s."),
    500: ("internal_server_error", None, "Internal Server Error"),
    503: ("internal_server_error", "service_unavailable", "Service Unavailable"),
}


def register(server: ProviderServer) -> None:
    server.route("POST", r"/groq/openai/v1/chat/completions", chat)
    server.route("POST", r"/groq/openai/v1/embeddings", embeddings)


def _error(plan: ResponsePlan, model: str) -> Reply:
    if plan.error is not None:
        return Reply(plan.status, {"error": plan.error}, dict(plan.headers))
    kind, code, message = _ERRORS.get(plan.status, ("internal_server_error", None, "Internal Server Error"))
    headers = {"retry-after": "1", **plan.headers} if plan.status == 429 else dict(plan.headers)
    return Reply(plan.status, {"error": {"message": message.format(model=model), "type": kind, "code": code}}, headers)


def usage_of(prompt: int, completion: int, cached: int = 0) -> Dict[str, Any]:
    """A Groq ``usage``: OpenAI's counts (``prompt`` includes ``cached``) and Groq's timings."""
    usage: Dict[str, Any] = {"queue_time": 0.0374, "prompt_tokens": prompt, "prompt_time": 0.0068, "completion_tokens": completion,
                             "completion_time": 0.4633, "total_tokens": prompt + completion, "total_time": 0.4701}
    if cached:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return usage


def chat(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    requested = str(body.get("model") or "unknown-model")
    if plan.status != 200:
        return _error(plan, requested)
    model = server.answering_model(requested, plan)
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    usage = plan.usage if plan.usage is not None else usage_of(count_text_tokens(_message_text(body.get("messages"))) + 9, count_text_tokens(text))
    request_id = "req_" + uuid.uuid4().hex[:26]
    common: Dict[str, Any] = {"id": f"chatcmpl-{uuid.uuid4()}", "created": int(time.time()), "model": model,
                              "system_fingerprint": "fp_" + uuid.uuid5(uuid.NAMESPACE_DNS, model).hex[:10]}
    common.update(plan.extra)
    headers = {"x-request-id": request_id, "x-groq-region": "us-east-1", **plan.headers}
    if body.get("stream"):
        if plan.events is not None:
            return StreamReply((sse(i if isinstance(i, str) else i[1]) for i in plan.events), truncate_after=plan.truncate_after, headers=headers)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamReply(_chunks(common, request_id, text, None if plan.omit_usage else usage, include_usage, plan.chunks),
                           truncate_after=plan.truncate_after, chunk_delay_s=plan.chunk_delay_s, headers=headers)
    if plan.body is not None:
        return Reply(200, plan.body, headers)
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None, "finish_reason": "stop"}
    return Reply(200, {**common, "object": "chat.completion", "choices": [choice], "usage": usage,
                       "usage_breakdown": None, "x_groq": {"id": request_id, "seed": 1234567890}, "service_tier": "on_demand"}, headers)


def _chunks(common: Dict[str, Any], request_id: str, text: str, usage: Any, include_usage: bool, parts: int) -> Iterator[bytes]:
    base = {"object": "chat.completion.chunk", **common}
    first = {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}
    yield sse(json.dumps({**base, "choices": [first], "x_groq": {"id": request_id, "seed": 1234567890}}))
    for piece in _split(text, parts):
        yield sse(json.dumps({**base, "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}]}))
    last: Dict[str, Any] = {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}
    if usage is not None and not include_usage:
        last["x_groq"] = {"id": request_id, "usage": usage}
    yield sse(json.dumps(last))
    if usage is not None and include_usage:
        yield sse(json.dumps({**base, "choices": [], "usage": usage, "x_groq": {"id": request_id, "usage": usage}}))
    yield sse("[DONE]")


def embeddings(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    requested = str(body.get("model") or "unknown-model")
    if plan.status != 200:
        return _error(plan, requested)
    if plan.body is not None:
        return Reply(200, plan.body)
    inputs = body.get("input")
    items = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs or []]
    data = [{"object": "embedding", "index": i, "embedding": [round(((hash(item) >> s) & 255) / 255 - 0.5, 6) for s in range(0, 64, 8)]}
            for i, item in enumerate(items)]
    tokens = sum(count_text_tokens(item) for item in items)
    usage = plan.usage if plan.usage is not None else {"prompt_tokens": tokens, "total_tokens": tokens}
    return Reply(200, {"object": "list", "data": data, "model": server.answering_model(requested, plan), "usage": usage})
