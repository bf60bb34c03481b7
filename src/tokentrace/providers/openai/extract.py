"""The response half of the call record, from OpenAI SDK objects.

Reads are defensive: compatible endpoints and proxies send partial, null or oddly typed usage,
and a malformed response must never raise into the application. Counts that are not
non-negative integers are treated as absent.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ...core import finish_reasons, numbers
from ...records import semconv as sc
from ...records.call import CallRecord, Usage
from ..values import field, token_count
from .endpoints import OPENAI_PROVIDERS

#: Responses API statuses that end a response, as the raw finish reason they stand for
#: (``incomplete`` says why in ``incomplete_details.reason``; ``queued`` / ``in_progress`` have none yet).
_ENDED_STATUSES = {"completed": "completed", "failed": "failed", "cancelled": "cancelled"}


def completion_usage(usage: Any) -> Optional[Usage]:
    """Chat / legacy completions usage: prompt_tokens already include cached and cache-write tokens."""
    if usage is None:
        return None
    prompt_details = field(usage, "prompt_tokens_details")
    completion_details = field(usage, "completion_tokens_details")
    cache_read = token_count(field(prompt_details, "cached_tokens"))
    if numbers.unreported(cache_read):
        # DeepSeek reports its cache hits outside prompt_tokens_details.
        cache_read = token_count(field(usage, "prompt_cache_hit_tokens"))
    return Usage(
        input_tokens=token_count(field(usage, "prompt_tokens")),
        output_tokens=token_count(field(usage, "completion_tokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=token_count(field(prompt_details, "cache_write_tokens")),
        reasoning_tokens=token_count(field(completion_details, "reasoning_tokens")),
        input_audio_tokens=token_count(field(prompt_details, "audio_tokens")),
        input_image_tokens=token_count(field(prompt_details, "image_tokens")),
        output_audio_tokens=token_count(field(completion_details, "audio_tokens")),
    )


def responses_usage(usage: Any) -> Optional[Usage]:
    """Responses API usage: input_tokens include cached and cache-write tokens (30 min and 12 h)."""
    if usage is None:
        return None
    input_details = field(usage, "input_tokens_details")
    output_details = field(usage, "output_tokens_details")
    write_details = field(input_details, "cache_write_tokens_details")
    return Usage(
        input_tokens=token_count(field(usage, "input_tokens")),
        output_tokens=token_count(field(usage, "output_tokens")),
        cache_read_tokens=token_count(field(input_details, "cached_tokens")),
        cache_write_tokens=token_count(field(input_details, "cache_write_tokens")),
        cache_write_long_tokens=token_count(field(write_details, "ttl_12h_tokens")),
        reasoning_tokens=token_count(field(output_details, "reasoning_tokens")),
    )


def embedding_usage(usage: Any) -> Optional[Usage]:
    if usage is None:
        return None
    return Usage(input_tokens=token_count(field(usage, "prompt_tokens")))


def _provider_cost(usage: Any) -> Optional[float]:
    """OpenRouter's authoritative charge, when the gateway reports one (an absurd one is kept, to be marked)."""
    return numbers.reported_cost(field(usage, "cost"))


def _common(record: CallRecord, obj: Any) -> None:
    model = field(obj, "model")
    if isinstance(model, str) and model:
        record.response_model = model
    response_id = field(obj, "id")
    if isinstance(response_id, str) and response_id:
        record.response_id = response_id
    openai_span = record.provider in OPENAI_PROVIDERS  # openai.* only on OpenAI's own spans
    tier = field(obj, "service_tier")
    if isinstance(tier, str) and tier:
        record.service_tier = tier
        if openai_span:
            record.response_attributes[sc.OPENAI_RESPONSE_SERVICE_TIER] = tier
    fingerprint = field(obj, "system_fingerprint")
    if openai_span and isinstance(fingerprint, str) and fingerprint:
        record.response_attributes[sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fingerprint


def fill_chat(record: CallRecord, completion: Any, capture: bool) -> None:
    """ChatCompletion (and ParsedChatCompletion) or legacy Completion."""
    _common(record, completion)
    choices = field(completion, "choices") or []
    raw: List[str] = []
    texts: List[Any] = []
    for choice in choices if isinstance(choices, list) else []:
        reason = field(choice, "finish_reason")
        # A returned choice without a reason did not end normally.
        raw.append(reason if isinstance(reason, str) and reason else "error")
        if capture:
            message = field(choice, "message")
            texts.append(field(message, "content") if message is not None else field(choice, "text"))
    finish_reasons.apply(record, raw)
    usage = field(completion, "usage")
    record.usage = completion_usage(usage)
    record.provider_cost_usd = _provider_cost(usage)
    if capture:
        record.output_messages = [
            output_message(content_text(text), reason) for text, reason in zip(texts, record.finish_reasons, strict=False)
        ]


def fill_response(record: CallRecord, response: Any, capture: bool) -> None:
    """Responses API ``Response`` (also the one inside ``response.completed`` stream events)."""
    _common(record, response)
    status = field(response, "status")
    if status == "incomplete":
        reason = field(field(response, "incomplete_details"), "reason")
        finish_reasons.apply(record, [reason if isinstance(reason, str) and reason else "incomplete"])
    else:
        finish_reasons.apply(record, [_ENDED_STATUSES[status]] if isinstance(status, str) and status in _ENDED_STATUSES else [])
    usage = field(response, "usage")
    record.usage = responses_usage(usage)
    if capture:
        text = field(response, "output_text")
        if isinstance(text, str):
            record.output_messages = [output_message(text, record.finish_reasons[0] if record.finish_reasons else "stop")]


def fill_embeddings(record: CallRecord, result: Any) -> None:
    model = field(result, "model")
    if isinstance(model, str) and model:
        record.response_model = model
    record.usage = embedding_usage(field(result, "usage"))
    data = field(result, "data")
    if isinstance(data, list) and data:
        vector = field(data[0], "embedding")
        if isinstance(vector, list):
            record.response_attributes[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vector)


def content_text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of parts (Mistral's reasoning
    models send ``[{"type": "thinking", "thinking": [{"type": "text", ...}]}, {"type": "text", ...}]``)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts: List[str] = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif field(part, "type") in (None, "text"):
            text = field(part, "text")
            if isinstance(text, str):
                texts.append(text)
    return "".join(texts)


def thinking_text(content: Any) -> str:
    """The thinking parts' text of a list of parts (billed as output, so estimates count it)."""
    if not isinstance(content, list):
        return ""
    return "".join(content_text(field(part, "thinking")) for part in content if field(part, "type") == "thinking")


def output_message(text: str, finish_reason: str) -> Dict[str, Any]:
    return {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": finish_reason}
