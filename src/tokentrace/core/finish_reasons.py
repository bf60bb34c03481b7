"""Finish reasons in one vocabulary, whatever the provider called them.

``gen_ai.response.finish_reasons`` is compared across providers on one dashboard ("how many
calls were cut by the token limit?"), so every adapter reports the GenAI conventions' values
(the ``FinishReason`` of the output-messages schema): ``stop``, ``length``, ``content_filter``,
``tool_call`` and ``error``. The provider's own spelling (``end_turn``, ``MAX_TOKENS``,
``FINISH``, ``COMPLETE`` ...) is not lost: :func:`apply` keeps it, in order, in
:data:`RAW_ATTRIBUTE`. A value tokentrace does not know passes through lowercased rather than
being guessed into one of the five.

Adapters call :func:`apply` with the raw values of every choice/candidate; a state that is not
an end (the Responses API's ``queued`` / ``in_progress``) is no finish reason at all.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

STOP = "stop"
LENGTH = "length"
CONTENT_FILTER = "content_filter"
TOOL_CALL = "tool_call"
ERROR = "error"

#: The attribute that keeps the provider's own values (same order as the normalized ones).
RAW_ATTRIBUTE = "tokentrace.provider.finish_reasons"

#: Raw value (lowercased) -> normalized value. Sources: OpenAI chat/completions and Responses,
#: Anthropic Messages, Gemini ``FinishReason``, Bedrock Converse ``StopReason``, Titan
#: ``completionReason``, AI21 ``finishReason.reason``, Cohere ``finish_reason``, Mistral, Llama.
_TABLE: Dict[str, str] = {
    # natural end
    "stop": STOP,
    "end_turn": STOP,
    "stop_sequence": STOP,
    "eos": STOP,
    "eos_token": STOP,
    "endoftext": STOP,
    "finish": STOP,
    "finished": STOP,
    "complete": STOP,
    "completed": STOP,
    "end": STOP,
    # the token budget or the context window ran out
    "length": LENGTH,
    "max_tokens": LENGTH,
    "max_output_tokens": LENGTH,
    "model_length": LENGTH,
    "model_context_window_exceeded": LENGTH,
    # a filter or the model refused
    "content_filter": CONTENT_FILTER,
    "content_filtered": CONTENT_FILTER,
    "guardrail_intervened": CONTENT_FILTER,
    "refusal": CONTENT_FILTER,
    "safety": CONTENT_FILTER,
    "recitation": CONTENT_FILTER,
    "blocklist": CONTENT_FILTER,
    "prohibited_content": CONTENT_FILTER,
    "spii": CONTENT_FILTER,
    "image_safety": CONTENT_FILTER,
    "image_prohibited_content": CONTENT_FILTER,
    "image_recitation": CONTENT_FILTER,
    "error_toxic": CONTENT_FILTER,
    # the model asked for a tool
    "tool_calls": TOOL_CALL,
    "tool_call": TOOL_CALL,
    "tool_use": TOOL_CALL,
    "function_call": TOOL_CALL,
    # ended abnormally
    "error": ERROR,
    "error_limit": ERROR,
    "failed": ERROR,
    "cancelled": ERROR,
    "malformed_function_call": ERROR,
    "unexpected_tool_call": ERROR,
    "too_many_tool_calls": ERROR,
    "missing_thought_signature": ERROR,
}


def normalize(raw: Any) -> Optional[str]:
    """The conventions' value for one raw finish reason; ``None`` for no value at all."""
    text = getattr(raw, "value", raw)  # SDK enums (google-genai's FinishReason)
    if not isinstance(text, str) or not text:
        return None
    lowered = text.strip().lower()
    if lowered.startswith("finishreason."):
        lowered = lowered[len("finishreason.") :]
    return _TABLE.get(lowered, lowered)


def apply(record: Any, raw_reasons: Iterable[Any]) -> None:
    """Set a record's ``finish_reasons`` (normalized) and keep the raw values beside them.

    ``record`` is a :class:`~tokentrace.records.call.CallRecord`; raw values that are absent or
    not text are skipped (a choice that has not finished has no reason yet).
    """
    normalized: List[str] = []
    raws: List[str] = []
    for raw in raw_reasons:
        value = normalize(raw)
        if value is None:
            continue
        normalized.append(value)
        raws.append(str(getattr(raw, "value", raw)))
    record.finish_reasons = normalized
    if raws:
        record.response_attributes[RAW_ATTRIBUTE] = raws
    else:
        record.response_attributes.pop(RAW_ATTRIBUTE, None)
