"""Canned provider responses served through ``httpx2.MockTransport``: real SDKs, no sockets.

The bodies follow the OpenAI and Anthropic API references (the same shapes the SDKs' types
define), encoded once up front so the transport adds the same small, constant cost to every
variant. The OpenAI stream carries the usage-only chunk only when the request asks for it with
``stream_options.include_usage`` (tokentrace asks; the uninstrumented app and the floor do not),
exactly as the real API behaves.
"""

from __future__ import annotations

import json
from typing import Callable, Dict, List

import httpx2

OPENAI_MODEL = "gpt-4o-mini"
OPENAI_SNAPSHOT = "gpt-4o-mini-2024-07-18"
ANTHROPIC_MODEL = "claude-sonnet-4-5"
ANTHROPIC_SNAPSHOT = "claude-sonnet-4-5-20250929"


def _sse(data: str, event: str = "") -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n".encode()


def openai_chat_body() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
            "object": "chat.completion",
            "created": 1741570283,
            "model": OPENAI_SNAPSHOT,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Paris is the capital of France.", "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 1117,
                "completion_tokens": 46,
                "total_tokens": 1163,
                "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
            },
            "service_tier": "default",
            "system_fingerprint": "fp_06737a9306",
        }
    ).encode()


def openai_chat_stream(chunks: int, include_usage: bool) -> bytes:
    base = {"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion.chunk", "created": 1741570283, "model": OPENAI_SNAPSHOT, "service_tier": "default", "system_fingerprint": "fp_06737a9306"}
    extra = {"usage": None} if include_usage else {}
    out: List[bytes] = [_sse(json.dumps({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": None}, "logprobs": None, "finish_reason": None}], **extra}))]
    for i in range(chunks):
        out.append(_sse(json.dumps({**base, "choices": [{"index": 0, "delta": {"content": f" w{i}"}, "logprobs": None, "finish_reason": None}], **extra})))
    out.append(_sse(json.dumps({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}], **extra})))
    if include_usage:
        usage = {"prompt_tokens": 1117, "completion_tokens": chunks, "total_tokens": 1117 + chunks, "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
        out.append(_sse(json.dumps({**base, "choices": [], "usage": usage})))
    out.append(_sse("[DONE]"))
    return b"".join(out)


def anthropic_message_body() -> bytes:
    return json.dumps(
        {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": ANTHROPIC_SNAPSHOT,
            "content": [{"type": "text", "text": "Paris is the capital of France."}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 2095,
                "output_tokens": 503,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 1800,
                "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                "service_tier": "standard",
            },
        }
    ).encode()


def anthropic_stream(chunks: int) -> bytes:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "content": [], "model": ANTHROPIC_SNAPSHOT,
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 2095, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "service_tier": "standard"},
        },
    }
    out = [_sse(json.dumps(start), "message_start"), _sse(json.dumps({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}), "content_block_start"), _sse('{"type": "ping"}', "ping")]
    for i in range(chunks):
        out.append(_sse(json.dumps({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f" w{i}"}}), "content_block_delta"))
    out.append(_sse('{"type": "content_block_stop", "index": 0}', "content_block_stop"))
    out.append(_sse(json.dumps({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": chunks}}), "message_delta"))
    out.append(_sse('{"type": "message_stop"}', "message_stop"))
    return b"".join(out)


def openai_transport(stream_chunks: int = 0) -> httpx2.MockTransport:
    """Chat completions: JSON, or an SSE stream of ``stream_chunks`` content chunks."""
    body = openai_chat_body()
    plain, with_usage = openai_chat_stream(stream_chunks, False), openai_chat_stream(stream_chunks, True)
    json_headers = {"content-type": "application/json", "x-request-id": "req_bench"}
    sse_headers = {"content-type": "text/event-stream", "x-request-id": "req_bench"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        content = request.content
        if b'"stream":true' in content or b'"stream": true' in content:
            usage = b'"include_usage":true' in content or b'"include_usage": true' in content
            return httpx2.Response(200, headers=sse_headers, content=with_usage if usage else plain)
        return httpx2.Response(200, headers=json_headers, content=body)

    return httpx2.MockTransport(handler)


def anthropic_transport(stream_chunks: int = 0) -> httpx2.MockTransport:
    body, streamed = anthropic_message_body(), anthropic_stream(stream_chunks)
    json_headers = {"content-type": "application/json", "request-id": "req_bench"}
    sse_headers = {"content-type": "text/event-stream", "request-id": "req_bench"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        content = request.content
        if b'"stream":true' in content or b'"stream": true' in content:
            return httpx2.Response(200, headers=sse_headers, content=streamed)
        return httpx2.Response(200, headers=json_headers, content=body)

    return httpx2.MockTransport(handler)


TRANSPORTS: Dict[str, Callable[[int], httpx2.MockTransport]] = {"openai": openai_transport, "anthropic": anthropic_transport}
