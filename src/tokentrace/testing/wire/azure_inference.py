"""The Azure AI model inference API (Azure AI Foundry ``/models`` endpoints), as
``azure-ai-inference`` calls it: ``POST {endpoint}/chat/completions?api-version=...`` and
``{endpoint}/embeddings``.

Served under ``/azure/models`` (``endpoint=server.azure_inference_url``). Bodies follow the
Azure AI Model Inference REST reference and the SDK's models: ``id``, ``created``, ``model``,
``object``, ``choices[].message`` / ``finish_reason``, ``usage`` (``prompt_tokens``,
``completion_tokens``, ``total_tokens``); streams are ``data:`` chunks with ``choices[].delta``,
the last one carrying the finish reason and the usage, then ``data: [DONE]``. Errors are
``{"error": {"code", "message", "status"}}``; the service echoes ``x-ms-request-id``.

``ResponsePlan.usage`` is sent verbatim as ``usage``.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Dict, Iterator

from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan, StreamReply, count_text_tokens, sse
from .openai import _message_text, _split

DEFAULT_TEXT = "The invoice is 12 days past due; payment reminders were sent twice."
#: What a serverless deployment answers when the request names no model.
DEFAULT_MODEL = "Mistral-Large-2411"

_ERRORS = {
    400: ("Bad Request", "Input validation error"),
    401: ("Unauthorized", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."),
    404: ("unknown_model", "Unknown model: {model}"),
    429: ("RateLimitReached", "Rate limit is exceeded. Try again in 3 seconds."),
    500: ("InternalServerError", "The server had an error while processing your request."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
}


def register(server: ProviderServer) -> None:
    server.route("POST", r"/azure/models/chat/completions", chat)
    server.route("POST", r"/azure/models/embeddings", embeddings)


def _error(plan: ResponsePlan, model: str) -> Reply:
    if plan.error is not None:
        return Reply(plan.status, {"error": plan.error}, dict(plan.headers))
    code, message = _ERRORS.get(plan.status, ("InternalServerError", "Unexpected error."))
    headers = {"x-ms-request-id": str(uuid.uuid4()), **plan.headers}
    if plan.status == 429:
        headers["retry-after"] = "3"
    return Reply(plan.status, {"error": {"code": code, "message": message.format(model=model), "status": plan.status}}, headers)


def usage_of(prompt: int, completion: int) -> Dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def chat(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    requested = str(body.get("model") or DEFAULT_MODEL)
    if plan.status != 200:
        return _error(plan, requested)
    model = server.answering_model(requested, plan)
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    usage = plan.usage if plan.usage is not None else usage_of(count_text_tokens(_message_text(body.get("messages"))) + 6, count_text_tokens(text))
    common: Dict[str, Any] = {"id": uuid.uuid4().hex, "created": int(time.time()), "model": model}
    common.update(plan.extra)
    headers = {"x-ms-request-id": str(uuid.uuid4()), "azureml-model-session": "d1-20261101", **plan.headers}
    if body.get("stream"):
        if plan.events is not None:
            return StreamReply((sse(i if isinstance(i, str) else i[1]) for i in plan.events), truncate_after=plan.truncate_after, headers=headers)
        return StreamReply(_chunks(common, text, None if plan.omit_usage else usage, plan.chunks), truncate_after=plan.truncate_after,
                           chunk_delay_s=plan.chunk_delay_s, headers=headers)
    if plan.body is not None:
        return Reply(200, plan.body, headers)
    choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text, "tool_calls": None}}
    return Reply(200, {**common, "object": "chat.completion", "choices": [choice], "usage": usage}, headers)


def _chunks(common: Dict[str, Any], text: str, usage: Any, parts: int) -> Iterator[bytes]:
    base = {**common, "object": "chat.completion.chunk"}
    yield sse(json.dumps({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}], "usage": None}))
    pieces = _split(text, parts)
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        chunk = {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": "stop" if last else None}],
                 "usage": usage if last else None}
        yield sse(json.dumps(chunk))
    yield sse("[DONE]")


def embeddings(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    requested = str(body.get("model") or "Cohere-embed-v3-english")
    if plan.status != 200:
        return _error(plan, requested)
    if plan.body is not None:
        return Reply(200, plan.body)
    items = [str(i) for i in body.get("input") or []]
    dims = int(body.get("dimensions") or 8)
    data = [{"index": i, "object": "embedding", "embedding": [round(((hash(t) >> (k % 56)) & 255) / 255 - 0.5, 6) for k in range(dims)]}
            for i, t in enumerate(items)]
    tokens = sum(count_text_tokens(t) for t in items)
    usage = plan.usage if plan.usage is not None else {"prompt_tokens": tokens, "total_tokens": tokens}
    return Reply(200, {"id": uuid.uuid4().hex, "object": "list", "data": data, "model": server.answering_model(requested, plan), "usage": usage})
