"""Requests and responses shaped like OpenAI's Chat Completions, sent by SDKs other than ``openai``.

Mistral, Groq and Azure AI Inference speak (near) Chat Completions: ``messages``, ``choices``,
``usage.prompt_tokens`` including cached tokens. Their adapters read the request through these
helpers, which take the SDK's keyword arguments (plain dicts or the SDK's own pydantic or
``_model_base`` objects) and hand plain dicts to the OpenAI adapter's pure readers.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from ..attribution.propagation import register_provider_origin
from ..records import semconv as sc
from ..records.call import CallRecord
from .openai import endpoints as openai_endpoints
from .values import ClientTarget


def plain(value: Any) -> Any:
    """A request value as JSON-like Python data (SDK models dumped, mappings and lists copied)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return plain(dump(by_alias=True, exclude_none=True))
    as_dict = getattr(value, "as_dict", None)  # azure-core _model_base models
    if callable(as_dict):
        return plain(as_dict())
    return None


def target_of(url: Optional[str], provider: str) -> ClientTarget:
    """Server address and port from a base URL string."""
    if not isinstance(url, str) or not url:
        return ClientTarget(provider, None, None)
    parts = urlsplit(url)
    port = parts.port
    if port is None and parts.hostname:
        port = 443 if parts.scheme == "https" else 80
    # This client sends to an LLM provider: the transport strips attribution baggage there.
    register_provider_origin(parts.hostname, port)
    return ClientTarget(provider, parts.hostname, port)


def chat_record(
    provider: str,
    target: ClientTarget,
    body: Mapping[str, Any],
    capture: bool,
    operation: str = "chat",
    stream: bool = False,
) -> CallRecord:
    """The request half of a Chat Completions-shaped call (``body`` already plain data)."""
    endpoint = openai_endpoints.CHAT if operation == "chat" else openai_endpoints.COMPLETIONS
    attributes = openai_endpoints.request_attributes(endpoint, body)
    attributes.pop(sc.OPENAI_API_TYPE, None)
    tier = attributes.pop(sc.OPENAI_REQUEST_SERVICE_TIER, None)
    if tier is not None:
        attributes["tokentrace.request.service_tier"] = tier
    model = body.get("model")
    record = CallRecord(
        provider=provider,
        operation=operation,
        request_model=model if isinstance(model, str) and model else None,
        server_address=target.address,
        server_port=target.port,
        stream=stream,
        request_attributes=attributes,
        prompt_text=lambda: openai_endpoints.prompt_text(endpoint, body),
    )
    if capture:
        system, messages = openai_endpoints.input_messages(endpoint, body)
        record.system_instructions = system or None
        record.input_messages = messages or None
    return record


def embedding_record(provider: str, target: ClientTarget, model: Any, inputs: Any) -> CallRecord:
    texts: List[str] = [inputs] if isinstance(inputs, str) else [t for t in (inputs or []) if isinstance(t, str)] if isinstance(inputs, (list, tuple)) else []
    return CallRecord(
        provider=provider,
        operation="embeddings",
        request_model=model if isinstance(model, str) and model else None,
        server_address=target.address,
        server_port=target.port,
        prompt_text=lambda: "\n".join(texts),
    )


def keyword_body(kwargs: Mapping[str, Any], names: Tuple[str, ...]) -> Dict[str, Any]:
    """The JSON body an SDK method will send, from the keyword arguments it was called with."""
    body: Dict[str, Any] = {}
    for name in names:
        value = kwargs.get(name)
        if value is None or type(value).__name__ in ("Unset", "_Unset", "OmitType"):
            continue
        body[name] = plain(value)
    return body
