"""Cohere v2 (``cohere`` 5.x and later, ``ClientV2`` / ``client.v2``) requests and responses.

Cohere reports two sets of counts: ``usage.tokens`` (what the model processed, including the
system preamble Cohere adds) and ``usage.billed_units`` (what the account is charged). Cost is on
``billed_units``, so that is what the record's usage holds; ``tokens`` and ``cached_tokens`` are
kept as span attributes. Counts arrive as floats (``5.0``). Chat responses carry no model name:
the requested model is the one priced. Rerank is billed per search unit, which the price catalog
does not price, so a rerank span reports its ``search_units`` and no token usage (cost status
``no_usage``, never a silent 0).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ...core import finish_reasons
from ...records import semconv as sc
from ...records.call import CallRecord, Usage
from .. import chatlike
from ..values import ClientTarget, field, request_integer, token_count

PROVIDER = "cohere"

_CHAT_FIELDS = ("model", "messages", "max_tokens", "temperature", "p", "k", "seed", "stop_sequences", "frequency_penalty", "presence_penalty",
                "response_format")

SEARCH_UNITS = "cohere.billed_units.search_units"
TOKENS_INPUT = "cohere.usage.tokens.input_tokens"
TOKENS_OUTPUT = "cohere.usage.tokens.output_tokens"
CACHED_TOKENS = "cohere.usage.cached_tokens"


def target(client: Any) -> ClientTarget:
    wrapper = getattr(client, "_client_wrapper", None) or getattr(getattr(client, "_raw_client", None), "_client_wrapper", None)
    url = wrapper.get_base_url() if wrapper is not None else None
    return chatlike.target_of(url, PROVIDER)


def chat_request(stream: bool) -> Any:
    def build(client: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> CallRecord:
        body = chatlike.keyword_body(kwargs, _CHAT_FIELDS)
        if "p" in body:
            body["top_p"] = body.pop("p")
        if "stop_sequences" in body:
            body["stop"] = body.pop("stop_sequences")
        record = chatlike.chat_record(PROVIDER, target(client), body, capture, stream=stream)
        top_k = request_integer(body.get("k"))  # an int, as the conventions' checker and Anthropic have it
        if top_k is not None:
            record.request_attributes[sc.GEN_AI_REQUEST_TOP_K] = top_k
        return record

    return build


def embed_request(client: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> CallRecord:
    record = chatlike.embedding_record(PROVIDER, target(client), kwargs.get("model"), kwargs.get("texts"))
    types = kwargs.get("embedding_types")
    if isinstance(types, (list, tuple)) and all(isinstance(t, str) for t in types):
        record.request_attributes[sc.GEN_AI_REQUEST_ENCODING_FORMATS] = list(types)
    return record


def rerank_request(client: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> CallRecord:
    model = kwargs.get("model")
    top_n = request_integer(kwargs.get("top_n"))
    return CallRecord(
        provider=PROVIDER,
        operation="rerank",
        request_model=model if isinstance(model, str) and model else None,
        server_address=target(client).address,
        server_port=target(client).port,
        request_attributes={"cohere.request.top_n": top_n} if top_n is not None else {},
    )


def billed_usage(usage: Any, record: CallRecord) -> Optional[Usage]:
    """Usage to price from a ``Usage`` (chat) or ``ApiMeta`` (embed); extra counts become attributes."""
    if usage is None:
        return None
    tokens = field(usage, "tokens")
    for name, attribute in (("input_tokens", TOKENS_INPUT), ("output_tokens", TOKENS_OUTPUT)):
        value = field(tokens, name)
        if token_count(value) or value == 0:
            record.response_attributes[attribute] = token_count(value)
    cached = field(usage, "cached_tokens")
    if token_count(cached):
        record.response_attributes[CACHED_TOKENS] = token_count(cached)
    billed = field(usage, "billed_units")
    if billed is None:
        return None
    return Usage(input_tokens=token_count(field(billed, "input_tokens")), output_tokens=token_count(field(billed, "output_tokens")))


def message_text(message: Any) -> str:
    content = field(message, "content")
    if isinstance(content, str):
        return content
    parts: List[str] = []
    for block in content if isinstance(content, list) else ():
        text = field(block, "text")
        if isinstance(text, str):
            parts.append(text)
    return "".join(parts)


def _reason(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _answered_by_requested(record: CallRecord) -> None:
    """Cohere's answers name no model; the requested one is the one that answered (no reroute)."""
    if record.response_model is None:
        record.response_model = record.request_model


def fill_chat(record: CallRecord, raw: Any, capture: bool) -> None:
    """The raw client's ``HttpResponse`` of a ``V2ChatResponse``: ``id``, ``finish_reason``, ``message``, ``usage``."""
    response = field(raw, "data")
    _answered_by_requested(record)
    response_id = field(response, "id")
    if isinstance(response_id, str) and response_id:
        record.response_id = response_id
    reason = _reason(field(response, "finish_reason"))
    finish_reasons.apply(record, [reason])  # COMPLETE -> stop, as for every provider
    reason = record.finish_reasons[0] if record.finish_reasons else None
    record.usage = billed_usage(field(response, "usage"), record)
    if capture:
        record.output_messages = [{"role": "assistant", "parts": [{"type": "text", "content": message_text(field(response, "message"))}],
                                   "finish_reason": reason or "error"}]


def fill_embed(record: CallRecord, raw: Any, capture: bool) -> None:
    """``HttpResponse`` of an ``EmbedByTypeResponse``: usage in ``meta.billed_units``."""
    response = field(raw, "data")
    _answered_by_requested(record)
    response_id = field(response, "id")
    if isinstance(response_id, str) and response_id:
        record.response_id = response_id
    meta = field(response, "meta")
    billed = field(meta, "billed_units")
    record.usage = Usage(input_tokens=token_count(field(billed, "input_tokens"))) if billed is not None else None
    embeddings = field(response, "embeddings")
    for kind in ("float_", "float", "int8", "uint8", "binary", "ubinary", "base64"):
        vectors = field(embeddings, kind)
        if isinstance(vectors, list) and vectors and isinstance(vectors[0], list):
            record.response_attributes[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(vectors[0])
            break


def fill_rerank(record: CallRecord, raw: Any, capture: bool) -> None:
    response = field(raw, "data")
    response_id = field(response, "id")
    if isinstance(response_id, str) and response_id:
        record.response_id = response_id
    units = token_count(field(field(field(response, "meta"), "billed_units"), "search_units"))
    if units:
        record.response_attributes[SEARCH_UNITS] = units
    record.usage = None
