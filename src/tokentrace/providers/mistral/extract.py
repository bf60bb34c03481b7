"""Mistral (``mistralai`` 1.x-3.x) requests and responses as call records.

Mistral's ``UsageInfo`` is OpenAI-shaped: ``prompt_tokens`` include the cached tokens reported
in ``prompt_tokens_details.cached_tokens`` (an untyped extra in the SDK; billed at 10 % of the
input price), ``completion_tokens`` include ``completion_tokens_details.reasoning_tokens``, and
``service_tier`` sits inside ``usage``. So the OpenAI adapter's usage reader applies as is.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ...records.call import CallRecord
from .. import chatlike
from ..openai import extract as openai_extract
from ..values import ClientTarget, field

PROVIDER = "mistral_ai"

_CHAT_FIELDS = (
    "model", "messages", "temperature", "top_p", "max_tokens", "stop", "random_seed", "response_format",
    "presence_penalty", "frequency_penalty", "n", "reasoning_effort", "service_tier",
)
_FIM_FIELDS = ("model", "prompt", "suffix", "temperature", "top_p", "max_tokens", "min_tokens", "stop", "random_seed")


def target(sdk: Any, kwargs: Dict[str, Any]) -> ClientTarget:
    url = kwargs.get("server_url")
    if not isinstance(url, str):
        url = sdk.sdk_configuration.get_server_details()[0]
    return chatlike.target_of(url, PROVIDER)


def chat_request(stream: bool) -> Any:
    def build(sdk: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> CallRecord:
        body = chatlike.keyword_body(kwargs, _CHAT_FIELDS)
        if "random_seed" in body:
            body["seed"] = body.pop("random_seed")
        return chatlike.chat_record(PROVIDER, target(sdk, kwargs), body, capture, stream=stream)

    return build


def fim_request(stream: bool) -> Any:
    def build(sdk: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> CallRecord:
        body = chatlike.keyword_body(kwargs, _FIM_FIELDS)
        if "random_seed" in body:
            body["seed"] = body.pop("random_seed")
        return chatlike.chat_record(PROVIDER, target(sdk, kwargs), body, capture, operation="text_completion", stream=stream)

    return build


def embeddings_request(sdk: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> CallRecord:
    return chatlike.embedding_record(PROVIDER, target(sdk, kwargs), kwargs.get("model"), kwargs.get("inputs"))


def _tier(record: CallRecord, usage: Any) -> None:
    tier = field(usage, "service_tier")
    if isinstance(tier, str) and tier:
        record.service_tier = tier


def fill_chat(record: CallRecord, response: Any, capture: bool) -> None:
    """``ChatCompletionResponse`` / ``FIMCompletionResponse``."""
    openai_extract.fill_chat(record, response, capture)
    _tier(record, field(response, "usage"))


def fill_embeddings(record: CallRecord, response: Any, capture: bool) -> None:
    openai_extract.fill_embeddings(record, response)


def read_chunk(record: CallRecord, chunk: Any) -> Optional[Any]:
    """One ``CompletionChunk`` (the ``data`` of a ``CompletionEvent``): model, id, usage on the last."""
    if record.response_model is None:
        model = field(chunk, "model")
        if isinstance(model, str) and model:
            record.response_model = model
        chunk_id = field(chunk, "id")
        if isinstance(chunk_id, str) and chunk_id:
            record.response_id = chunk_id
    usage = field(chunk, "usage")
    if usage is not None:
        record.usage = openai_extract.completion_usage(usage)
        _tier(record, usage)
    return field(chunk, "choices")
