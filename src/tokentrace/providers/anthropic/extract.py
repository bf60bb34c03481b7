"""The response half of the call record, from Anthropic ``Message`` objects and usage.

Anthropic's ``input_tokens`` *exclude* the prompt tokens read from or written to the cache; the
canonical record counts the whole prompt, so ``input = input_tokens + cache_read + cache_write``
and each part is billed once (plain, cache-read and cache-write rates). The cache writes are
split by TTL in ``cache_creation``; the 1-hour part is ``cache_write_long_tokens``. Thinking
tokens are inside ``output_tokens`` (``output_tokens_details.thinking_tokens`` is the subset).

Reads are defensive: proxies and gateways send partial, null or oddly typed usage, and a
malformed response must never raise into the application. Counts that are not non-negative
integers are treated as absent.
"""

from __future__ import annotations

from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from typing import Any, Dict, List, Optional

from ...core import finish_reasons
from ...core.numbers import unreported
from ...records.call import CallRecord, Usage
from ..values import field, token_count
from . import attributes as aa
from .request import parts

#: The usage fields an Anthropic stream repeats or updates in ``message_delta``.
USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "output_tokens_details",
    "service_tier",
    "speed",
    "inference_geo",
)


def usage_fields(usage: Any) -> Dict[str, Any]:
    """The non-null usage fields of a usage object or dict (the stream merges these)."""
    found: Dict[str, Any] = {}
    for name in USAGE_FIELDS:
        value = field(usage, name)
        if value is not None:
            found[name] = value
    return found


def canonical_usage(usage: Any) -> Optional[Usage]:
    """Anthropic usage in the canonical shape; ``None`` when there is no usage at all."""
    if usage is None or (isinstance(usage, Mapping) and not usage):
        return None
    uncached = token_count(field(usage, "input_tokens"))
    cache_read = token_count(field(usage, "cache_read_input_tokens"))
    cache_write = token_count(field(usage, "cache_creation_input_tokens"))
    breakdown = field(usage, "cache_creation")
    write_5m = token_count(field(breakdown, "ephemeral_5m_input_tokens"))
    write_1h = token_count(field(breakdown, "ephemeral_1h_input_tokens"))
    if unreported(cache_write):
        # Some gateways send only the TTL breakdown (an invalid total stays marked).
        cache_write = write_5m + write_1h
    output = token_count(field(usage, "output_tokens"))
    thinking = token_count(field(field(usage, "output_tokens_details"), "thinking_tokens"))
    return Usage(
        input_tokens=uncached + cache_read + cache_write,
        output_tokens=output,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        # Not clamped: a part larger than its total is a broken report the pipeline marks
        # (tokentrace.cost.status=invalid_usage), never silently trimmed into a price.
        cache_write_long_tokens=write_1h,
        reasoning_tokens=thinking,
    )


def usage_attributes(record: CallRecord, usage: Any) -> None:
    """What the usage says beside the counts: service tier, TTL breakdown, speed, region."""
    tier = field(usage, "service_tier")
    if isinstance(tier, str) and tier:
        record.service_tier = tier
        record.response_attributes[aa.RESPONSE_SERVICE_TIER] = tier
        if tier == "batch":
            record.batch = True
    breakdown = field(usage, "cache_creation")
    for name, attribute in (("ephemeral_5m_input_tokens", aa.CACHE_WRITE_5M), ("ephemeral_1h_input_tokens", aa.CACHE_WRITE_1H)):
        value = token_count(field(breakdown, name))
        if value:
            record.response_attributes[attribute] = value
    for name, attribute in (("speed", aa.SPEED), ("inference_geo", aa.INFERENCE_GEO)):
        value = field(usage, name)
        if isinstance(value, str) and value:
            record.response_attributes[attribute] = value


def fill_usage(record: CallRecord, usage: Any) -> None:
    record.usage = canonical_usage(usage)
    if usage is not None:
        usage_attributes(record, usage)


def fill_identity(record: CallRecord, message: Any) -> None:
    """Model and id of a ``Message`` (or of the message in ``message_start``)."""
    model = field(message, "model")
    if isinstance(model, str) and model:
        record.response_model = model
    message_id = field(message, "id")
    if isinstance(message_id, str) and message_id:
        record.response_id = message_id


def fill_stop_reason(record: CallRecord, stop_reason: Any) -> None:
    if isinstance(stop_reason, str) and stop_reason:
        finish_reasons.apply(record, [stop_reason])
        record.response_attributes[aa.STOP_REASON] = stop_reason


def output_message(content: Any, finish_reason: str) -> Dict[str, Any]:
    return {"role": "assistant", "parts": parts(_plain_blocks(content)), "finish_reason": finish_reason}


def _plain_blocks(content: Any) -> List[Any]:
    """SDK content blocks as dicts (the part mapper reads mappings)."""
    blocks: List[Any] = []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, Mapping):
            blocks.append(block)
        else:
            dump = getattr(block, "model_dump", None)
            blocks.append(dump() if callable(dump) else None)
    return blocks


def fill_message(record: CallRecord, message: Any, capture: bool) -> None:
    """A complete ``Message`` / ``BetaMessage`` / ``ParsedMessage``."""
    fill_identity(record, message)
    fill_stop_reason(record, field(message, "stop_reason"))
    fill_usage(record, field(message, "usage"))
    if capture:
        reason = record.finish_reasons[0] if record.finish_reasons else "stop"
        record.output_messages = [output_message(field(message, "content"), reason)]
