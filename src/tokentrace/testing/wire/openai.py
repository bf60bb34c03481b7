"""OpenAI's wire format: chat completions, responses, embeddings and legacy completions.

Bodies follow the OpenAI API reference and the ``openai`` SDK's types: ids, ``created``,
``system_fingerprint``, ``service_tier``, usage with ``prompt_tokens_details`` /
``completion_tokens_details``; streams end with the usage-only chunk (when
``stream_options.include_usage`` asks for it) and ``data: [DONE]``. A server built with
``openai_flavour`` imitates the quirks of OpenAI-compatible hosts (:data:`FLAVOURS`). Azure OpenAI's
``/openai/deployments/{deployment}/...`` paths are served by the same handlers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import time
from typing import Any, Dict, Iterator, List, Optional

from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan, StreamReply, count_text_tokens, sse

_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request: the request body is not valid."),
    404: ("invalid_request_error", "model_not_found", "The model `{model}` does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for {model} in organization org-test on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


#: Quirks of OpenAI-compatible hosts seen in recorded traffic, for ``ProviderServer(openai_flavour=...)``.
FLAVOURS = {
    "null_usage": 'every chunk carries "usage": null, asked or not (vLLM, Hugging Face router, local servers)',
    "usage_chunk": "the usage-only chunk is sent whether or not the request asks for it (Together)",
    "moderation": "a chunk after the last choice carries a moderation report; usage, when sent, rides on it",
    "null_choices": 'the usage chunk says "choices": null instead of [] (Writer)',
    "content_parts": "delta.content is a list of parts, a thinking part first (Mistral's reasoning models)",
}

_MODERATION = {
    "type": "moderation_results",
    "model": "omni-moderation-latest",
    "results": [
        {
            "type": "moderation_result",
            "model": "omni-moderation-latest",
            "flagged": False,
            "categories": {"violence": False},
            "category_scores": {"violence": 0.0012},
            "category_applied_input_types": {"violence": ["text"]},
        }
    ],
}


def check_flavour(flavour: Any) -> frozenset:
    """The flavour as a frozenset, refusing names that are not in :data:`FLAVOURS`."""
    chosen = frozenset([flavour] if isinstance(flavour, str) else flavour)
    unknown = sorted(chosen - set(FLAVOURS))
    if unknown:
        raise ValueError(f"unknown OpenAI host flavour(s) {unknown}; known: {sorted(FLAVOURS)}")
    return chosen


def register(server: ProviderServer) -> None:
    #: Background responses by id (see :func:`retrieve_response`).
    server.openai_background = {}  # type: ignore[attr-defined]
    for prefix in (r"/v1", r"/openai/deployments/(?P<deployment>[^/]+)", r"/api/v1", r"/openai/v1"):
        server.route("POST", prefix + r"/chat/completions", chat_completions)
        server.route("POST", prefix + r"/responses", responses)
        server.route("GET", prefix + r"/responses/(?P<response_id>[^/]+)", retrieve_response)
        server.route("POST", prefix + r"/responses/(?P<response_id>[^/]+)/cancel", cancel_response)
        server.route("POST", prefix + r"/embeddings", embeddings)
        server.route("POST", prefix + r"/completions", completions)
        server.route("GET", prefix + r"/models", list_models)


def list_models(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    """``GET /v1/models`` (an endpoint tokentrace does not trace), as the API reference shows it."""
    models = ("gpt-4o-mini", "gpt-4o", "text-embedding-3-small")
    return Reply(200, {"object": "list", "data": [{"id": m, "object": "model", "created": 1715367049, "owned_by": "system"} for m in models]})


# -- shared helpers ---------------------------------------------------------------------------------


def _id(prefix: str, seed: str) -> str:
    return prefix + hashlib.sha1(f"{seed}{time.time_ns()}".encode()).hexdigest()[:24]


def _fingerprint(model: str) -> str:
    return "fp_" + hashlib.sha1(model.encode()).hexdigest()[:10]


def _message_text(messages: Any) -> str:
    parts: List[str] = []
    for message in messages or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


def _error(request: ReceivedRequest, plan: ResponsePlan, model: str) -> Reply:
    if plan.error is not None:
        return Reply(plan.status, {"error": plan.error}, dict(plan.headers))
    if plan.status == 401:
        key = request.headers.get("authorization", "").removeprefix("Bearer ").strip() or request.headers.get("api-key", "")
        masked = key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 7 else "****"
        body = {
            "message": f"Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    else:
        kind, code, message = _ERRORS.get(plan.status, ("server_error", None, "Unexpected error."))
        body = {"message": message.format(model=model), "type": kind, "param": None, "code": code}
    headers = dict(plan.headers)
    if plan.status == 429:
        headers.setdefault("retry-after-ms", "10")
    return Reply(plan.status, {"error": body}, headers)


def _reply_text(model: str, plan: ResponsePlan, body: Dict[str, Any]) -> str:
    if plan.text is not None:
        return plan.text
    fmt = body.get("response_format") or {}
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {}
        return json.dumps(_example_for_schema(schema))
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return json.dumps({"answer": "ok"})
    return f"Here is a concise answer from {model}: the quarterly spend rose 12% as retries doubled."


def _example_for_schema(schema: Dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: _example_for_schema(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_example_for_schema(schema.get("items") or {"type": "string"})]
    return {"integer": 1, "number": 1.5, "boolean": True, "null": None}.get(str(kind), "example")


def _split(text: str, parts: int) -> List[str]:
    parts = max(1, parts)
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def openai_usage(prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> Dict[str, Any]:
    """A Chat Completions ``usage`` object as the API sends it: ``prompt`` includes ``cached``,
    ``completion`` includes ``reasoning``."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _requested_model(body: Dict[str, Any], match: Dict[str, str]) -> str:
    return str(body.get("model") or match.get("deployment") or "unknown-model")


def _custom_stream(plan: ResponsePlan) -> StreamReply:
    def events() -> Iterator[bytes]:
        for item in plan.events or []:
            if isinstance(item, tuple):
                yield sse(item[1], item[0])
            else:
                yield sse(item)

    return StreamReply(events(), truncate_after=plan.truncate_after, chunk_delay_s=plan.chunk_delay_s, headers=dict(plan.headers))


# -- chat completions -------------------------------------------------------------------------------


def chat_completions(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    requested = _requested_model(body, match)
    if plan.status != 200:
        return _error(request, plan, requested)
    model = server.answering_model(requested, plan)
    text = _reply_text(model, plan, body)
    choices_n = int(body.get("n") or 1)
    usage = plan.usage or openai_usage(count_text_tokens(_message_text(body.get("messages"))) + 7, count_text_tokens(text) * choices_n)
    completion_id = _id("chatcmpl-", requested)
    created = int(time.time())
    common = {"id": completion_id, "created": created, "model": model, "system_fingerprint": _fingerprint(model)}
    service_tier = body.get("service_tier") if body.get("service_tier") not in (None, "auto") else "default"
    common["service_tier"] = service_tier
    common.update(plan.extra)
    if body.get("stream"):
        if plan.events is not None:
            return _custom_stream(plan)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) and not plan.omit_usage
        return StreamReply(
            _chat_chunks(common, text, choices_n, usage, include_usage, plan.chunks, server.openai_flavour),
            truncate_after=plan.truncate_after,
            chunk_delay_s=plan.chunk_delay_s,
            headers={"x-request-id": "req_" + completion_id[-12:], **plan.headers},
        )
    if plan.body is not None:
        return Reply(200, plan.body, dict(plan.headers))
    choices: List[Dict[str, Any]] = [
        {
            "index": i,
            "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
        for i in range(choices_n)
    ]
    return Reply(
        200,
        {"object": "chat.completion", **common, "choices": choices, "usage": usage},
        {"x-request-id": "req_" + completion_id[-12:], "openai-processing-ms": "412", **plan.headers},
    )


def _chat_chunks(
    common: Dict[str, Any], text: str, choices_n: int, usage: Dict[str, Any], include_usage: bool, parts: int, flavour: frozenset = frozenset()
) -> Iterator[bytes]:
    base = {"object": "chat.completion.chunk", **common}
    if include_usage or "null_usage" in flavour:
        base["usage"] = None
    send_usage = include_usage or "usage_chunk" in flavour
    thinking = "content_parts" in flavour
    for index in range(choices_n):
        content: Any = [{"type": "thinking", "thinking": [{"type": "text", "text": "The user wants the spend."}]}] if thinking else ""
        first = {"index": index, "delta": {"role": "assistant", "content": content, "refusal": None}, "logprobs": None, "finish_reason": None}
        yield sse(json.dumps({**base, "choices": [first]}))
        for piece in _split(text, parts):
            piece_content: Any = [{"type": "text", "text": piece}] if thinking else piece
            delta = {"index": index, "delta": {"content": piece_content}, "logprobs": None, "finish_reason": None}
            yield sse(json.dumps({**base, "choices": [delta]}))
        yield sse(json.dumps({**base, "choices": [{"index": index, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}))
    empty_choices: Optional[List[Any]] = None if "null_choices" in flavour else []
    if "moderation" in flavour:
        tail = {**base, "choices": empty_choices, "moderation": _MODERATION}
        if send_usage:
            tail["usage"] = usage
        yield sse(json.dumps(tail))
    elif send_usage:
        yield sse(json.dumps({**base, "choices": empty_choices, "usage": usage}))
    yield sse("[DONE]")


# -- legacy completions -----------------------------------------------------------------------------


def completions(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    requested = _requested_model(body, match)
    if plan.status != 200:
        return _error(request, plan, requested)
    model = server.answering_model(requested, plan)
    prompt = body.get("prompt")
    prompt_text = prompt if isinstance(prompt, str) else " ".join(map(str, prompt or []))
    text = plan.text if plan.text is not None else " the invoice arrived three weeks late."
    usage = plan.usage or {
        "prompt_tokens": count_text_tokens(prompt_text),
        "completion_tokens": count_text_tokens(text),
        "total_tokens": count_text_tokens(prompt_text) + count_text_tokens(text),
    }
    common = {"id": _id("cmpl-", requested), "object": "text_completion", "created": int(time.time()), "model": model, "system_fingerprint": _fingerprint(model)}
    common.update(plan.extra)
    if body.get("stream"):
        if plan.events is not None:
            return _custom_stream(plan)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) and not plan.omit_usage
        flavour = server.openai_flavour

        def chunks() -> Iterator[bytes]:
            pieces = _split(text, plan.chunks)
            for i, piece in enumerate(pieces):
                finish = "length" if i == len(pieces) - 1 else None
                chunk = {**common, "choices": [{"text": piece, "index": 0, "logprobs": None, "finish_reason": finish}]}
                if include_usage or "null_usage" in flavour:
                    chunk["usage"] = None
                yield sse(json.dumps(chunk))
            if include_usage or "usage_chunk" in flavour:
                yield sse(json.dumps({**common, "choices": None if "null_choices" in flavour else [], "usage": usage}))
            yield sse("[DONE]")

        return StreamReply(chunks(), truncate_after=plan.truncate_after, headers=dict(plan.headers))
    if plan.body is not None:
        return Reply(200, plan.body)
    return Reply(200, {**common, "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "length"}], "usage": usage})


# -- embeddings -------------------------------------------------------------------------------------


def embeddings(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    requested = _requested_model(body, match)
    if plan.status != 200:
        return _error(request, plan, requested)
    if plan.body is not None:
        return Reply(200, plan.body)
    inputs = body.get("input")
    items = [inputs] if isinstance(inputs, str) else list(inputs or [])
    dimensions = int(body.get("dimensions") or 8)
    data = []
    for index, item in enumerate(items):
        digest = hashlib.sha256(str(item).encode()).digest()
        vector = [((digest[i % len(digest)] / 255.0) - 0.5) for i in range(dimensions)]
        if body.get("encoding_format") == "base64":
            embedding: Any = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        else:
            embedding = vector
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(count_text_tokens(str(item)) for item in items)
    usage = plan.usage or {"prompt_tokens": tokens, "total_tokens": tokens}
    return Reply(200, {"object": "list", "data": data, "model": server.answering_model(requested, plan), "usage": usage})


# -- responses --------------------------------------------------------------------------------------


def _responses_input_text(body: Dict[str, Any]) -> str:
    value = body.get("input")
    text = value if isinstance(value, str) else _message_text(value)
    return (body.get("instructions") or "") + text


def _response_object(
    response_id: str, model: str, body: Dict[str, Any], text: Optional[str], usage: Optional[Dict[str, Any]], status: str, plan: ResponsePlan
) -> Dict[str, Any]:
    output = []
    if text is not None:
        output.append(
            {
                "type": "message",
                "id": "msg_" + response_id[5:],
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
        )
    result = {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": (body.get("reasoning") or {}).get("effort"), "summary": None},
        "service_tier": body.get("service_tier") if body.get("service_tier") not in (None, "auto") else "default",
        "store": True,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }
    result.update(plan.extra)
    return result


def responses(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    body = request.json or {}
    requested = _requested_model(body, match)
    if plan.status != 200:
        return _error(request, plan, requested)
    model = server.answering_model(requested, plan)
    text = _reply_text(model, plan, {"response_format": ((body.get("text") or {}).get("format"))})
    input_tokens = count_text_tokens(_responses_input_text(body)) + 7
    output_tokens = count_text_tokens(text)
    usage = plan.usage or {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }
    response_id = _id("resp_", requested)
    if body.get("background") is True:
        return _background_create(server, response_id, model, body, text, usage, plan)
    if not body.get("stream"):
        if plan.body is not None:
            return Reply(200, plan.body)
        return Reply(200, _response_object(response_id, model, body, text, usage, "completed", plan))
    if plan.events is not None:
        return _custom_stream(plan)
    return StreamReply(
        _response_events(response_id, model, body, text, None if plan.omit_usage else usage, plan),
        truncate_after=plan.truncate_after,
        chunk_delay_s=plan.chunk_delay_s,
    )


def _response_events(
    response_id: str, model: str, body: Dict[str, Any], text: str, usage: Optional[Dict[str, Any]], plan: ResponsePlan
) -> Iterator[bytes]:
    sequence = 0
    item_id = "msg_" + response_id[5:]

    def event(kind: str, payload: Dict[str, Any]) -> bytes:
        nonlocal sequence
        data = {"type": kind, "sequence_number": sequence, **payload}
        sequence += 1
        return sse(json.dumps(data), kind)

    in_progress = _response_object(response_id, model, body, None, None, "in_progress", plan)
    yield event("response.created", {"response": in_progress})
    yield event("response.in_progress", {"response": in_progress})
    yield event(
        "response.output_item.added",
        {"output_index": 0, "item": {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}},
    )
    yield event(
        "response.content_part.added",
        {"item_id": item_id, "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []}},
    )
    for piece in _split(text, plan.chunks):
        yield event("response.output_text.delta", {"item_id": item_id, "output_index": 0, "content_index": 0, "delta": piece, "logprobs": []})
    yield event("response.output_text.done", {"item_id": item_id, "output_index": 0, "content_index": 0, "text": text, "logprobs": []})
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    yield event("response.content_part.done", {"item_id": item_id, "output_index": 0, "content_index": 0, "part": part})
    item = {"id": item_id, "type": "message", "status": "completed", "role": "assistant", "content": [part]}
    yield event("response.output_item.done", {"output_index": 0, "item": item})
    yield event("response.completed", {"response": _response_object(response_id, model, body, text, usage, "completed", plan)})


# -- background responses ---------------------------------------------------------------------------
#
# ``background: true``: the create answers at once, ``queued`` and without usage (a stream starts
# with ``response.created`` / ``response.queued``); ``GET /responses/{id}`` reports the scripted
# statuses (``ResponsePlan.background``), the terminal one with its usage; ``?stream=true``
# replays the events after ``starting_after``; ``POST /responses/{id}/cancel`` cancels one not
# finished yet. Bodies follow the API reference's Response object (``background``, ``status``,
# ``completed_at``, ``error``, ``incomplete_details``).

_NOT_FOUND = "No response found with id '{id}'."


def _background_create(
    server: ProviderServer, response_id: str, model: str, body: Dict[str, Any], text: str, usage: Dict[str, Any], plan: ResponsePlan
) -> Any:
    statuses = list(plan.background or ["in_progress", "completed"])
    state = {"id": response_id, "model": model, "body": body, "text": text, "usage": usage, "plan": plan,
             "statuses": statuses, "cancelled": False, "finished": None}
    server.openai_background[response_id] = state  # type: ignore[attr-defined]
    if body.get("stream"):
        if plan.truncate_after is None:
            state["finished"] = _final_status(state)  # streamed to its end; a dropped stream goes on
        return StreamReply(
            (sse(json.dumps(data), kind) for kind, data in _background_events(state, None)),
            truncate_after=plan.truncate_after,
            chunk_delay_s=plan.chunk_delay_s,
        )
    return Reply(200, _background_object(state, "queued"), {"x-request-id": "req_" + response_id[-12:]})


def _background_object(state: Dict[str, Any], status: str) -> Dict[str, Any]:
    ended = status in ("completed", "incomplete")
    text = state["text"] if ended else None
    usage = state["usage"] if ended else None
    result = _response_object(state["id"], state["model"], state["body"], text, usage, status, state["plan"])
    result["background"] = True
    if status == "completed":
        result["completed_at"] = int(time.time())
    elif status == "incomplete":
        result["incomplete_details"] = {"reason": "max_output_tokens"}
        result["output"][0]["status"] = "incomplete"
    elif status == "failed":
        result["error"] = {"code": "server_error", "message": "The model failed to generate a response."}
    return result


def _final_status(state: Dict[str, Any]) -> str:
    return "cancelled" if state["cancelled"] else state["statuses"][-1]


def _background_events(state: Dict[str, Any], after: Optional[int]) -> List[Any]:
    """The whole event sequence of a background response, those after ``after`` only."""
    final = _final_status(state)
    queued = _background_object(state, "queued")
    events: List[Any] = [("response.created", {"response": queued}), ("response.queued", {"response": queued})]
    if final != "cancelled":
        events.append(("response.in_progress", {"response": _background_object(state, "in_progress")}))
    if final in ("completed", "incomplete"):
        item_id = "msg_" + state["id"][5:]
        text = state["text"]
        part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
        events.append(("response.output_item.added", {"output_index": 0, "item": {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}}))
        events.append(("response.content_part.added", {"item_id": item_id, "output_index": 0, "content_index": 0, "part": {**part, "text": ""}}))
        for piece in _split(text, state["plan"].chunks):
            events.append(("response.output_text.delta", {"item_id": item_id, "output_index": 0, "content_index": 0, "delta": piece, "logprobs": []}))
        events.append(("response.output_text.done", {"item_id": item_id, "output_index": 0, "content_index": 0, "text": text, "logprobs": []}))
        events.append(("response.content_part.done", {"item_id": item_id, "output_index": 0, "content_index": 0, "part": part}))
        status = "completed" if final == "completed" else "incomplete"
        events.append(("response.output_item.done", {"output_index": 0, "item": {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": [part]}}))
        events.append((f"response.{final}", {"response": _background_object(state, final)}))
    elif final == "failed":
        events.append(("response.failed", {"response": _background_object(state, "failed")}))
    numbered = [(kind, {"type": kind, "sequence_number": index, **payload}) for index, (kind, payload) in enumerate(events)]
    return [(kind, data) for kind, data in numbered if after is None or data["sequence_number"] > after]


def _not_found(response_id: str) -> Reply:
    return Reply(404, {"error": {"message": _NOT_FOUND.format(id=response_id), "type": "invalid_request_error", "param": None, "code": None}})


def retrieve_response(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    """``GET /responses/{id}``: the next scripted status (the last one repeats), or a resumed stream;
    ``ResponsePlan.body`` answers verbatim (a stored foreground response, a hostile body)."""
    if plan.body is not None:
        return Reply(200, plan.body)
    state = server.openai_background.get(match["response_id"])  # type: ignore[attr-defined]
    if state is None:
        return _not_found(match["response_id"])
    if (request.query.get("stream") or [""])[0] == "true":
        after_values = request.query.get("starting_after") or []
        after = int(after_values[0]) if after_values else None
        state["finished"] = _final_status(state)
        return StreamReply((sse(json.dumps(data), kind) for kind, data in _background_events(state, after)))
    if state["finished"] is not None:
        status = state["finished"]
    elif state["cancelled"]:
        status = "cancelled"
    else:
        status = state["statuses"].pop(0) if len(state["statuses"]) > 1 else state["statuses"][0]
    if status in ("completed", "incomplete", "failed", "cancelled"):
        state["finished"] = status
    return Reply(200, _background_object(state, status))


def cancel_response(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    """``POST /responses/{id}/cancel``: cancels a response not finished yet; a finished one is returned as is."""
    state = server.openai_background.get(match["response_id"])  # type: ignore[attr-defined]
    if state is None:
        return _not_found(match["response_id"])
    if state["finished"] is None:
        state["cancelled"] = True
        state["finished"] = "cancelled"
    return Reply(200, _background_object(state, state["finished"]))
