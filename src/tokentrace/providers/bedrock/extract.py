"""Bedrock Runtime requests and responses, read into the provider-neutral call record.

Pure functions over the plain dicts botocore builds and returns. Bedrock's responses name no
model, so the answering model is the requested ``modelId``; inference-profile and foundation
model ARNs are reduced to the id inside them (``us.anthropic.claude-…``) so the price catalog
can match, while opaque ARNs (application inference profiles, provisioned throughput) are kept
as they are and priced as unknown rather than guessed.

Usage follows Bedrock's and Anthropic's convention that ``inputTokens`` exclude cache reads and
writes; the canonical ``input_tokens`` adds them back. InvokeModel bodies are recognised by
shape, not by model id, because an ARN may hide the family. What Bedrock bills is in the
``X-Amzn-Bedrock-*-Token-Count`` headers (and a stream's ``amazon-bedrock-invocationMetrics``):
those win wherever the body has no usage or says something else.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ...core import finish_reasons
from ...core.numbers import InvalidCount
from ...records import semconv as sc
from ...records.call import CallRecord, Usage
from ..anthropic.extract import canonical_usage
from ..values import token_count

PROVIDER = "aws.bedrock"
CONVERSE_OPERATIONS = frozenset({"Converse", "ConverseStream"})
INVOKE_OPERATIONS = frozenset({"InvokeModel", "InvokeModelWithResponseStream"})
STREAM_OPERATIONS = frozenset({"ConverseStream", "InvokeModelWithResponseStream"})
OPERATIONS = CONVERSE_OPERATIONS | INVOKE_OPERATIONS

BEDROCK_MODEL_ID = "aws.bedrock.model_id"
_PRICEABLE_ARN_KINDS = ("inference-profile", "foundation-model")


def model_for_pricing(model_id: str) -> str:
    """The model id inside an inference-profile / foundation-model ARN; anything else unchanged."""
    if model_id.startswith("arn:"):
        resource = model_id.split(":", 5)[-1]
        kind, _, name = resource.partition("/")
        if kind in _PRICEABLE_ARN_KINDS and name:
            return name
    return model_id


def server_of(endpoint_url: Optional[str]) -> tuple:
    from urllib.parse import urlsplit

    if not endpoint_url:
        return None, None
    parts = urlsplit(endpoint_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname, port


def parse_body(raw: Any) -> Optional[Dict[str, Any]]:
    """An InvokeModel JSON body (bytes, str, or a file-like object is left alone), or None."""
    if isinstance(raw, (bytes, bytearray, str)):
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return None


def is_embedding_model(model_id: str) -> bool:
    return "embed" in model_id.lower()


# -- request --------------------------------------------------------------------------------------


def request_record(operation: str, params: Mapping[str, Any], endpoint_url: Optional[str]) -> CallRecord:
    model_id = str(params.get("modelId") or "")
    model = model_for_pricing(model_id) if model_id else None
    host, port = server_of(endpoint_url)
    body: Optional[Dict[str, Any]] = None
    if operation in INVOKE_OPERATIONS:
        body = parse_body(params.get("body"))
        attributes = invoke_request_attributes(body)
    else:
        attributes = converse_request_attributes(params)
    if model_id and model != model_id:
        attributes[BEDROCK_MODEL_ID] = model_id
    record = CallRecord(
        provider=PROVIDER,
        operation="embeddings" if is_embedding_model(model_id) else "chat",
        request_model=model,
        server_address=host,
        server_port=port,
        stream=operation in STREAM_OPERATIONS,
        request_attributes=attributes,
    )
    record.prompt_text = lambda: prompt_text(params, body)
    return record


def converse_request_attributes(params: Mapping[str, Any]) -> Dict[str, Any]:
    config = params.get("inferenceConfig") or {}
    attributes: Dict[str, Any] = {}
    _put(attributes, sc.GEN_AI_REQUEST_MAX_TOKENS, config.get("maxTokens"), int)
    _put(attributes, sc.GEN_AI_REQUEST_TEMPERATURE, config.get("temperature"), float)
    _put(attributes, sc.GEN_AI_REQUEST_TOP_P, config.get("topP"), float)
    stops = config.get("stopSequences")
    if isinstance(stops, list) and stops:
        attributes[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = [str(s) for s in stops]
    return attributes


def invoke_request_attributes(body: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Sampling parameters under each family's own names (Anthropic, Llama, Nova, Mistral)."""
    attributes: Dict[str, Any] = {}
    if not body:
        return attributes
    nova: Mapping[str, Any] = body["inferenceConfig"] if isinstance(body.get("inferenceConfig"), dict) else {}
    if not nova and isinstance(body.get("textGenerationConfig"), dict):  # Titan Text
        nova = body["textGenerationConfig"]
    max_tokens = _first(body, nova, ("max_tokens", "max_gen_len", "maxTokens", "max_new_tokens", "max_tokens_to_sample", "maxTokenCount"))
    _put(attributes, sc.GEN_AI_REQUEST_MAX_TOKENS, max_tokens, int)
    _put(attributes, sc.GEN_AI_REQUEST_TEMPERATURE, _first(body, nova, ("temperature",)), float)
    _put(attributes, sc.GEN_AI_REQUEST_TOP_P, _first(body, nova, ("top_p", "topP", "p")), float)
    _put(attributes, sc.GEN_AI_REQUEST_TOP_K, _first(body, nova, ("top_k", "topK", "k")), int)
    stops = _first(body, nova, ("stop_sequences", "stopSequences", "stop"))
    if isinstance(stops, list) and stops:
        attributes[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = [str(s) for s in stops]
    return attributes


def _first(body: Mapping[str, Any], nested: Mapping[str, Any], names: tuple) -> Any:
    for name in names:
        if body.get(name) is not None:
            return body[name]
        if nested.get(name) is not None:
            return nested[name]
    return None


def _put(attributes: Dict[str, Any], key: str, value: Any, kind: type) -> None:
    if value is None or isinstance(value, bool):
        return
    try:
        attributes[key] = kind(value)
    except (TypeError, ValueError):
        pass


def _texts(value: Any) -> List[str]:
    if isinstance(value, str):
        return [value]
    found: List[str] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                if isinstance(item.get("text"), str):
                    found.append(item["text"])
                found.extend(_texts(item.get("content")))
            elif isinstance(item, str):
                found.append(item)
    return found


def prompt_text(params: Mapping[str, Any], body: Optional[Mapping[str, Any]]) -> str:
    """The prompt's text, for budget projections and estimates (never on the hot path)."""
    source: Mapping[str, Any] = body if body is not None else params
    parts = _texts(source.get("system")) + _texts(source.get("messages"))
    for key in ("prompt", "inputText"):
        if isinstance(source.get(key), str):
            parts.append(source[key])
    return "\n".join(parts)


def input_messages(source: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Converse / Anthropic / Nova messages (or a Llama / Mistral prompt) in the semconv shape."""
    messages: List[Dict[str, Any]] = []
    for message in source.get("messages") or []:
        if isinstance(message, dict):
            text = "".join(_texts(message.get("content")))
            messages.append({"role": str(message.get("role", "user")), "parts": [{"type": "text", "content": text}]})
    if not messages and isinstance(source.get("prompt"), str):
        messages.append({"role": "user", "parts": [{"type": "text", "content": source["prompt"]}]})
    return messages


def system_instructions(source: Mapping[str, Any]) -> Optional[List[Dict[str, Any]]]:
    texts = _texts(source.get("system"))
    return [{"type": "text", "content": text} for text in texts] or None


def output_message(text: str, reason: Optional[str]) -> Dict[str, Any]:
    return {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": reason or "stop"}


# -- usage ----------------------------------------------------------------------------------------


def converse_usage(usage: Any) -> Optional[Usage]:
    """Converse ``TokenUsage``: inputTokens exclude cache reads and writes; 1 h writes in cacheDetails."""
    if not isinstance(usage, Mapping):
        return None
    read = token_count(usage.get("cacheReadInputTokens"))
    write = token_count(usage.get("cacheWriteInputTokens"))
    long_writes = 0
    for detail in usage.get("cacheDetails") or []:
        if isinstance(detail, Mapping) and detail.get("ttl") == "1h":
            long_writes += token_count(detail.get("inputTokens"))
    return Usage(
        input_tokens=token_count(usage.get("inputTokens")) + read + write,
        output_tokens=token_count(usage.get("outputTokens")),
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_long_tokens=long_writes,  # more than the writes: marked by the pipeline, not trimmed
    )


def nova_usage(usage: Mapping[str, Any]) -> Usage:
    """Amazon Nova native usage; cache counts named ``cache…InputTokenCount``, outside inputTokens."""
    read = token_count(usage.get("cacheReadInputTokenCount"))
    write = token_count(usage.get("cacheWriteInputTokenCount"))
    return Usage(
        input_tokens=token_count(usage.get("inputTokens")) + read + write,
        output_tokens=token_count(usage.get("outputTokens")),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def invocation_metrics_usage(metrics: Any) -> Optional[Usage]:
    """``amazon-bedrock-invocationMetrics`` on a stream's last chunk (every model family)."""
    if not isinstance(metrics, Mapping) or "inputTokenCount" not in metrics:
        return None
    read = token_count(metrics.get("cacheReadInputTokenCount"))
    write = token_count(metrics.get("cacheWriteInputTokenCount"))
    return Usage(
        input_tokens=token_count(metrics.get("inputTokenCount")) + read + write,
        output_tokens=token_count(metrics.get("outputTokenCount")),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def _header_count(headers: Mapping[str, Any], name: str) -> Optional[int]:
    raw = headers.get(name)
    if raw is None:
        return None
    # Negative, fractional, huge or not a number: a marked count (as from a body), not "absent".
    try:
        return token_count(int(raw))
    except (TypeError, ValueError):
        pass
    try:
        return token_count(float(raw))
    except (TypeError, ValueError):
        return InvalidCount(0, "not_a_number")


def header_usage(headers: Mapping[str, Any], body: Optional[Usage] = None) -> Optional[Usage]:
    """What Bedrock bills for an InvokeModel call: its ``X-Amzn-Bedrock-*-Token-Count`` headers
    (botocore lower-cases them), with the cache parts from the cache headers, else from the body.

    The headers count input without the cache reads and writes, like Anthropic's ``input_tokens``.
    ``None`` when the response has no token headers.
    """
    raw_in = _header_count(headers, "x-amzn-bedrock-input-token-count")
    raw_out = _header_count(headers, "x-amzn-bedrock-output-token-count")
    if raw_in is None and raw_out is None:
        return None
    read = _header_count(headers, "x-amzn-bedrock-cache-read-input-token-count")
    write = _header_count(headers, "x-amzn-bedrock-cache-write-input-token-count")
    read = read if read is not None else (body.cache_read_tokens if body else 0)
    write = write if write is not None else (body.cache_write_tokens if body else 0)
    raw_in = raw_in if raw_in is not None else 0  # not `or 0`: a marked (invalid) 0 keeps its mark
    raw_out = raw_out if raw_out is not None else 0
    return Usage(
        input_tokens=raw_in + read + write,
        output_tokens=raw_out,
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_long_tokens=min(body.cache_write_long_tokens, write) if body else 0,
        reasoning_tokens=min(body.reasoning_tokens, raw_out) if body else 0,
    )


# -- responses ------------------------------------------------------------------------------------


def fill_converse(record: CallRecord, response: Mapping[str, Any], capture: bool) -> None:
    record.response_model = record.sent_model  # the model sent (a policy's rewrite), which answered
    finish_reasons.apply(record, [response.get("stopReason")])
    record.usage = converse_usage(response.get("usage"))
    tier = response.get("serviceTier")
    if isinstance(tier, Mapping) and isinstance(tier.get("type"), str):
        record.service_tier = tier["type"]
    if capture:
        message = (response.get("output") or {}).get("message") or {}
        text = "".join(_texts(message.get("content")))
        record.output_messages = [output_message(text, record.finish_reasons[0] if record.finish_reasons else None)]


def fill_invoke(record: CallRecord, body: Optional[Mapping[str, Any]], headers: Mapping[str, Any], capture: bool) -> None:
    """A native InvokeModel body, recognised by shape; the token headers are the billing truth."""
    record.response_model = record.sent_model  # the model sent (a policy's rewrite), which answered
    usage: Optional[Usage] = None
    text: Optional[str] = None
    if body is not None:
        usage, text, reasons, response_id = read_invoke_body(body)
        finish_reasons.apply(record, reasons)
        if response_id:
            record.response_id = response_id
    record.usage = header_usage(headers, usage) or usage
    if capture and text is not None and record.operation == "chat":
        record.output_messages = [output_message(text, record.finish_reasons[0] if record.finish_reasons else None)]


def read_invoke_body(body: Mapping[str, Any]) -> Tuple[Optional[Usage], Optional[str], List[Any], Optional[str]]:
    """(usage, text, raw finish reasons, response id) of a model family's own InvokeModel body.

    Families, by shape: Anthropic Messages, Amazon Nova, Amazon Titan Text, Titan / Cohere
    embeddings, Meta Llama, Mistral, AI21 Jurassic-2, Anthropic text completions (Claude v2),
    Cohere Command, and imported models answering in the OpenAI chat/completions shape. A family
    whose body carries no usage gives ``None``: the headers say what was billed.
    """
    native = body.get("usage")
    if isinstance(native, Mapping) and "input_tokens" in native:  # Anthropic Messages
        text = "".join(_texts(body.get("content")))
        response_id = body.get("id") if isinstance(body.get("id"), str) else None
        return canonical_usage(native), text, [body.get("stop_reason")], response_id
    if isinstance(native, Mapping) and "inputTokens" in native:  # Amazon Nova
        text = "".join(_texts(((body.get("output") or {}).get("message") or {}).get("content")))
        return nova_usage(native), text, [body.get("stopReason")], None
    if isinstance(native, Mapping) and "prompt_tokens" in native:  # imported, OpenAI-shaped
        return _openai_shaped(body, native)
    results = body.get("results")
    if isinstance(results, list):  # Amazon Titan Text
        outputs = [r for r in results if isinstance(r, Mapping)]
        usage = Usage(
            input_tokens=token_count(body.get("inputTextTokenCount")),
            output_tokens=sum(token_count(r.get("tokenCount")) for r in outputs),
        )
        text = "".join(str(r.get("outputText", "")) for r in outputs)
        return usage, text, [r.get("completionReason") for r in outputs], None
    if "inputTextTokenCount" in body:  # Titan / Nova embeddings
        return Usage(input_tokens=token_count(body.get("inputTextTokenCount"))), None, [], None
    if "prompt_token_count" in body or "generation" in body:  # Meta Llama
        usage = Usage(
            input_tokens=token_count(body.get("prompt_token_count")),
            output_tokens=token_count(body.get("generation_token_count")),
        )
        generation = body.get("generation")
        return usage, generation if isinstance(generation, str) else None, [body.get("stop_reason")], None
    if isinstance(body.get("outputs"), list):  # Mistral
        outputs = [o for o in body["outputs"] if isinstance(o, Mapping)]
        return None, "".join(str(o.get("text", "")) for o in outputs), [o.get("stop_reason") for o in outputs], None
    if isinstance(body.get("completions"), list):  # AI21 Jurassic-2
        completions = [c for c in body["completions"] if isinstance(c, Mapping)]
        text = "".join(str((c.get("data") or {}).get("text", "")) for c in completions)
        return None, text, [(c.get("finishReason") or {}).get("reason") for c in completions], None
    if isinstance(body.get("completion"), str):  # Anthropic text completions (Claude v2, Instant)
        return None, body["completion"], [body.get("stop_reason")], None
    if isinstance(body.get("generations"), list):  # Cohere Command
        generations = [g for g in body["generations"] if isinstance(g, Mapping)]
        text = "".join(str(g.get("text", "")) for g in generations)
        response_id = body.get("id") if isinstance(body.get("id"), str) else None
        return None, text, [g.get("finish_reason") for g in generations], response_id
    if isinstance(body.get("choices"), list):  # imported, OpenAI-shaped, without usage
        return _openai_shaped(body, None)
    return None, None, [], None


def _openai_shaped(body: Mapping[str, Any], usage: Optional[Mapping[str, Any]]) -> Tuple[Optional[Usage], Optional[str], List[Any], Optional[str]]:
    choices = [c for c in body.get("choices") or [] if isinstance(c, Mapping)]
    texts = []
    for choice in choices:
        message = choice.get("message")
        content = message.get("content") if isinstance(message, Mapping) else choice.get("text")
        texts.append(content if isinstance(content, str) else "")
    read = Usage(
        input_tokens=token_count(usage.get("prompt_tokens")),
        output_tokens=token_count(usage.get("completion_tokens")),
    ) if usage is not None else None
    response_id = body.get("id") if isinstance(body.get("id"), str) else None
    return read, "".join(texts), [c.get("finish_reason") for c in choices], response_id
