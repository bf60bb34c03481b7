"""Ollama (``ollama`` Python client) requests and responses as call records.

Ollama runs the model locally (or on the user's own server): usage is ``prompt_eval_count``
(input) and ``eval_count`` (output) on the final response (``done: true``); the timings
(``total_duration``, ``load_duration``, ``prompt_eval_duration``, ``eval_duration``, in
nanoseconds) become span attributes. There is no vendor bill, so the provider ``ollama`` maps to
no catalog namespace: a call is priced only when the user's prices file lists the model (a
``[[model]]`` with ``provider = "ollama"`` or without provider), never at a vendor's list price
for a model of the same name.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from ...records import semconv as sc
from ...records.call import CallRecord, Usage
from .. import chatlike
from ..values import ClientTarget, field, request_integer, request_number, token_count

PROVIDER = "ollama"
_OPERATIONS = {"/api/chat": "chat", "/api/generate": "text_completion", "/api/embed": "embeddings", "/api/embeddings": "embeddings"}
DURATIONS = (("total_duration", "ollama.total_duration_ns"), ("load_duration", "ollama.load_duration_ns"),
             ("prompt_eval_duration", "ollama.prompt_eval_duration_ns"), ("eval_duration", "ollama.eval_duration_ns"))


def target(client: Any) -> ClientTarget:
    url = getattr(getattr(client, "_client", None), "base_url", None)
    host = getattr(url, "host", None) or None
    port = getattr(url, "port", None)
    if port is None and host:
        port = 443 if getattr(url, "scheme", "http") == "https" else 80
    return ClientTarget(PROVIDER, host, port)


def _prompt(path: str, body: Mapping[str, Any]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]], str]:
    """(system instructions, input messages, prompt text) of a request body."""
    system: List[Dict[str, Any]] = []
    messages: List[Dict[str, Any]] = []
    texts: List[str] = []
    if path == "/api/chat":
        for message in body.get("messages") or []:
            if not isinstance(message, Mapping) or not isinstance(message.get("content"), str):
                continue
            texts.append(message["content"])
            part = {"type": "text", "content": message["content"]}
            if message.get("role") == "system":
                system.append(part)
            else:
                messages.append({"role": str(message.get("role") or "user"), "parts": [part]})
    else:
        value = body.get("prompt") if path in ("/api/generate", "/api/embeddings") else body.get("input")
        items = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
        texts.extend(items)
        messages.extend({"role": "user", "parts": [{"type": "text", "content": item}]} for item in items)
        if isinstance(body.get("system"), str):
            system.append({"type": "text", "content": body["system"]})
    return system, messages, "\n".join(texts)


def request_record(client: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> Optional[CallRecord]:
    """``Client._request(cls, method, path, json=..., stream=...)`` -> record, ``None`` for pull, list ..."""
    method = args[1] if len(args) > 1 else kwargs.get("method")
    path = args[2] if len(args) > 2 else kwargs.get("url")
    if not isinstance(path, str) or not isinstance(method, str) or method.upper() != "POST":
        return None
    operation = _OPERATIONS.get(path)
    if operation is None:
        return None
    body = kwargs.get("json")
    body = body if isinstance(body, Mapping) else {}
    where = target(client)
    model = body.get("model")
    attributes: Dict[str, Any] = {}
    options = chatlike.plain(body.get("options"))
    if isinstance(options, Mapping):
        for key, attribute in (("temperature", sc.GEN_AI_REQUEST_TEMPERATURE), ("top_p", sc.GEN_AI_REQUEST_TOP_P),
                               ("top_k", sc.GEN_AI_REQUEST_TOP_K), ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
                               ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY)):
            number = request_number(options.get(key))
            if number is not None:
                attributes[attribute] = number
        for key, attribute in (("num_predict", sc.GEN_AI_REQUEST_MAX_TOKENS), ("seed", sc.GEN_AI_REQUEST_SEED)):
            integer = request_integer(options.get(key))
            if integer is not None:
                attributes[attribute] = integer
    system, messages, text = _prompt(path, body)
    record = CallRecord(
        provider=PROVIDER,
        operation=operation,
        request_model=model if isinstance(model, str) and model else None,
        server_address=where.address,
        server_port=where.port,
        stream=bool(kwargs.get("stream", False)),
        request_attributes=attributes,
        prompt_text=lambda: text,
    )
    if capture and operation != "embeddings":
        record.system_instructions = system or None
        record.input_messages = messages or None
    return record


def usage(response: Any) -> Optional[Usage]:
    """Counts of a final response; ``None`` when Ollama reported none (the legacy embeddings API)."""
    prompt, output = field(response, "prompt_eval_count"), field(response, "eval_count")
    if prompt is None and output is None:
        return None
    return Usage(input_tokens=token_count(prompt), output_tokens=token_count(output))


def fill(record: CallRecord, response: Any, capture: bool) -> None:
    """``ChatResponse``, ``GenerateResponse``, ``EmbedResponse`` or ``EmbeddingsResponse``."""
    model = field(response, "model")
    if isinstance(model, str) and model:
        record.response_model = model
    record.usage = usage(response)
    for name, attribute in DURATIONS:
        value = field(response, name)
        if token_count(value):
            record.response_attributes[attribute] = token_count(value)
    if record.operation == "embeddings":
        vectors = field(response, "embeddings") or ([field(response, "embedding")] if field(response, "embedding") else [])
        if isinstance(vectors, (list, tuple)) and vectors and isinstance(vectors[0], (list, tuple)):
            record.response_attributes[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vectors[0])
        return
    reason = field(response, "done_reason")
    record.finish_reasons = [reason] if isinstance(reason, str) and reason else []
    if capture:
        record.output_messages = [{"role": "assistant", "parts": [{"type": "text", "content": text_of(response)}],
                                   "finish_reason": record.finish_reasons[0] if record.finish_reasons else "stop"}]


def text_of(response: Any) -> str:
    """The text one response (or streamed part) carries: ``message.content`` or ``response``."""
    message = field(response, "message")
    text = field(message, "content") if message is not None else field(response, "response")
    return text if isinstance(text, str) else ""
