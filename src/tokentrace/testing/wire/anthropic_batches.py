"""Anthropic's Message Batches API: ``POST /v1/messages/batches``, ``GET /v1/messages/batches/{id}``
and the JSONL ``results_url`` (``GET /v1/messages/batches/{id}/results``).

Bodies follow the API reference and the ``anthropic`` SDK types (``MessageBatch`` with
``processing_status``, ``request_counts``, ``results_url``; result lines ``{"custom_id", "result":
{"type": "succeeded", "message": {...}}}`` or ``{"type": "errored", "error": {...}}``). The local
server ends a batch at once, answering each request with the same Message its ``/v1/messages``
route gives, with ``usage.service_tier = "batch"``. ``ResponsePlan.usage`` of the create call
applies to every request; a ``custom_id`` starting with ``fail`` is errored.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict

from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan
from . import anthropic as anthropic_wire


def register(server: ProviderServer) -> None:
    server._anthropic_batches = {}  # type: ignore[attr-defined]
    server.route("POST", r"/v1/messages/batches", create)
    server.route("GET", r"/v1/messages/batches/(?P<batch_id>[^/]+)/results", results)
    server.route("GET", r"/v1/messages/batches/(?P<batch_id>[^/]+)", retrieve)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _result(server: ProviderServer, item: Dict[str, Any], plan: ResponsePlan) -> Dict[str, Any]:
    custom_id = str(item.get("custom_id") or "")
    if custom_id.startswith("fail"):
        error = {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"}}
        return {"custom_id": custom_id, "result": {"type": "errored", "error": error}}
    params = dict(item.get("params") or {})
    params.pop("stream", None)
    inner = ReceivedRequest("POST", "/v1/messages", {}, {}, json.dumps(params).encode())
    reply = anthropic_wire.messages(server, inner, {}, ResponsePlan(usage=plan.usage, text=plan.text, model=plan.model))
    message = dict(reply.body)
    if isinstance(message.get("usage"), dict):
        message["usage"] = {**message["usage"], "service_tier": "batch"}
    return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}


def create(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    body = request.json or {}
    if plan.status != 200:
        return Reply(plan.status, {"type": "error", "error": {"type": "rate_limit_error", "message": "Number of batch requests exceeds your rate limit."}})
    lines = [_result(server, item, plan) for item in body.get("requests") or []]
    batch_id = "msgbatch_" + uuid.uuid4().hex[:24]
    now = datetime.now(timezone.utc)
    errored = sum(1 for line in lines if line["result"]["type"] != "succeeded")
    common = {"id": batch_id, "type": "message_batch", "archived_at": None, "cancel_initiated_at": None, "created_at": _iso(now),
              "expires_at": _iso(now + timedelta(hours=24))}
    server._anthropic_batches[batch_id] = {  # type: ignore[attr-defined]
        "batch": {**common, "processing_status": "ended", "ended_at": _iso(now),
                  "request_counts": {"processing": 0, "succeeded": len(lines) - errored, "errored": errored, "canceled": 0, "expired": 0},
                  "results_url": f"{server.url}/v1/messages/batches/{batch_id}/results"},
        "results": ("\n".join(json.dumps(line) for line in lines) + "\n").encode(),
    }
    return Reply(200, {**common, "processing_status": "in_progress", "ended_at": None, "results_url": None,
                       "request_counts": {"processing": len(lines), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}})


def _missing(batch_id: str) -> Reply:
    return Reply(404, {"type": "error", "error": {"type": "not_found_error", "message": f"Message batch {batch_id} not found."}})


def retrieve(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    found = server._anthropic_batches.get(match["batch_id"])  # type: ignore[attr-defined]
    return Reply(200, found["batch"]) if found else _missing(match["batch_id"])


def results(server: ProviderServer, request: ReceivedRequest, match: Dict[str, str], plan: ResponsePlan) -> Reply:
    found = server._anthropic_batches.get(match["batch_id"])  # type: ignore[attr-defined]
    return Reply(200, found["results"], content_type="application/binary") if found else _missing(match["batch_id"])
