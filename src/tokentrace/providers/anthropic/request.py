"""Which Anthropic requests tokentrace traces, and the request half of their call record.

The adapter patches the SDK's one choke point (``SyncAPIClient.request`` / ``AsyncAPIClient.request``)
and keeps the requests that post to the Messages endpoint. At that point every client
(``Anthropic``, ``AnthropicBedrock``, ``AnthropicVertex``, beta or not) still addresses
``/v1/messages``: the platform clients rewrite the path later, per attempt. So ``create``,
``stream()``, ``parse()``, ``beta.messages.*``, the tool runner and the ``with_raw_response``
variants are all covered by one wrapper. Everything here is pure: options in, record out.
"""

from __future__ import annotations

from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from typing import Any, Dict, List, Optional

from ...records import semconv as sc
from ...records.call import CallRecord
from ..values import ClientTarget, request_integer, request_number
from . import attributes as aa

OPERATION = "chat"


def is_messages_call(options: Any) -> bool:
    """True for ``POST /v1/messages`` (and its ``?beta=true`` form), the one endpoint that bills tokens."""
    method = getattr(options, "method", None)
    url = getattr(options, "url", None)
    if not isinstance(method, str) or method.lower() != "post" or not isinstance(url, str):
        return False
    return url.partition("?")[0].endswith("/v1/messages")


def client_target(client: Any) -> ClientTarget:
    """Provider name and server of a client: the SDK's own ``gen_ai.provider.name`` for it
    (``anthropic``, ``aws.bedrock``, ``gcp.vertex_ai``) and the host and port of its base URL."""
    base_url = getattr(client, "base_url", None)
    cached = getattr(client, "_tokentrace_target", None)
    if cached is not None and cached[0] is base_url:
        return cached[1]
    provider = getattr(type(client), "_gen_ai_provider_name", None)
    if not isinstance(provider, str) or not provider:
        provider = "anthropic"
    host = getattr(base_url, "host", None) or None
    port = getattr(base_url, "port", None)
    if port is None and host is not None:
        port = 443 if getattr(base_url, "scheme", "https") == "https" else 80
    target = ClientTarget(provider, host, port)
    try:
        client._tokentrace_target = (base_url, target)
    except Exception:
        pass
    return target


def request_attributes(body: Mapping[str, Any]) -> Dict[str, Any]:
    """``gen_ai.request.*`` and ``anthropic.*`` attributes from the request body.

    Values the SDK leaves as its ``omit`` / ``NOT_GIVEN`` sentinels fail the type checks and set
    nothing, exactly like absent ones.
    """
    attributes: Dict[str, Any] = {}
    max_tokens = request_integer(body.get("max_tokens"))
    if max_tokens is not None:
        attributes[sc.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    for key, attribute in (
        ("temperature", sc.GEN_AI_REQUEST_TEMPERATURE),
        ("top_p", sc.GEN_AI_REQUEST_TOP_P),
    ):
        value = body.get(key)
        if value is not None:  # most requests set few of them: absent ones cost a lookup
            number = request_number(value)
            if number is not None:
                attributes[attribute] = number
    top_k = body.get("top_k")
    if top_k is not None:
        top_k = request_integer(top_k)  # an int in the conventions' registry
        if top_k is not None:
            attributes[sc.GEN_AI_REQUEST_TOP_K] = top_k
    stop = body.get("stop_sequences")
    if isinstance(stop, (list, tuple)) and stop and all(isinstance(s, str) for s in stop):
        attributes[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
    tier = body.get("service_tier")
    if isinstance(tier, str):
        attributes[aa.REQUEST_SERVICE_TIER] = tier
    thinking = body.get("thinking")
    if isinstance(thinking, Mapping):
        kind = thinking.get("type")
        if isinstance(kind, str):
            attributes[aa.THINKING_TYPE] = kind
        budget = request_integer(thinking.get("budget_tokens"))
        if budget is not None:
            attributes[aa.THINKING_BUDGET_TOKENS] = budget
    output_config = body.get("output_config")
    if isinstance(output_config, Mapping):
        effort = output_config.get("effort")
        if isinstance(effort, str):
            attributes[sc.GEN_AI_REQUEST_REASONING_LEVEL] = effort
        fmt = output_config.get("format")
        if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
            attributes[sc.GEN_AI_OUTPUT_TYPE] = "json"
    return attributes


def build_record(body: Mapping[str, Any], target: ClientTarget, stream: bool) -> CallRecord:
    model = body.get("model")
    return CallRecord(
        provider=target.provider,
        operation=OPERATION,
        request_model=model if isinstance(model, str) else None,
        server_address=target.address,
        server_port=target.port,
        stream=stream,
        request_attributes=request_attributes(body),
        prompt_text=lambda: prompt_text(body),
    )


# -- content (prompt text for local counting, opt-in message capture) ------------------------------


def _block_texts(content: Any) -> List[str]:
    if isinstance(content, str):
        return [content]
    texts: List[str] = []
    if isinstance(content, (list, tuple)):
        for block in content:
            if isinstance(block, Mapping):
                text = block.get("text")
                if isinstance(text, str):
                    texts.append(text)
                elif block.get("type") == "tool_result":
                    texts.extend(_block_texts(block.get("content")))
    return texts


def _messages(body: Mapping[str, Any]) -> List[Any]:
    # Only a list or tuple is read: an iterator the app passed must not be consumed here.
    messages = body.get("messages")
    return list(messages) if isinstance(messages, (list, tuple)) else []


def prompt_text(body: Mapping[str, Any]) -> str:
    """The request's text (system prompt and messages), for budget projection and estimation."""
    texts = _block_texts(body.get("system"))
    for message in _messages(body):
        if isinstance(message, Mapping):
            texts.extend(_block_texts(message.get("content")))
    return "\n".join(texts)


def _part(block: Any) -> Optional[Dict[str, Any]]:
    """One content block as a semconv message part."""
    if isinstance(block, str):
        return {"type": "text", "content": block}
    if not isinstance(block, Mapping):
        return None
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "content": block.get("text")}
    if kind == "thinking":
        return {"type": "reasoning", "content": block.get("thinking")}
    if kind == "tool_use":
        return {"type": "tool_call", "id": block.get("id"), "name": block.get("name"), "arguments": block.get("input")}
    if kind == "tool_result":
        return {"type": "tool_call_response", "id": block.get("tool_use_id"), "response": "\n".join(_block_texts(block.get("content")))}
    if isinstance(kind, str):
        return {"type": kind}
    return None


def parts(content: Any) -> List[Dict[str, Any]]:
    blocks = [content] if isinstance(content, str) else content if isinstance(content, (list, tuple)) else []
    return [p for p in (_part(b) for b in blocks) if p is not None]


def fill_input_content(record: CallRecord, body: Mapping[str, Any]) -> None:
    """Opt-in capture of the prompt in the semconv message shape (only called when capture is on)."""
    system = parts(body.get("system"))
    if system:
        record.system_instructions = system
    record.input_messages = [
        {"role": str(m.get("role")), "parts": parts(m.get("content"))} for m in _messages(body) if isinstance(m, Mapping)
    ]
