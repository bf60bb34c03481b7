"""Azure AI Inference (``azure-ai-inference``) requests and responses as call records.

The Azure AI model inference API serves many vendors' models (OpenAI, Mistral, Meta, Cohere,
DeepSeek ...) behind one Chat Completions-shaped contract: ``usage.prompt_tokens`` /
``completion_tokens`` (OpenAI's inclusion rules where details are reported). The provider is
``azure.ai.inference``; the answering model's name picks its price. Requests are read from the
keyword arguments, the ``body`` dict when the app passes one, and the client's defaults
(``ChatCompletionsClient(model=..., temperature=...)``).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Tuple

from ...records.call import CallRecord
from .. import chatlike
from ..openai import extract as openai_extract
from ..values import ClientTarget, field

PROVIDER = "azure.ai.inference"

_CHAT_FIELDS = ("messages", "model", "temperature", "top_p", "max_tokens", "stop", "seed", "frequency_penalty", "presence_penalty",
                "response_format")
#: Client-level defaults the SDK merges into the body when the call leaves them out.
_DEFAULTS = (("model", "_model"), ("temperature", "_temperature"), ("top_p", "_top_p"), ("max_tokens", "_max_tokens"),
             ("seed", "_seed"), ("frequency_penalty", "_frequency_penalty"), ("presence_penalty", "_presence_penalty"))


def target(client: Any) -> ClientTarget:
    config = getattr(client, "_config", None)
    return chatlike.target_of(getattr(config, "endpoint", None), PROVIDER)


def _body(client: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], names: Tuple[str, ...]) -> Dict[str, Any]:
    given = args[0] if args else kwargs.get("body")
    if isinstance(given, Mapping):
        return chatlike.plain(given) or {}
    body = chatlike.keyword_body(kwargs, names)
    for key, attribute in _DEFAULTS:
        if key in names and key not in body:
            value = getattr(client, attribute, None)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                body[key] = value
    return body


def chat_request(client: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> CallRecord:
    body = _body(client, args, kwargs, _CHAT_FIELDS)
    stream = kwargs.get("stream")
    if not isinstance(stream, bool):
        stream = bool(body.get("stream", False))
    return chatlike.chat_record(PROVIDER, target(client), body, capture, stream=stream)


def embed_request(client: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> CallRecord:
    body = _body(client, args, kwargs, ("input", "model"))
    return chatlike.embedding_record(PROVIDER, target(client), body.get("model"), body.get("input"))


def _plain_reasons(record: CallRecord) -> None:
    # The SDK's finish reasons are str enums; spans get the plain value.
    record.finish_reasons = [str(getattr(r, "value", r)) for r in record.finish_reasons]


def fill_chat(record: CallRecord, response: Any, capture: bool) -> None:
    """``ChatCompletions``."""
    openai_extract.fill_chat(record, response, capture)
    record.provider_cost_usd = None
    _plain_reasons(record)


def fill_embed(record: CallRecord, response: Any, capture: bool) -> None:
    """``EmbeddingsResult``."""
    openai_extract.fill_embeddings(record, response)


def read_update(record: CallRecord, update: Any) -> Any:
    """One ``StreamingChatCompletionsUpdate``: model and id once, usage when it comes."""
    if record.response_model is None:
        model = field(update, "model")
        if isinstance(model, str) and model:
            record.response_model = model
        update_id = field(update, "id")
        if isinstance(update_id, str) and update_id:
            record.response_id = update_id
    usage = field(update, "usage")
    if usage is not None:
        record.usage = openai_extract.completion_usage(usage)
    return field(update, "choices")
