"""Cohere's v2 wire format: ``/v2/chat`` (JSON and SSE), ``/v2/embed`` and ``/v2/rerank``.

Bodies follow Cohere's API reference and the ``cohere`` SDK types: chat answers carry ``id``,
``finish_reason`` (``COMPLETE``, ``MAX_TOKENS`` ...), ``message.content`` blocks and ``usage`` with
``billed_units`` (what is charged), ``tokens`` (what the model processed, preamble included, so
larger) and ``cached_tokens``; no model name. Streams are ``event: <type>`` SSE events
(``message-start``, ``content-start``, ``content-delta``, ``content-end``, ``message-end`` with the
finish reason and usage). Embed and rerank report ``meta.billed_units``. Errors are
``{"id", "message"}``.

``ResponsePlan.usage`` is sent verbatim as the chat ``usage``, and as ``meta.billed_units`` for
embed and rerank.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, Dict, Iterator

from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan, StreamReply, count_text_tokens, sse
from .openai import _message_text, _split

DEFAULT_TEXT = "Invoice INV-2291 is 12 days overdue; the customer was reminded on Monday."
#: Cohere's system preamble: counted in ``usage.tokens``, not billed.
PREAMBLE_TOKENS = 198

_MESSAGES = {
    400: "invalid request: model '{model}' not found, make sure the correct model ID was used and that you have access to the model.",
    401: "invalid api token",
    404: "model '{model}' not found, make sure the correct model ID was used and that you have access to the model.",
    429: "You are using a Trial key, which is limited to 10 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'.",
    500: "internal server error, this has been reported to our developers.",
    503: "service unavailable",
}


def register(server: ProviderServer) -> None:
    server.route("POST", r"/v2/chat", chat)
    server.route("POST", r"/v2/embed", embed)
    server.route("POST", r"/v2/rerank", rerank)


def _error(plan: ResponsePlan, model: str) -> Reply:
    body = plan.error if plan.error is not None else {"id": str(uuid.uuid4()), "message": _MESSAGES.get(plan.status, "unexpected error").format(model=model)}
    return Reply(plan.status, body, dict(plan.headers))


def usage_of(billed_input: int, billed_output: int, cached: int = 0) -> Dict[str, Any]:
    """A Cohere chat ``usage``: ``billed_units`` as charged; ``tokens`` include the preamble."""
    return {
        "billed_units": {"input_tokens": billed_input, "output_tokens": billed_output},
        "tokens": {"input_tokens": billed_input + PREAMBLE_TOKENS, "output_tokens": billed_output},
        "cached_tokens": cached,
    }


def chat(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    model = str(body.get("model") or "unknown-model")
    if plan.status != 200:
        return _error(plan, model)
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    usage = plan.usage if plan.usage is not None else usage_of(count_text_tokens(_message_text(body.get("messages"))), count_text_tokens(text))
    response_id = str(uuid.uuid4())
    headers = {"x-debug-trace-id": hashlib.md5(response_id.encode()).hexdigest(), "num_tokens": "0", **plan.headers}
    if body.get("stream"):
        if plan.events is not None:
            raw = (sse(i, None) if isinstance(i, str) else sse(i[1], i[0]) for i in plan.events)
            return StreamReply(raw, truncate_after=plan.truncate_after, headers=headers)
        return StreamReply(_events(response_id, text, None if plan.omit_usage else usage, plan.chunks), truncate_after=plan.truncate_after,
                           chunk_delay_s=plan.chunk_delay_s, headers=headers)
    if plan.body is not None:
        return Reply(200, plan.body, headers)
    result = {"id": response_id, "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
              "finish_reason": "COMPLETE", "usage": usage}
    result.update(plan.extra)
    return Reply(200, result, headers)


def _events(response_id: str, text: str, usage: Any, parts: int) -> Iterator[bytes]:
    def event(kind: str, payload: Dict[str, Any]) -> bytes:
        return sse(json.dumps({"type": kind, **payload}), kind)

    yield event("message-start", {"id": response_id, "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}})
    yield event("content-start", {"index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}})
    for piece in _split(text, parts):
        yield event("content-delta", {"index": 0, "delta": {"message": {"content": {"text": piece}}}})
    yield event("content-end", {"index": 0})
    end: Dict[str, Any] = {"finish_reason": "COMPLETE"}
    if usage is not None:
        end["usage"] = usage
    yield event("message-end", {"delta": end})


def _meta(billed: Dict[str, Any]) -> Dict[str, Any]:
    return {"api_version": {"version": "2"}, "billed_units": billed}


def embed(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    model = str(body.get("model") or "unknown-model")
    if plan.status != 200:
        return _error(plan, model)
    if plan.body is not None:
        return Reply(200, plan.body)
    texts = [str(t) for t in body.get("texts") or []]
    dims = int(body.get("output_dimension") or 8)
    vectors = [[round(b / 255.0 - 0.5, 6) for b in (hashlib.sha256(t.encode()).digest() * 4)[:dims]] for t in texts]
    kinds = body.get("embedding_types") or ["float"]
    embeddings = {kind: vectors if kind == "float" else [[int(v * 254) for v in vec] for vec in vectors] for kind in kinds}
    billed = plan.usage if plan.usage is not None else {"input_tokens": sum(count_text_tokens(t) for t in texts)}
    return Reply(200, {"id": str(uuid.uuid4()), "embeddings": embeddings, "texts": texts, "meta": _meta(billed), "response_type": "embeddings_by_type"})


def rerank(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    model = str(body.get("model") or "unknown-model")
    if plan.status != 200:
        return _error(plan, model)
    if plan.body is not None:
        return Reply(200, plan.body)
    query = str(body.get("query") or "")
    documents = [d if isinstance(d, str) else json.dumps(d) for d in body.get("documents") or []]
    scored = sorted(((len(set(query.split()) & set(doc.split())) + 1 / (i + 2), i) for i, doc in enumerate(documents)), reverse=True)
    top = scored[: int(body.get("top_n") or len(scored))]
    results = [{"index": i, "relevance_score": round(min(0.999, score / 10), 6)} for score, i in top]
    billed = plan.usage if plan.usage is not None else {"search_units": 1 + len(documents) // 100}
    return Reply(200, {"id": str(uuid.uuid4()), "results": results, "meta": _meta(billed)})


