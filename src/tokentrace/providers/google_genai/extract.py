"""google-genai requests and responses, read into the provider-neutral call record.

Usage follows ``GenerateContentResponseUsageMetadata``: ``prompt_token_count`` already includes
cached content, tool-use prompt tokens are counted apart (and billed as input), and thoughts are
billed as output but are not inside ``candidates_token_count`` - except in older responses,
recognised because prompt + candidates + tool-use already add up to the total.

Config objects may be the SDK's pydantic models or plain dicts; both are read the same way.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ...core import finish_reasons
from ...records import semconv as sc
from ...records.call import CallRecord, Usage
from ..values import token_count

#: The operation name of ``generateContent`` (the GenAI conventions' value for Gemini).
GENERATE = "generate_content"

GEMINI = "gcp.gemini"
VERTEX = "gcp.vertex_ai"
_TIERS = {"ON_DEMAND_FLEX": "flex", "ON_DEMAND_PRIORITY": "priority", "PROVISIONED_THROUGHPUT": "provisioned"}


def get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        value = obj.get(name)
        if value is None and "_" in name:
            head, *rest = name.split("_")
            value = obj.get(head + "".join(part.title() for part in rest))
        return value
    return getattr(obj, name, None)


def model_name(model: Any) -> Optional[str]:
    """``models/gemini-2.5-flash``, ``publishers/google/models/…``, ``google/…`` -> ``gemini-2.5-flash``."""
    if not isinstance(model, str) or not model:
        return None
    if model.startswith("tunedModels/") or "/endpoints/" in model:
        return model
    return model.rsplit("/", 1)[-1]


def enum_text(value: Any) -> Optional[str]:
    """An enum as Gemini spells it: google-genai's are strings; the Vertex AI SDK's protobuf enums
    are ints whose ``name`` is the spelling, with 0 meaning unspecified (no value)."""
    if value is None:
        return None
    raw = getattr(value, "value", value)
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw == 0:
            return None
        name = getattr(value, "name", None)
        return name if isinstance(name, str) else str(raw)
    return str(raw) if raw is not None else None


# -- request --------------------------------------------------------------------------------------


def request_record(operation: str, api_client: Any, kwargs: Dict[str, Any], stream: bool) -> CallRecord:
    from urllib.parse import urlsplit

    vertex = bool(getattr(api_client, "vertexai", False))
    base_url = get(getattr(api_client, "_http_options", None), "base_url")
    host = port = None
    if isinstance(base_url, str) and base_url:
        parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    config = kwargs.get("config")
    record = CallRecord(
        provider=VERTEX if vertex else GEMINI,
        operation=operation,
        request_model=model_name(kwargs.get("model")),
        server_address=host,
        server_port=port,
        stream=stream,
        request_attributes=request_attributes(config) if operation == GENERATE else embed_attributes(config),
    )
    record.prompt_text = lambda: "\n".join(_all_texts(kwargs))
    return record


_REQUEST_KEYS = (
    ("max_output_tokens", sc.GEN_AI_REQUEST_MAX_TOKENS, int),
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE, float),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P, float),
    ("top_k", sc.GEN_AI_REQUEST_TOP_K, int),
    ("candidate_count", sc.GEN_AI_REQUEST_CHOICE_COUNT, int),
    ("seed", sc.GEN_AI_REQUEST_SEED, int),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY, float),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY, float),
)


def request_attributes(config: Any) -> Dict[str, Any]:
    attributes: Dict[str, Any] = {}
    if config is None:
        return attributes
    for name, key, kind in _REQUEST_KEYS:
        value = get(config, name)
        if value is not None and not isinstance(value, bool):
            try:
                attributes[key] = kind(value)
            except (TypeError, ValueError):
                pass
    if attributes.get(sc.GEN_AI_REQUEST_CHOICE_COUNT) == 1:  # the conventions: only when not 1
        del attributes[sc.GEN_AI_REQUEST_CHOICE_COUNT]
    stops = get(config, "stop_sequences")
    if isinstance(stops, list) and stops:
        attributes[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = [str(s) for s in stops]
    mime = get(config, "response_mime_type")
    if isinstance(mime, str) and mime:
        attributes[sc.GEN_AI_OUTPUT_TYPE] = "json" if mime == "application/json" else "text"
    return attributes


def embed_attributes(config: Any) -> Dict[str, Any]:
    dimensions = get(config, "output_dimensionality")
    if isinstance(dimensions, int) and not isinstance(dimensions, bool):
        return {sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: dimensions}
    return {}


# -- content --------------------------------------------------------------------------------------


def _part_texts(parts: Any) -> List[str]:
    texts: List[str] = []
    for part in parts or []:
        if isinstance(part, str):
            texts.append(part)
        else:
            text = get(part, "text")
            if isinstance(text, str) and not get(part, "thought"):
                texts.append(text)
    return texts


def _messages(contents: Any) -> List[Dict[str, Any]]:
    """Contents (a string, a Content, a Part, dicts, or a list of them) as semconv messages."""
    if contents is None:
        return []
    if isinstance(contents, str):
        return [{"role": "user", "parts": [{"type": "text", "content": contents}]}]
    if not isinstance(contents, list):
        contents = [contents]
    messages: List[Dict[str, Any]] = []
    loose: List[str] = []
    for item in contents:
        parts = get(item, "parts") if not isinstance(item, str) else None
        if parts is not None:
            role = get(item, "role") or "user"
            text = "".join(_part_texts(parts))
            messages.append({"role": "assistant" if role == "model" else str(role), "parts": [{"type": "text", "content": text}]})
        else:
            loose.extend(_part_texts([item]))
    if loose:
        messages.append({"role": "user", "parts": [{"type": "text", "content": "".join(loose)}]})
    return messages


def _all_texts(kwargs: Dict[str, Any]) -> List[str]:
    texts: List[str] = []
    for key in ("contents", "content", "batch_contents"):
        for message in _messages(kwargs.get(key)):
            texts.extend(part["content"] for part in message["parts"])
    return texts


def capture_input(record: CallRecord, kwargs: Dict[str, Any]) -> None:
    record.input_messages = _messages(kwargs.get("contents"))
    system = get(kwargs.get("config"), "system_instruction")
    if system is not None:
        texts = [system] if isinstance(system, str) else _part_texts(get(system, "parts") or ([system] if get(system, "text") else []))
        record.system_instructions = [{"type": "text", "content": text} for text in texts] or None


def output_message(text: str, reason: Optional[str]) -> Dict[str, Any]:
    return {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": reason or "stop"}


def candidate_text(response: Any) -> str:
    candidates = get(response, "candidates") or []
    if not candidates:
        return ""
    return "".join(_part_texts(get(get(candidates[0], "content"), "parts")))


# -- usage and responses --------------------------------------------------------------------------


def _modality_tokens(details: Any, modality: str) -> int:
    total = 0
    for detail in details or []:
        if enum_text(get(detail, "modality")) == modality:
            total += token_count(get(detail, "token_count"))
    return total


def usage(metadata: Any) -> Optional[Usage]:
    """Canonical usage from ``usage_metadata`` (see the module docstring for the rules)."""
    if metadata is None:
        return None
    prompt = token_count(get(metadata, "prompt_token_count"))
    candidates = token_count(get(metadata, "candidates_token_count"))
    thoughts = token_count(get(metadata, "thoughts_token_count"))
    tool_use = token_count(get(metadata, "tool_use_prompt_token_count"))
    total = token_count(get(metadata, "total_token_count"))
    thoughts_inside = bool(thoughts) and total == prompt + candidates + tool_use
    details = get(metadata, "prompt_tokens_details")
    return Usage(
        input_tokens=prompt + tool_use,
        output_tokens=candidates if thoughts_inside else candidates + thoughts,
        cache_read_tokens=token_count(get(metadata, "cached_content_token_count")),  # more than prompt: marked, not trimmed
        reasoning_tokens=thoughts,
        input_audio_tokens=_modality_tokens(details, "AUDIO"),
        input_image_tokens=_modality_tokens(details, "IMAGE"),
    )


def service_tier(metadata: Any) -> Optional[str]:
    tier = enum_text(get(metadata, "service_tier"))
    if tier:
        return tier.lower()
    return _TIERS.get(enum_text(get(metadata, "traffic_type")) or "")


def raw_finish_reasons(response: Any) -> List[str]:
    """Each candidate's ``FinishReason`` as Gemini spells it (``STOP``, ``MAX_TOKENS`` ...)."""
    reasons: List[str] = []
    for candidate in get(response, "candidates") or []:
        reason = enum_text(get(candidate, "finish_reason"))
        if reason:
            reasons.append(reason)
    return reasons


def fill_generate(record: CallRecord, response: Any, capture: bool) -> None:
    record.response_model = model_name(get(response, "model_version")) or record.request_model
    response_id = get(response, "response_id")
    if isinstance(response_id, str) and response_id:
        record.response_id = response_id
    finish_reasons.apply(record, raw_finish_reasons(response))
    metadata = get(response, "usage_metadata")
    record.usage = usage(metadata)
    record.service_tier = service_tier(metadata)
    if capture:
        reason = record.finish_reasons[0] if record.finish_reasons else None
        record.output_messages = [output_message(candidate_text(response), reason)]


def fill_embed(record: CallRecord, response: Any) -> None:
    """Embeddings: ``usage_metadata`` when sent, else the per-embedding token statistics (Vertex)."""
    record.response_model = record.request_model
    metadata = get(response, "usage_metadata")
    if metadata is not None:
        record.usage = Usage(input_tokens=token_count(get(metadata, "prompt_token_count")))
        return
    embeddings = get(response, "embeddings") or []
    counts = [get(get(e, "statistics"), "token_count") for e in embeddings]
    if counts and all(c is not None for c in counts):
        record.usage = Usage(input_tokens=sum(token_count(c) for c in counts))
