"""Groq (``groq`` SDK) requests and responses as call records.

Groq speaks Chat Completions: usage is OpenAI-shaped (``prompt_tokens`` include
``prompt_tokens_details.cached_tokens``), plus timings (``queue_time``, ``prompt_time``,
``completion_time``, ``total_time``, seconds) kept as span attributes. A stream carries its usage
in the last chunk's ``x_groq.usage`` (or, when asked with ``stream_options.include_usage``, in an
OpenAI-style usage chunk); tokentrace needs to ask for nothing.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ...records.call import CallRecord
from .. import chatlike
from ..openai import endpoints as openai_endpoints, extract as openai_extract
from ..values import ClientTarget, field

PROVIDER = "groq"
QUEUE_TIME = "groq.usage.queue_time"
TOTAL_TIME = "groq.usage.total_time"
REQUEST_ID = "groq.request_id"


def target(client: Any) -> ClientTarget:
    cached = getattr(client, "_tokentrace_target", None)
    base_url = getattr(client, "base_url", None)
    if cached is not None and cached[0] is base_url:
        return cached[1]
    found = chatlike.target_of(str(base_url) if base_url is not None else None, PROVIDER)
    try:
        client._tokentrace_target = (base_url, found)
    except Exception:
        pass
    return found


def request_record(client: Any, options: Any, stream: bool, capture: bool) -> Optional[CallRecord]:
    """The record for a request to a traced endpoint, ``None`` for files, models, batches ..."""
    endpoint = openai_endpoints.endpoint_of(getattr(options, "url", ""), getattr(options, "method", ""))
    if endpoint not in (openai_endpoints.CHAT, openai_endpoints.EMBEDDINGS):
        return None
    body = options.json_data if isinstance(options.json_data, Mapping) else {}
    where = target(client)
    if endpoint == openai_endpoints.EMBEDDINGS:
        return chatlike.embedding_record(PROVIDER, where, body.get("model"), body.get("input"))
    return chatlike.chat_record(PROVIDER, where, body, capture, stream=stream)


def _timings(record: CallRecord, usage: Any) -> None:
    for name, attribute in (("queue_time", QUEUE_TIME), ("total_time", TOTAL_TIME)):
        value = field(usage, name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            record.response_attributes[attribute] = float(value)


def fill(record: CallRecord, result: Any, capture: bool) -> None:
    """``ChatCompletion`` or ``CreateEmbeddingResponse``."""
    if record.operation == "embeddings":
        openai_extract.fill_embeddings(record, result)
        return
    openai_extract.fill_chat(record, result, capture)
    record.provider_cost_usd = None  # only OpenRouter reports a charge in usage
    _timings(record, field(result, "usage"))
    request_id = field(field(result, "x_groq"), "id")
    if isinstance(request_id, str) and request_id:
        record.response_attributes[REQUEST_ID] = request_id


def read_chunk(record: CallRecord, chunk: Any) -> Any:
    """One ``ChatCompletionChunk``: model and id once, usage from ``usage`` or ``x_groq.usage``."""
    if record.response_model is None:
        model = field(chunk, "model")
        if isinstance(model, str) and model:
            record.response_model = model
        chunk_id = field(chunk, "id")
        if isinstance(chunk_id, str) and chunk_id:
            record.response_id = chunk_id
    x_groq = field(chunk, "x_groq")
    usage = field(chunk, "usage") or field(x_groq, "usage")
    if usage is not None:
        record.usage = openai_extract.completion_usage(usage)
        _timings(record, usage)
    request_id = field(x_groq, "id")
    if isinstance(request_id, str) and request_id:
        record.response_attributes[REQUEST_ID] = request_id
    return field(chunk, "choices")
