"""The response half of the call record, from OpenAI SDK objects.

Reads are defensive: compatible endpoints and proxies send partial, null or oddly typed usage,
and a malformed response must never raise into the application. Counts that are not
non-negative integers are treated as absent.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ...core import semconv as sc
from ...core.record import CallRecord, Usage

_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


def count(value: Any) -> int:
    """A token count, or 0 for anything that is not a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def completion_usage(usage: Any) -> Optional[Usage]:
    """Chat / legacy completions usage: prompt_tokens already include cached and cache-write tokens."""
    if usage is None:
        return None
    prompt_details = _get(usage, "prompt_tokens_details")
    completion_details = _get(usage, "completion_tokens_details")
    cache_read = count(_get(prompt_details, "cached_tokens"))
    if not cache_read:
        # DeepSeek reports its cache hits outside prompt_tokens_details.
        cache_read = count(_get(usage, "prompt_cache_hit_tokens"))
    return Usage(
        input_tokens=count(_get(usage, "prompt_tokens")),
        output_tokens=count(_get(usage, "completion_tokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=count(_get(prompt_details, "cache_write_tokens")),
        reasoning_tokens=count(_get(completion_details, "reasoning_tokens")),
        input_audio_tokens=count(_get(prompt_details, "audio_tokens")),
        input_image_tokens=count(_get(prompt_details, "image_tokens")),
        output_audio_tokens=count(_get(completion_details, "audio_tokens")),
    )


def responses_usage(usage: Any) -> Optional[Usage]:
    """Responses API usage: input_tokens include cached and cache-write tokens (30 min and 12 h)."""
    if usage is None:
        return None
    input_details = _get(usage, "input_tokens_details")
    output_details = _get(usage, "output_tokens_details")
    write_details = _get(input_details, "cache_write_tokens_details")
    return Usage(
        input_tokens=count(_get(usage, "input_tokens")),
        output_tokens=count(_get(usage, "output_tokens")),
        cache_read_tokens=count(_get(input_details, "cached_tokens")),
        cache_write_tokens=count(_get(input_details, "cache_write_tokens")),
        cache_write_long_tokens=count(_get(write_details, "ttl_12h_tokens")),
        reasoning_tokens=count(_get(output_details, "reasoning_tokens")),
    )


def embedding_usage(usage: Any) -> Optional[Usage]:
    if usage is None:
        return None
    return Usage(input_tokens=count(_get(usage, "prompt_tokens")))


def _provider_cost(usage: Any) -> Optional[float]:
    """OpenRouter's authoritative charge, when the gateway reports one."""
    cost = _get(usage, "cost")
    if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost >= 0:
        return float(cost)
    return None


def _common(record: CallRecord, obj: Any) -> None:
    model = _get(obj, "model")
    if isinstance(model, str) and model:
        record.response_model = model
    response_id = _get(obj, "id")
    if isinstance(response_id, str) and response_id:
        record.response_id = response_id
    tier = _get(obj, "service_tier")
    if isinstance(tier, str) and tier:
        record.service_tier = tier
        record.response_attributes[sc.OPENAI_RESPONSE_SERVICE_TIER] = tier
    fingerprint = _get(obj, "system_fingerprint")
    if isinstance(fingerprint, str) and fingerprint:
        record.response_attributes[sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fingerprint


def fill_chat(record: CallRecord, completion: Any, capture: bool) -> None:
    """ChatCompletion (and ParsedChatCompletion) or legacy Completion."""
    _common(record, completion)
    choices = _get(completion, "choices") or []
    reasons: List[str] = []
    outputs: List[Dict[str, Any]] = []
    for choice in choices if isinstance(choices, list) else []:
        reason = _get(choice, "finish_reason")
        reasons.append(reason if isinstance(reason, str) else "error")
        if capture:
            message = _get(choice, "message")
            text = _get(message, "content") if message is not None else _get(choice, "text")
            outputs.append(output_message(text if isinstance(text, str) else "", reasons[-1]))
    record.finish_reasons = reasons
    usage = _get(completion, "usage")
    record.usage = completion_usage(usage)
    record.provider_cost_usd = _provider_cost(usage)
    if capture:
        record.output_messages = outputs


def fill_response(record: CallRecord, response: Any, capture: bool) -> None:
    """Responses API ``Response`` (also the one inside ``response.completed`` stream events)."""
    _common(record, response)
    status = _get(response, "status")
    if status == "completed":
        record.finish_reasons = ["stop"]
    elif status == "incomplete":
        reason = _get(_get(response, "incomplete_details"), "reason")
        record.finish_reasons = [_INCOMPLETE_REASONS.get(reason, str(reason or "incomplete"))]
    elif isinstance(status, str):
        record.finish_reasons = [status]
    usage = _get(response, "usage")
    record.usage = responses_usage(usage)
    if capture:
        text = _get(response, "output_text")
        if isinstance(text, str):
            record.output_messages = [output_message(text, record.finish_reasons[0] if record.finish_reasons else "stop")]


def fill_embeddings(record: CallRecord, result: Any) -> None:
    model = _get(result, "model")
    if isinstance(model, str) and model:
        record.response_model = model
    record.usage = embedding_usage(_get(result, "usage"))
    data = _get(result, "data")
    if isinstance(data, list) and data:
        vector = _get(data[0], "embedding")
        if isinstance(vector, list):
            record.response_attributes[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vector)


def output_message(text: str, finish_reason: str) -> Dict[str, Any]:
    return {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": finish_reason}
