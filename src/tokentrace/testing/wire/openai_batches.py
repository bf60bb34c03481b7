"""OpenAI's Files and Batch API, enough for a batch's whole life: upload the input JSONL
(``POST /v1/files``, multipart, ``purpose=batch``), ``POST /v1/batches``, ``GET /v1/batches/{id}``
and ``GET /v1/files/{id}/content`` for the output file.

Bodies follow the API reference and the ``openai`` SDK types (``FileObject``, ``Batch`` with
``request_counts``, output lines ``{"id": "batch_req_...", "custom_id", "response": {"status_code",
"request_id", "body"}, "error"}``). The local server finishes a batch at once: it answers every
input line when the batch is created, with the same bodies its chat completions, responses and
embeddings routes give (``ResponsePlan.usage`` of the ``batches.create`` call applies to every
line; a line whose ``custom_id`` starts with ``fail`` gets a 400 instead, as a real batch can).
"""

from __future__ import annotations

import json
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Dict, List

from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan
from . import openai as openai_wire


def register(server: ProviderServer) -> None:
    server._openai_batch_files = {}  # type: ignore[attr-defined]
    server._openai_batches = {}  # type: ignore[attr-defined]
    server.route("POST", r"/v1/files", upload)
    server.route("GET", r"/v1/files/(?P<file_id>[^/]+)/content", content)
    server.route("POST", r"/v1/batches", create_batch)
    server.route("GET", r"/v1/batches/(?P<batch_id>[^/]+)", retrieve_batch)


def _file_object(file_id: str, name: str, size: int, purpose: str) -> Dict[str, Any]:
    return {"id": file_id, "object": "file", "bytes": size, "created_at": int(time.time()), "filename": name, "purpose": purpose,
            "status": "processed", "status_details": None}


def upload(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + request.headers.get("content-type", "").encode() + b"\r\n\r\n" + request.body)
    data, name, purpose = b"", "input.jsonl", "batch"
    for part in message.iter_parts():
        field_name = part.get_param("name", header="content-disposition")
        if field_name == "file":
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            name = part.get_filename() or name
        elif field_name == "purpose":
            payload = part.get_payload(decode=True)
            purpose = payload.decode() if isinstance(payload, bytes) else "batch"
    file_id = "file-" + uuid.uuid4().hex[:22]
    server._openai_batch_files[file_id] = data  # type: ignore[attr-defined]
    return Reply(200, _file_object(file_id, name, len(data), purpose))


def content(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    data = server._openai_batch_files.get(match["file_id"])  # type: ignore[attr-defined]
    if data is None:
        return Reply(404, {"error": {"message": f"No such File object: {match['file_id']}", "type": "invalid_request_error", "param": "id", "code": None}})
    return Reply(200, data, content_type="application/octet-stream")


def _answer(server: ProviderServer, line: Dict[str, Any], plan: ResponsePlan) -> Dict[str, Any]:
    """One output line: the route's own answer to the line's request."""
    url = str(line.get("url") or "/v1/chat/completions")
    custom_id = str(line.get("custom_id") or "")
    request_id = "req_" + uuid.uuid4().hex
    if custom_id.startswith("fail"):
        error = {"error": {"message": "Invalid value for 'model'.", "type": "invalid_request_error", "param": "model", "code": None}}
        return {"id": "batch_req_" + uuid.uuid4().hex[:24], "custom_id": custom_id,
                "response": {"status_code": 400, "request_id": request_id, "body": error}, "error": None}
    handler = openai_wire.embeddings if url.endswith("/embeddings") else openai_wire.responses if url.endswith("/responses") else openai_wire.chat_completions
    body = dict(line.get("body") or {})
    body.pop("stream", None)
    inner = ReceivedRequest("POST", url, {}, {}, json.dumps(body).encode())
    reply = handler(server, inner, {}, ResponsePlan(usage=plan.usage, text=plan.text, model=plan.model))
    return {"id": "batch_req_" + uuid.uuid4().hex[:24], "custom_id": custom_id,
            "response": {"status_code": reply.status, "request_id": request_id, "body": reply.body}, "error": None}


def create_batch(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    body = request.json or {}
    if plan.error is not None:
        return Reply(plan.status, {"error": plan.error}, dict(plan.headers))
    if plan.status != 200:
        return Reply(plan.status, {"error": {"message": "Rate limit reached for batch creation.", "type": "requests", "param": None,
                                             "code": "rate_limit_exceeded"}}, dict(plan.headers))
    data = server._openai_batch_files.get(str(body.get("input_file_id")))  # type: ignore[attr-defined]
    if data is None:
        return Reply(400, {"error": {"message": "Invalid 'input_file_id'.", "type": "invalid_request_error", "param": "input_file_id", "code": None}})
    lines: List[Dict[str, Any]] = [json.loads(raw) for raw in data.decode().splitlines() if raw.strip()]
    outputs = [_answer(server, line, plan) for line in lines]
    output_id = "file-" + uuid.uuid4().hex[:22]
    server._openai_batch_files[output_id] = ("\n".join(json.dumps(o) for o in outputs) + "\n").encode()  # type: ignore[attr-defined]
    failed = sum(1 for o in outputs if o["response"]["status_code"] != 200)
    now = int(time.time())
    batch = {
        "id": "batch_" + uuid.uuid4().hex[:24], "object": "batch", "endpoint": body.get("endpoint"), "errors": None,
        "input_file_id": body.get("input_file_id"), "completion_window": body.get("completion_window", "24h"),
        "status": "validating", "output_file_id": None, "error_file_id": None, "created_at": now, "in_progress_at": None,
        "expires_at": now + 86400, "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None,
        "cancelling_at": None, "cancelled_at": None, "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": body.get("metadata"),
    }
    done = {**batch, "status": "completed", "output_file_id": output_id, "in_progress_at": now, "finalizing_at": now, "completed_at": now,
            "request_counts": {"total": len(outputs), "completed": len(outputs) - failed, "failed": failed}}
    server._openai_batches[batch["id"]] = done  # type: ignore[attr-defined]
    return Reply(200, batch)


def retrieve_batch(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    batch = server._openai_batches.get(match["batch_id"])  # type: ignore[attr-defined]
    if batch is None:
        return Reply(404, {"error": {"message": f"No batch found with id '{match['batch_id']}'.", "type": "invalid_request_error", "param": None, "code": None}})
    return Reply(200, batch)
