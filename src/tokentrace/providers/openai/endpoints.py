"""Which OpenAI endpoint a request goes to, which provider stands behind the base URL, and the
request half of the call record.

The adapter patches the SDK's one choke point (``SyncAPIClient.request`` / ``AsyncAPIClient.request``)
rather than twenty public methods, so ``create``, ``parse``, the ``.stream()`` helpers and the
``with_raw_response`` / ``with_streaming_response`` variants are all covered, and so is any
method the SDK adds later that posts to the same endpoints. Everything here is pure: options in,
record out.
"""

from __future__ import annotations

from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from typing import Any, Dict, List, Optional, Tuple

from ...records import semconv as sc
from ...records.call import CallRecord
from ..values import ClientTarget, request_integer, request_number

CHAT = "chat_completions"
RESPONSES = "responses"
EMBEDDINGS = "embeddings"
COMPLETIONS = "completions"

_OPERATIONS = {CHAT: "chat", RESPONSES: "chat", EMBEDDINGS: "embeddings", COMPLETIONS: "text_completion"}

#: Host suffix -> gen_ai.provider.name, for OpenAI-compatible endpoints.
_HOST_PROVIDERS: Tuple[Tuple[str, str], ...] = (
    ("api.openai.com", "openai"),
    (".openai.azure.com", "azure.ai.openai"),
    (".cognitiveservices.azure.com", "azure.ai.openai"),
    (".services.ai.azure.com", "azure.ai.inference"),
    ("openrouter.ai", "openrouter"),
    ("api.groq.com", "groq"),
    ("api.deepseek.com", "deepseek"),
    ("api.x.ai", "x_ai"),
    ("api.together.xyz", "together_ai"),
    ("api.together.ai", "together_ai"),
    ("api.mistral.ai", "mistral_ai"),
    ("api.perplexity.ai", "perplexity"),
    ("api.moonshot.ai", "moonshot_ai"),
    ("api.fireworks.ai", "fireworks_ai"),
    ("generativelanguage.googleapis.com", "gcp.gemini"),
    ("aiplatform.googleapis.com", "gcp.vertex_ai"),
)
#: Well-known local servers, by port.
_LOCAL_PORTS = {11434: "ollama", 8000: "vllm"}


def endpoint_of(url: str, method: str) -> Optional[str]:
    """The endpoint kind for a request path, or ``None`` for endpoints tokentrace does not trace."""
    if method.lower() != "post":
        return None
    if url.endswith("/chat/completions"):
        return CHAT
    if url.endswith("/responses"):
        return RESPONSES
    if url.endswith("/embeddings"):
        return EMBEDDINGS
    if url.endswith("/completions"):
        return COMPLETIONS
    return None


def provider_for(host: str, port: Optional[int], is_azure_client: bool) -> str:
    if is_azure_client:
        return "azure.ai.openai"
    host = host.lower()
    for suffix, provider in _HOST_PROVIDERS:
        if host == suffix.lstrip(".") or host.endswith(suffix):
            return provider
    if host in ("localhost", "127.0.0.1", "::1") and port in _LOCAL_PORTS:
        return _LOCAL_PORTS[port]
    return "openai"


def client_target(client: Any) -> ClientTarget:
    cached = getattr(client, "_tokentrace_target", None)
    base_url = getattr(client, "base_url", None)
    if cached is not None and cached[0] is base_url:
        return cached[1]
    host = getattr(base_url, "host", None) or None
    port = getattr(base_url, "port", None)
    if port is None and base_url is not None:
        port = 443 if getattr(base_url, "scheme", "https") == "https" else 80
    from openai.lib.azure import BaseAzureClient

    target = ClientTarget(provider_for(host or "", port, isinstance(client, BaseAzureClient)), host, port)
    try:
        client._tokentrace_target = (base_url, target)
    except Exception:
        pass
    return target


_NUMBER_PARAMETERS = (
    ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", sc.GEN_AI_REQUEST_TOP_P),
    ("frequency_penalty", sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
)


def request_attributes(endpoint: str, body: Mapping[str, Any]) -> Dict[str, Any]:
    """``gen_ai.request.*`` and ``openai.*`` attributes from the request body."""
    attributes: Dict[str, Any] = {sc.OPENAI_API_TYPE: endpoint} if endpoint in (CHAT, RESPONSES) else {}
    max_tokens = request_integer(body.get("max_completion_tokens") or body.get("max_tokens") or body.get("max_output_tokens"))
    if max_tokens is not None:
        attributes[sc.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    for key, attribute in _NUMBER_PARAMETERS:
        value = body.get(key)
        if value is not None:  # most requests set few of them: absent ones cost a lookup
            number = request_number(value)
            if number is not None:
                attributes[attribute] = number
    seed = body.get("seed")
    if seed is not None:
        seed = request_integer(seed)
        if seed is not None:
            attributes[sc.GEN_AI_REQUEST_SEED] = seed
    choices = body.get("n")
    if choices is not None:
        choices = request_integer(choices)
        if choices is not None and choices != 1:
            attributes[sc.GEN_AI_REQUEST_CHOICE_COUNT] = choices
    stop = body.get("stop")
    if isinstance(stop, str):
        attributes[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop]
    elif isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop):
        attributes[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
    service_tier = body.get("service_tier")
    if isinstance(service_tier, str):
        attributes[sc.OPENAI_REQUEST_SERVICE_TIER] = service_tier
    reasoning = body.get("reasoning_effort")
    if reasoning is None and isinstance(body.get("reasoning"), Mapping):
        reasoning = body["reasoning"].get("effort")
    if isinstance(reasoning, str):
        attributes[sc.GEN_AI_REQUEST_REASONING_LEVEL] = reasoning
    output_type = _output_type(body) if "response_format" in body or "text" in body else None
    if output_type:
        attributes[sc.GEN_AI_OUTPUT_TYPE] = output_type
    encoding = body.get("encoding_format")
    if endpoint == EMBEDDINGS and isinstance(encoding, str):
        attributes[sc.GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
    return attributes


def _output_type(body: Mapping[str, Any]) -> Optional[str]:
    fmt = body.get("response_format")
    if fmt is None and isinstance(body.get("text"), Mapping):
        fmt = body["text"].get("format")
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if kind in ("json_schema", "json_object"):
        return "json"
    if kind == "text":
        return "text"
    return None


def build_record(endpoint: str, body: Mapping[str, Any], target: ClientTarget, stream: bool) -> CallRecord:
    model = body.get("model")
    return CallRecord(
        provider=target.provider,
        operation=_OPERATIONS[endpoint],
        request_model=model if isinstance(model, str) else None,
        server_address=target.address,
        server_port=target.port,
        stream=stream,
        request_attributes=_for_provider(target.provider, request_attributes(endpoint, body)),
        prompt_text=lambda: prompt_text(endpoint, body),
    )


#: Providers whose spans carry the conventions' OpenAI refinement (``openai.*`` attributes).
OPENAI_PROVIDERS = frozenset({"openai", "azure.ai.openai"})


def is_openai(provider: str) -> bool:
    return provider in OPENAI_PROVIDERS


def _for_provider(provider: str, attributes: Dict[str, Any]) -> Dict[str, Any]:
    """``openai.*`` attributes only on OpenAI's own spans, not on Groq's or a vLLM's."""
    if is_openai(provider):
        return attributes
    return {key: value for key, value in attributes.items() if not key.startswith("openai.")}


def prompt_text(endpoint: str, body: Mapping[str, Any]) -> str:
    """The request's text, for local counting (budget projection, usage estimation)."""
    if endpoint == CHAT:
        return "\n".join(text for _, text in _chat_message_texts(body.get("messages")))
    if endpoint == RESPONSES:
        value = body.get("input")
        text = value if isinstance(value, str) else "\n".join(t for _, t in _chat_message_texts(value))
        instructions = body.get("instructions")
        return (instructions + "\n" + text) if isinstance(instructions, str) else text
    value = body.get("prompt") if endpoint == COMPLETIONS else body.get("input")
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(v for v in value if isinstance(v, str))
    return ""


def _chat_message_texts(messages: Any) -> List[Tuple[str, str]]:
    found: List[Tuple[str, str]] = []
    if not isinstance(messages, (list, tuple)):
        return found
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        role = str(message.get("role", "user"))
        content = message.get("content")
        if isinstance(content, str):
            found.append((role, content))
        elif isinstance(content, (list, tuple)):
            for part in content:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    found.append((role, part["text"]))
    return found


def input_messages(endpoint: str, body: Mapping[str, Any]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(system instructions, input messages) in the semconv message shape; only for opted-in capture."""
    system: List[Dict[str, Any]] = []
    messages: List[Dict[str, Any]] = []
    if endpoint == RESPONSES and isinstance(body.get("instructions"), str):
        system.append({"type": "text", "content": body["instructions"]})
    if endpoint in (CHAT, RESPONSES):
        source = body.get("messages") if endpoint == CHAT else body.get("input")
        if isinstance(source, str):
            messages.append({"role": "user", "parts": [{"type": "text", "content": source}]})
        for role, text in _chat_message_texts(source):
            if role in ("system", "developer"):
                system.append({"type": "text", "content": text})
            else:
                messages.append({"role": role, "parts": [{"type": "text", "content": text}]})
    else:
        text = prompt_text(endpoint, body)
        if text:
            messages.append({"role": "user", "parts": [{"type": "text", "content": text}]})
    return system, messages
