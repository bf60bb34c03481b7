"""Google's Gemini wire format, as the Gemini API and Vertex AI serve it.

Gemini API: ``POST /{version}/models/{model}:generateContent``, ``:streamGenerateContent?alt=sse``
(without ``alt=sse``, as the Vertex AI SDK's REST transport asks, one streamed JSON array),
``:batchEmbedContents``, ``:embedContent``, ``:countTokens``. Vertex AI: the same methods under
``/{version}/projects/{project}/locations/{location}/publishers/google/models/{model}``, plus
``:predict`` for the older embedding models. Bodies follow the REST reference and the
``google-genai`` SDK types: ``candidates``, ``usageMetadata`` (``promptTokenCount``,
``cachedContentTokenCount``, ``candidatesTokenCount``, ``thoughtsTokenCount``,
``toolUsePromptTokenCount``, ``totalTokenCount``), ``modelVersion`` and ``responseId``; Vertex
adds ``createTime`` and ``trafficType``. Streams carry ``usageMetadata`` on every chunk and the
complete counts on the last. Errors are ``{"error": {"code", "message", "status"}}``.

``ResponsePlan.usage`` is sent verbatim as ``usageMetadata``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional

from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan, StreamReply, count_text_tokens

DEFAULT_TEXT = "Your order shipped on Tuesday and should arrive by Friday."

_STATUSES = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    403: ("PERMISSION_DENIED", "Permission denied on resource project test-project."),
    404: ("NOT_FOUND", "models/{model} is not found for API version v1beta, or is not supported for generateContent."),
    429: ("RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details."),
    500: ("INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
}

_PREFIX = r"/(?P<version>v1|v1beta|v1alpha|v1beta1)/(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/[^/]+/)?(?:models|tunedModels)/(?P<model>[^/:]+)"


def register(server: ProviderServer) -> None:
    server.route("POST", _PREFIX + r":generateContent", generate_content)
    server.route("POST", _PREFIX + r":streamGenerateContent", stream_generate_content)
    server.route("POST", _PREFIX + r":(?P<method>batchEmbedContents|embedContent|predict)", embed)
    server.route("POST", _PREFIX + r":countTokens", count_tokens)


def _error(plan: ResponsePlan, model: str) -> Reply:
    status, text = _STATUSES.get(plan.status, ("UNKNOWN", "Unknown error."))
    error = {"code": plan.status, "message": text.format(model=model), "status": status}
    error.update(plan.error or {})
    return Reply(plan.status, {"error": error}, dict(plan.headers))


def _texts(value: Any) -> List[str]:
    found: List[str] = []
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            found.append(value["text"])
        for key in ("parts", "content"):
            if key in value:
                found.extend(_texts(value[key]))
    elif isinstance(value, list):
        for item in value:
            found.extend(_texts(item))
    return found


def _prompt_tokens(body: Dict[str, Any]) -> int:
    text = " ".join(_texts(body.get("contents")) + _texts(body.get("systemInstruction")))
    return count_text_tokens(text)


def _split(text: str, parts: int) -> List[str]:
    size = max(1, -(-len(text) // max(1, parts)))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _response_id(seed: str) -> str:
    digest = hashlib.sha1(f"{seed}{time.time_ns()}".encode()).digest()[:15]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _usage(body: Dict[str, Any], text: str, plan: ResponsePlan, vertex: bool, final: bool = True) -> Dict[str, Any]:
    if plan.usage is not None:
        return plan.usage
    prompt = _prompt_tokens(body)
    usage: Dict[str, Any] = {"promptTokenCount": prompt, "totalTokenCount": prompt,
                             "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
    if final:
        output = count_text_tokens(text)
        usage.update(candidatesTokenCount=output, totalTokenCount=prompt + output)
        if vertex:
            usage["candidatesTokensDetails"] = [{"modality": "TEXT", "tokenCount": output}]
    if vertex:
        usage["trafficType"] = "ON_DEMAND"
    return usage


def _response(model: str, text: str, finish: Optional[str], usage: Optional[Dict[str, Any]], response_id: str,
              vertex: bool, plan: ResponsePlan) -> Dict[str, Any]:
    candidate: Dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        candidate["finishReason"] = finish
        candidate["index"] = 0
    result: Dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        result["usageMetadata"] = usage
    result["modelVersion"] = model
    if vertex:
        result["createTime"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    result["responseId"] = response_id
    result.update(plan.extra)
    return result


def generate_content(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    requested = match["model"]
    if plan.status != 200:
        return _error(plan, requested)
    if plan.body is not None:
        return Reply(200, plan.body, dict(plan.headers))
    body = request.json or {}
    vertex = bool(match.get("project"))
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    model = server.answering_model(requested, plan)
    result = _response(model, text, "STOP", _usage(body, text, plan, vertex), _response_id(requested), vertex, plan)
    return Reply(200, result, dict(plan.headers))


def stream_generate_content(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Any:
    requested = match["model"]
    if plan.status != 200:
        return _error(plan, requested)
    body = request.json or {}
    vertex = bool(match.get("project"))
    text = plan.text if plan.text is not None else DEFAULT_TEXT
    model = server.answering_model(requested, plan)
    response_id = _response_id(requested)

    def payloads() -> Iterator[str]:
        if plan.events is not None:
            for item in plan.events:
                yield item if isinstance(item, str) else item[1]
            return
        pieces = _split(text, plan.chunks)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            usage = None if plan.omit_usage else _usage(body, text, plan, vertex, final=last or plan.usage is not None)
            yield json.dumps(_response(model, piece, "STOP" if last else None, usage, response_id, vertex, plan))

    def sse() -> Iterator[bytes]:
        for payload in payloads():
            yield f"data: {payload}\r\n\r\n".encode()

    def json_array() -> Iterator[bytes]:
        # Without ``alt=sse`` (the gapic REST transport of google-cloud-aiplatform) the method
        # streams one JSON array, each element a GenerateContentResponse.
        separator = "["
        for payload in payloads():
            yield f"{separator}{payload}".encode()
            separator = ",\r\n"
        yield b"[]" if separator == "[" else b"]"

    if "sse" in request.query.get("alt", []):
        return StreamReply(sse(), headers=dict(plan.headers), truncate_after=plan.truncate_after, chunk_delay_s=plan.chunk_delay_s)
    return StreamReply(json_array(), headers=dict(plan.headers), content_type="application/json; charset=UTF-8",
                       truncate_after=plan.truncate_after, chunk_delay_s=plan.chunk_delay_s)


def count_tokens(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    """``countTokens``: not billed; ``totalTokens`` (and, on Vertex, ``totalBillableCharacters``)."""
    if plan.status != 200:
        return _error(plan, match["model"])
    if plan.body is not None:
        return Reply(200, plan.body, dict(plan.headers))
    body = request.json or {}
    result: Dict[str, Any] = {"totalTokens": _prompt_tokens(body)}
    if match.get("project"):
        result["totalBillableCharacters"] = len("".join(_texts(body.get("contents"))))
    return Reply(200, result, dict(plan.headers))


def _vector(item: str, dimensions: int) -> List[float]:
    digest = hashlib.sha256(item.encode()).digest()
    return [round((digest[i % len(digest)] / 255.0) - 0.5, 6) for i in range(dimensions)]


def embed(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    requested = match["model"]
    if plan.status != 200:
        return _error(plan, requested)
    if plan.body is not None:
        return Reply(200, plan.body, dict(plan.headers))
    body = request.json or {}
    method = match["method"]
    if method == "batchEmbedContents":
        items = [" ".join(_texts(r.get("content"))) for r in body.get("requests") or []]
        dims = [(r.get("outputDimensionality") or 8) for r in body.get("requests") or []] or [8]
    elif method == "embedContent":
        items = [" ".join(_texts(body.get("content")))]
        dims = [body.get("outputDimensionality") or (body.get("embedContentConfig") or {}).get("outputDimensionality") or 8]
    else:  # Vertex :predict (text-embedding-005 and older)
        items = [str(i.get("content", "")) for i in body.get("instances") or []]
        dims = [(body.get("parameters") or {}).get("outputDimensionality") or 8]
        predictions = [{"embeddings": {"values": _vector(item, int(dims[0])),
                                       "statistics": {"token_count": count_text_tokens(item), "truncated": False}}} for item in items]
        return Reply(200, {"predictions": predictions, "metadata": {"billableCharacterCount": sum(len(i) for i in items)}})
    tokens = sum(count_text_tokens(item) for item in items)
    usage = plan.usage or {"promptTokenCount": tokens, "totalTokenCount": tokens}
    if method == "embedContent":
        return Reply(200, {"embedding": {"values": _vector(items[0], int(dims[0]))}, "usageMetadata": usage})
    embeddings = [{"values": _vector(item, int(dims[min(i, len(dims) - 1)]))} for i, item in enumerate(items)]
    return Reply(200, {"embeddings": embeddings, "usageMetadata": usage})
