"""Ollama's native wire format: ``/api/chat``, ``/api/generate``, ``/api/embed``, ``/api/embeddings``.

Bodies follow Ollama's API reference (docs/api.md) and the ``ollama`` client's types: streamed
answers (the default for chat and generate, ``"stream": false`` turns it off) are newline-delimited
JSON (``application/x-ndjson``), each part ``{"model", "created_at", "message"|"response",
"done": false}``; the last part has ``"done": true``, ``done_reason`` and the counts
``prompt_eval_count`` / ``eval_count`` with the durations in nanoseconds. Errors are
``{"error": "..."}``. The client's ``host`` is ``server.url``.

``ResponsePlan.usage`` is merged into the final part (``{"prompt_eval_count": ..., "eval_count": ...}``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List

from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan, StreamReply, count_text_tokens
from .openai import _message_text, _split

DEFAULT_TEXT = "The invoice was due on the 3rd; it is now 12 days late."

_ERRORS = {
    400: "invalid options",
    404: "model \"{model}\" not found, try pulling it first",
    429: "server busy, please try again.  maximum pending requests exceeded",
    500: "llama runner process has terminated: signal: killed",
    503: "server overloaded, please retry",
}


def register(server: ProviderServer) -> None:
    server.route("POST", r"/api/chat", chat)
    server.route("POST", r"/api/generate", generate)
    server.route("POST", r"/api/embed", embed)
    server.route("POST", r"/api/embeddings", embeddings)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _error(plan: ResponsePlan, model: str) -> Reply:
    body = plan.error if plan.error is not None else {"error": _ERRORS.get(plan.status, "unexpected error").format(model=model)}
    return Reply(plan.status, body, dict(plan.headers))


def counts(prompt: int, output: int) -> Dict[str, Any]:
    """The final part's counts and durations (ns) as a local llama.cpp runner reports them."""
    return {"total_duration": 5191566416, "load_duration": 2154458, "prompt_eval_count": prompt, "prompt_eval_duration": 383809000,
            "eval_count": output, "eval_duration": 4799921000}


def _answer(server: ProviderServer, request: ReceivedRequest, plan: ResponsePlan, chat_shape: bool) -> Any:
    body = request.json or {}
    requested = str(body.get("model") or "")
    if plan.status != 200:
        return _error(plan, requested)
    model = server.answering_model(requested, plan)
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    prompt_text = _message_text(body.get("messages")) if chat_shape else str(body.get("prompt") or "")
    final = counts(count_text_tokens(prompt_text) + 10, count_text_tokens(text))
    if plan.usage is not None:
        final = {**final, **plan.usage}
    if plan.omit_usage:
        final = {k: v for k, v in final.items() if k not in ("prompt_eval_count", "eval_count")}

    def part(piece: str, done: bool) -> Dict[str, Any]:
        result: Dict[str, Any] = {"model": model, "created_at": _now()}
        if chat_shape:
            result["message"] = {"role": "assistant", "content": piece}
        else:
            result["response"] = piece
        result["done"] = done
        if done:
            result["done_reason"] = "stop"
            if not chat_shape:
                result["context"] = [1, 2, 3]
            result.update(final)
        result.update(plan.extra)
        return result

    if body.get("stream", True) is False:
        if plan.body is not None:
            return Reply(200, plan.body, dict(plan.headers))
        return Reply(200, part(text, True), dict(plan.headers))

    def lines() -> Iterator[bytes]:
        if plan.events is not None:
            for item in plan.events:
                yield ((item if isinstance(item, str) else item[1]) + "\n").encode()
            return
        for piece in _split(text, plan.chunks):
            yield (json.dumps(part(piece, False)) + "\n").encode()
        yield (json.dumps(part("", True)) + "\n").encode()

    return StreamReply(lines(), content_type="application/x-ndjson", truncate_after=plan.truncate_after,
                       chunk_delay_s=plan.chunk_delay_s, headers=dict(plan.headers))


def chat(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    return _answer(server, request, plan, chat_shape=True)


def generate(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    return _answer(server, request, plan, chat_shape=False)


def _vector(text: str, dims: int = 8) -> List[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round(digest[i % len(digest)] / 255.0 - 0.5, 6) for i in range(dims)]


def embed(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    requested = str(body.get("model") or "")
    if plan.status != 200:
        return _error(plan, requested)
    if plan.body is not None:
        return Reply(200, plan.body)
    value = body.get("input")
    items = [value] if isinstance(value, str) else [str(v) for v in value or []]
    result: Dict[str, Any] = {"model": server.answering_model(requested, plan), "embeddings": [_vector(i, int(body.get("dimensions") or 8)) for i in items],
                              "total_duration": 14143917, "load_duration": 1019500,
                              "prompt_eval_count": sum(count_text_tokens(i) for i in items)}
    if plan.usage is not None:
        result.update(plan.usage)
    return Reply(200, result)


def embeddings(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    """The legacy endpoint: one vector, no counts."""
    body = request.json or {}
    if plan.status != 200:
        return _error(plan, str(body.get("model") or ""))
    return Reply(200, {"embedding": _vector(str(body.get("prompt") or ""))})
