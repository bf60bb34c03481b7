"""AWS Bedrock Runtime's wire format: Converse, ConverseStream, InvokeModel and its stream.

Paths and shapes follow botocore's ``bedrock-runtime`` 2023-09-30 service model: ``POST
/model/{modelId}/converse`` (``modelId`` URL-encoded, so inference-profile ARNs work), JSON
bodies with ``output.message``, ``stopReason``, ``usage`` and ``metrics``; the streaming
operations answer in AWS event-stream framing. InvokeModel bodies are the model family's own
format, picked from the model id (and, for Anthropic, the request: a ``prompt`` is a Claude v2
text completion): Anthropic Messages, Meta Llama, Amazon Nova, Mistral, Amazon Titan Text, AI21
Jurassic-2, Anthropic text completions, Cohere Command and imported models answering in the
OpenAI chat shape. Mistral, AI21, Claude text and Cohere bodies carry no usage; Bedrock reports
the counts in ``X-Amzn-Bedrock-*-Token-Count`` headers (and in ``amazon-bedrock-invocationMetrics``
on a stream's last chunk), which are what Bedrock bills.
Errors carry ``x-amzn-ErrorType`` and ``{"message": ...}`` as Bedrock sends them.

``ResponsePlan.usage`` is sent verbatim in the answering shape: a Converse ``TokenUsage`` for
the Converse operations, the family's native usage object for InvokeModel (Anthropic
``usage``, Nova ``usage``, Llama ``{prompt_token_count, generation_token_count}``), and
``{inputTokenCount, outputTokenCount}`` for the families without body usage (Mistral, AI21,
Claude text, Cohere), Titan's ``{inputTextTokenCount, tokenCount}`` and the OpenAI ``usage`` for
imported models. ``ResponsePlan.extra["amazon-bedrock-invocationMetrics"]`` replaces a stream's
invocation metrics (a body that disagrees with what is billed). In a stream, ``ResponsePlan.error`` with
status 200 (``{"exception": "throttlingException", "message": ...}``) sends a modeled error
event after the first content event.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import unquote

from .. import eventstream
from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan, StreamReply, count_text_tokens

DEFAULT_TEXT = "The invoice arrived three weeks late, so the late fee does not apply."

_ERRORS = {
    400: ("ValidationException", "The provided request is not valid"),
    403: ("AccessDeniedException", "You don't have access to the model with the specified model ID."),
    404: ("ResourceNotFoundException", "The requested resource could not be found."),
    424: ("ModelErrorException", "The model produced an error."),
    429: ("ThrottlingException", "Too many requests, please wait before trying again."),
    500: ("InternalServerException", "The server encountered an internal error."),
    503: ("ServiceUnavailableException", "The service is temporarily unavailable."),
}


def register(server: ProviderServer) -> None:
    server.route("POST", r"/model/(?P<model>[^/]+)/converse", converse)
    server.route("POST", r"/model/(?P<model>[^/]+)/converse-stream", converse_stream)
    server.route("POST", r"/model/(?P<model>[^/]+)/invoke", invoke)
    server.route("POST", r"/model/(?P<model>[^/]+)/invoke-with-response-stream", invoke_stream)


# -- shared helpers -------------------------------------------------------------------------------


def family(model_id: str, body: Optional[Dict[str, Any]] = None) -> str:
    """The body format a model id answers in: anthropic, claude_text, meta, nova, mistral, titan,
    ai21, cohere, imported (OpenAI-shaped) or embed (Titan / Cohere embeddings)."""
    lowered = model_id.lower()
    if "embed" in lowered:
        return "embed"
    if "imported-model" in lowered:
        return "imported"
    for name, marker in (
        ("meta", "meta."), ("nova", "amazon.nova"), ("mistral", "mistral."), ("titan", "amazon.titan-text"),
        ("ai21", "ai21."), ("cohere", "cohere.command"),
    ):
        if marker in lowered:
            return name
    if body is not None and isinstance(body.get("prompt"), str) and "messages" not in body:
        return "claude_text"
    return "anthropic"


def _request_id() -> str:
    return str(uuid.uuid4())


def _error(plan: ResponsePlan) -> Reply:
    kind, text = _ERRORS.get(plan.status, ("InternalServerException", "The server encountered an internal error."))
    error = plan.error or {}
    body = {"message": error.get("message", text)}
    headers = {"x-amzn-ErrorType": f"{error.get('type', kind)}:http://internal.amazon.com/coral/com.amazon.bedrock/",
               "x-amzn-RequestId": _request_id(), **plan.headers}
    return Reply(plan.status, body, headers)


def _texts(value: Any) -> List[str]:
    """Every ``text`` in a Converse / Anthropic / Nova message list or system block list."""
    found: List[str] = []
    if isinstance(value, str):
        return [value]
    for item in value or []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("text"), str):
            found.append(item["text"])
        content = item.get("content")
        if content is not None:
            found.extend(_texts(content))
    return found


def _prompt_tokens(body: Dict[str, Any]) -> int:
    parts = _texts(body.get("messages")) + _texts(body.get("system"))
    if isinstance(body.get("prompt"), str):
        parts.append(body["prompt"])
    return count_text_tokens(" ".join(parts)) + 3


def _split(text: str, parts: int) -> List[str]:
    parts = max(1, parts)
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _stream_error(plan: ResponsePlan) -> Optional[Tuple[str, str]]:
    if plan.error and plan.status == 200:
        return plan.error.get("exception", "modelStreamErrorException"), plan.error.get("message", "The model stream failed.")
    return None


def _stream_reply(chunks: Iterator[bytes], plan: ResponsePlan, headers: Dict[str, str]) -> StreamReply:
    return StreamReply(
        chunks,
        content_type="application/vnd.amazon.eventstream",
        headers={"x-amzn-RequestId": _request_id(), **headers, **plan.headers},
        truncate_after=plan.truncate_after,
        chunk_delay_s=plan.chunk_delay_s,
    )


def _custom_events(plan: ResponsePlan) -> Iterator[bytes]:
    for item in plan.events or []:
        if isinstance(item, tuple):
            yield eventstream.event(item[0] or "chunk", json.loads(item[1]))
        else:
            yield eventstream.event("chunk", {"bytes": base64.b64encode(item.encode()).decode()})


# -- Converse -------------------------------------------------------------------------------------


def _converse_usage(body: Dict[str, Any], text: str, plan: ResponsePlan) -> Dict[str, Any]:
    if plan.usage is not None:
        return plan.usage
    prompt, output = _prompt_tokens(body), count_text_tokens(text)
    return {"inputTokens": prompt, "outputTokens": output, "totalTokens": prompt + output}


def converse(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    if plan.status != 200:
        return _error(plan)
    if plan.body is not None:
        return Reply(200, plan.body, {"x-amzn-RequestId": _request_id(), **plan.headers})
    body = request.json or {}
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    result: Dict[str, Any] = {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": _converse_usage(body, text, plan),
        "metrics": {"latencyMs": 412},
    }
    result.update(plan.extra)
    return Reply(200, result, {"x-amzn-RequestId": _request_id(), **plan.headers})


def converse_stream(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    if plan.status != 200:
        return _error(plan)
    if plan.events is not None:
        return _stream_reply(_custom_events(plan), plan, {})
    body = request.json or {}
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    usage = _converse_usage(body, text, plan)

    def events() -> Iterator[bytes]:
        yield eventstream.event("messageStart", {"role": "assistant", "p": "abcdefghij"})
        for index, piece in enumerate(_split(text, plan.chunks)):
            yield eventstream.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}, "p": "abcd"})
            failure = _stream_error(plan)
            if failure and index == 0:
                yield eventstream.exception(*failure)
                return
        yield eventstream.event("contentBlockStop", {"contentBlockIndex": 0, "p": "abcdefghijklm"})
        yield eventstream.event("messageStop", {"stopReason": "end_turn", "p": "abcdefgh"})
        if not plan.omit_usage:
            metadata = {"usage": usage, "metrics": {"latencyMs": 388}, "p": "abcdef"}
            metadata.update(plan.extra)
            yield eventstream.event("metadata", metadata)

    return _stream_reply(events(), plan, {})


# -- InvokeModel: native bodies per family --------------------------------------------------------


def _native_usage(kind: str, body: Dict[str, Any], text: str, plan: ResponsePlan) -> Dict[str, Any]:
    if plan.usage is not None:
        return plan.usage
    prompt, output = _prompt_tokens(body), count_text_tokens(text)
    if kind == "anthropic":
        return {"input_tokens": prompt, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": output}
    if kind == "nova":
        return {"inputTokens": prompt, "outputTokens": output, "totalTokens": prompt + output,
                "cacheReadInputTokenCount": 0, "cacheWriteInputTokenCount": 0}
    if kind == "meta":
        return {"prompt_token_count": prompt, "generation_token_count": output}
    if kind == "embed":
        return {"inputTextTokenCount": count_text_tokens(str(body.get("inputText", "")))}
    if kind == "titan":
        prompt = count_text_tokens(str(body.get("inputText", "")))
        return {"inputTextTokenCount": prompt, "tokenCount": output}
    if kind == "imported":
        return {"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": prompt + output}
    return {"inputTokenCount": prompt, "outputTokenCount": output}


def _counts(kind: str, usage: Dict[str, Any]) -> Tuple[int, int]:
    """Input and output counts as Bedrock's invocation metrics and headers state them."""
    keys = {
        "anthropic": ("input_tokens", "output_tokens"),
        "nova": ("inputTokens", "outputTokens"),
        "meta": ("prompt_token_count", "generation_token_count"),
        "titan": ("inputTextTokenCount", "tokenCount"),
        "imported": ("prompt_tokens", "completion_tokens"),
        "embed": ("inputTextTokenCount", "outputTokenCount"),
    }.get(kind, ("inputTokenCount", "outputTokenCount"))
    return int(usage.get(keys[0]) or 0), int(usage.get(keys[1]) or 0)


def _anthropic_message(model_id: str, text: str, usage: Dict[str, Any], plan: ResponsePlan) -> Dict[str, Any]:
    return {
        "id": "msg_bdrk_01" + hashlib.sha1(f"{model_id}{time.time_ns()}".encode()).hexdigest()[:22],
        "type": "message",
        "role": "assistant",
        "model": plan.model or _anthropic_model_name(model_id),
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }


def _anthropic_model_name(model_id: str) -> str:
    """``us.anthropic.claude-sonnet-4-5-20250929-v1:0`` -> ``claude-sonnet-4-5-20250929``."""
    name = model_id.rsplit("/", 1)[-1]
    name = name.split("anthropic.", 1)[-1]
    return name.split("-v", 1)[0] if "-v" in name else name


def _native_body(kind: str, model_id: str, text: str, usage: Dict[str, Any], plan: ResponsePlan) -> Dict[str, Any]:
    if kind == "anthropic":
        return _anthropic_message(model_id, text, usage, plan)
    if kind == "nova":
        return {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": "end_turn", "usage": usage}
    if kind == "meta":
        return {"generation": text, **usage, "stop_reason": "stop"}
    if kind == "embed":
        digest = hashlib.sha256(model_id.encode()).digest()
        return {"embedding": [round(b / 255.0 - 0.5, 6) for b in digest[:8]], **usage}
    if kind == "titan":
        result = {"tokenCount": usage.get("tokenCount", 0), "outputText": text, "completionReason": "FINISH"}
        return {"inputTextTokenCount": usage.get("inputTextTokenCount", 0), "results": [result]}
    if kind == "ai21":
        return _ai21_body(text, usage)
    if kind == "claude_text":
        return {"type": "completion", "completion": " " + text, "stop_reason": "stop_sequence", "stop": "\n\nHuman:"}
    if kind == "cohere":
        generation = {"finish_reason": "COMPLETE", "id": str(uuid.uuid4()), "text": " " + text}
        return {"generations": [generation], "id": str(uuid.uuid4()), "prompt": "..."}
    if kind == "imported":
        message = {"role": "assistant", "content": text}
        return {
            "id": "chatcmpl-" + uuid.uuid4().hex[:24], "object": "chat.completion", "created": int(time.time()), "model": model_id,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}], "usage": usage,
        }
    return {"outputs": [{"text": text, "stop_reason": "stop"}]}


def _ai21_tokens(count: int) -> List[Dict[str, Any]]:
    return [
        {"generatedToken": {"token": "\u2581w", "logprob": -0.2, "raw_logprob": -0.2}, "topTokens": None, "textRange": {"start": i, "end": i + 1}}
        for i in range(count)
    ]


def _ai21_body(text: str, usage: Dict[str, Any]) -> Dict[str, Any]:
    """Jurassic-2's body: token lists, and the finish reason under ``finishReason.reason``."""
    prompt, output = int(usage.get("inputTokenCount") or 0), int(usage.get("outputTokenCount") or 0)
    completion = {"data": {"text": text, "tokens": _ai21_tokens(output)}, "finishReason": {"reason": "endoftext"}}
    return {"id": 1234, "prompt": {"text": "...", "tokens": _ai21_tokens(prompt)}, "completions": [completion]}


def invoke(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    if plan.status != 200:
        return _error(plan)
    model_id = unquote(match["model"])
    body = request.json or {}
    kind = family(model_id, body)
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    usage = _native_usage(kind, body, text, plan)
    input_count, output_count = _counts(kind, usage)
    headers = {
        "x-amzn-RequestId": _request_id(),
        "X-Amzn-Bedrock-Invocation-Latency": "512",
        "X-Amzn-Bedrock-Input-Token-Count": str(input_count),
        "X-Amzn-Bedrock-Output-Token-Count": str(output_count),
        **plan.headers,
    }
    if plan.body is not None:
        return Reply(200, plan.body, headers)
    result = _native_body(kind, model_id, text, usage, plan)
    result.update({k: v for k, v in plan.extra.items() if k != "amazon-bedrock-invocationMetrics"})
    return Reply(200, result, headers)


def _chunk(payload: Dict[str, Any]) -> bytes:
    return eventstream.event("chunk", {"bytes": base64.b64encode(json.dumps(payload).encode()).decode(), "p": "abcd"})


def _metrics(usage: Dict[str, Any], kind: str) -> Dict[str, Any]:
    input_count, output_count = _counts(kind, usage)
    metrics = {"inputTokenCount": input_count, "outputTokenCount": output_count, "invocationLatency": 611, "firstByteLatency": 203}
    if kind == "anthropic":
        metrics["cacheReadInputTokenCount"] = int(usage.get("cache_read_input_tokens") or 0)
        metrics["cacheWriteInputTokenCount"] = int(usage.get("cache_creation_input_tokens") or 0)
    elif kind == "nova":
        metrics["cacheReadInputTokenCount"] = int(usage.get("cacheReadInputTokenCount") or 0)
        metrics["cacheWriteInputTokenCount"] = int(usage.get("cacheWriteInputTokenCount") or 0)
    return metrics


def _anthropic_events(model_id: str, pieces: List[str], usage: Dict[str, Any], plan: ResponsePlan) -> Iterator[Dict[str, Any]]:
    message = _anthropic_message(model_id, "", {**usage, "output_tokens": 1}, plan)
    message["content"] = []
    message["stop_reason"] = None
    yield {"type": "message_start", "message": message}
    yield {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    for piece in pieces:
        yield {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
    yield {"type": "content_block_stop", "index": 0}
    yield {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
           "usage": {"output_tokens": usage.get("output_tokens", 0)}}
    yield {"type": "message_stop"}


def _nova_events(pieces: List[str], usage: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    yield {"messageStart": {"role": "assistant"}}
    for piece in pieces:
        yield {"contentBlockDelta": {"delta": {"text": piece}, "contentBlockIndex": 0}}
    yield {"contentBlockStop": {"contentBlockIndex": 0}}
    yield {"messageStop": {"stopReason": "end_turn"}}
    yield {"metadata": {"usage": usage, "metrics": {}, "trace": {}}}


def _meta_events(pieces: List[str], usage: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        yield {
            "generation": piece,
            "prompt_token_count": usage.get("prompt_token_count") if index == 0 else None,
            "generation_token_count": usage.get("generation_token_count", 0) if last else index + 1,
            "stop_reason": "stop" if last else None,
        }


def _titan_events(pieces: List[str], usage: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        event: Dict[str, Any] = {"outputText": piece, "index": 0, "totalOutputTextTokenCount": usage.get("tokenCount", 0) if last else None,
                                 "completionReason": "FINISH" if last else None}
        if index == 0:
            event["inputTextTokenCount"] = usage.get("inputTextTokenCount", 0)
        yield event


def _claude_text_events(pieces: List[str]) -> Iterator[Dict[str, Any]]:
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        yield {"type": "completion", "completion": piece, "stop_reason": "stop_sequence" if last else None, "stop": "\n\nHuman:" if last else None}


def _cohere_events(pieces: List[str]) -> Iterator[Dict[str, Any]]:
    for piece in pieces:
        yield {"text": piece, "is_finished": False}
    yield {"is_finished": True, "finish_reason": "COMPLETE"}


def _imported_events(model_id: str, pieces: List[str]) -> Iterator[Dict[str, Any]]:
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        yield {"id": "chatcmpl-imp", "object": "chat.completion.chunk", "model": model_id,
               "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": "stop" if last else None}]}


def _mistral_events(pieces: List[str]) -> Iterator[Dict[str, Any]]:
    for index, piece in enumerate(pieces):
        yield {"outputs": [{"text": piece, "stop_reason": "stop" if index == len(pieces) - 1 else None}]}


def invoke_stream(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    if plan.status != 200:
        return _error(plan)
    model_id = unquote(match["model"])
    body = request.json or {}
    kind = family(model_id, body)
    headers = {"X-Amzn-Bedrock-Content-Type": "application/json"}
    if plan.events is not None:
        return _stream_reply(_custom_events(plan), plan, headers)
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    usage = _native_usage(kind, body, text, plan)
    pieces = _split(text, plan.chunks)
    if kind == "anthropic":
        payloads = list(_anthropic_events(model_id, pieces, usage, plan))
    elif kind == "nova":
        payloads = list(_nova_events(pieces, usage))
    elif kind == "meta":
        payloads = list(_meta_events(pieces, usage))
    elif kind == "titan":
        payloads = list(_titan_events(pieces, usage))
    elif kind == "claude_text":
        payloads = list(_claude_text_events(pieces))
    elif kind == "cohere":
        payloads = list(_cohere_events(pieces))
    elif kind == "imported":
        payloads = list(_imported_events(model_id, pieces))
    else:
        payloads = list(_mistral_events(pieces))
    if not plan.omit_usage:
        metrics = plan.extra.get("amazon-bedrock-invocationMetrics") or _metrics(usage, kind)
        payloads[-1] = {**payloads[-1], "amazon-bedrock-invocationMetrics": metrics}
    elif kind == "nova":
        payloads = payloads[:-1]
    failure = _stream_error(plan)

    def events() -> Iterator[bytes]:
        for index, payload in enumerate(payloads):
            yield _chunk(payload)
            if failure and index == 1:
                yield eventstream.exception(*failure)
                return

    return _stream_reply(events(), plan, headers)
