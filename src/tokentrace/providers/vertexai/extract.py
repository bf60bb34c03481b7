"""Vertex AI SDK requests and responses, read with the google-genai adapter's translation.

The SDK's objects (``Content``, ``Part``, ``GenerationConfig``) are turned into the plain dicts
their ``to_dict()`` gives, which the google-genai extractors read by key; responses are read
from the protobuf message each ``GenerationResponse`` wraps (``_raw_response``), whose fields
carry the same snake_case names as google-genai's types (``usage_metadata``,
``prompt_token_count``, ``model_version`` ...).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

from ...records.call import CallRecord
from ..google_genai import extract as genai
from ..google_genai.extract import GENERATE, VERTEX

__all__ = ["GENERATE", "request_record", "raw_response", "plain", "server_of"]


#: Where the SDK's wrapper objects keep their protobuf message.
_RAW = ("_raw_generation_config", "_raw_content", "_raw_part")


def plain(value: Any) -> Any:
    """Contents / parts / config as plain dicts of the protobuf messages the SDK's objects wrap.

    ``MessageToDict`` rather than the objects' ``to_dict()``: it leaves unset fields out (an
    unset temperature is not 0) and emits no deprecation warning into the app.
    """
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    for name in _RAW:
        raw = getattr(value, name, None)
        if raw is not None:
            from google.protobuf.json_format import MessageToDict

            return MessageToDict(type(raw).pb(raw), preserving_proto_field_name=True)
    return value


def raw_response(response: Any) -> Any:
    """The protobuf ``GenerateContentResponse`` inside a ``GenerationResponse``."""
    return getattr(response, "_raw_response", response)


def server_of(location: Optional[str]) -> Tuple[Optional[str], Optional[int]]:
    """The host the SDK sends to: ``vertexai.init(api_endpoint=...)``, else the regional one."""
    try:
        from google.cloud.aiplatform import initializer

        endpoint = initializer.global_config.api_endpoint
    except Exception:
        endpoint = None
    if isinstance(endpoint, str) and endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        return parts.hostname, parts.port or (80 if parts.scheme == "http" else 443)
    if isinstance(location, str) and location:
        return ("aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"), 443
    return None, None


def _system(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, list):  # a list of strings / parts: one Content's parts
        return {"parts": [{"text": item} if isinstance(item, str) else item for item in value]}
    return value


def request_record(model: Any, kwargs: Dict[str, Any], stream: bool) -> CallRecord:
    config = kwargs.get("generation_config")
    if config is None:
        config = getattr(model, "_generation_config", None)
    host, port = server_of(getattr(model, "_location", None))
    record = CallRecord(
        provider=VERTEX,
        operation=GENERATE,
        request_model=genai.model_name(getattr(model, "_model_name", None)),
        server_address=host,
        server_port=port,
        stream=stream,
        request_attributes=genai.request_attributes(plain(config)),
    )
    contents = kwargs.get("contents")
    record.prompt_text = lambda: "\n".join(genai._all_texts({"contents": plain(contents)}))
    return record


def capture_input(record: CallRecord, model: Any, kwargs: Dict[str, Any]) -> None:
    system = getattr(model, "_system_instruction", None)
    genai.capture_input(record, {"contents": plain(kwargs.get("contents")), "config": {"system_instruction": _system(system)}})


def fill(record: CallRecord, response: Any, capture: bool) -> None:
    genai.fill_generate(record, raw_response(response), capture)
