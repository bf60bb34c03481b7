"""Anthropic's Admin usage and cost reports, served from the server's bill (``testing/billing.py``).

Shapes follow the Admin API reference: ``GET /v1/organizations/usage_report/messages`` with
``starting_at`` / ``ending_at`` (RFC 3339), ``bucket_width`` (``1d`` / ``1h`` / ``1m``),
``group_by[]`` (``api_key_id``, ``workspace_id``, ``model``, ``service_tier``,
``context_window``), filters, ``limit`` and ``page``; each result has
``uncached_input_tokens``, ``cache_read_input_tokens``, ``cache_creation`` (5 m / 1 h),
``output_tokens`` and ``server_tool_use``. ``GET /v1/organizations/cost_report`` has daily
buckets and ``group_by[]`` ⊂ {``workspace_id``, ``description``}; ``amount`` is a *decimal
string in cents*, and priority-tier cost is left out as the docs say. An admin key is required
(``x-api-key: sk-ant-admin…``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from ..billing import BilledCall, billing_for
from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan
from .admin_common import LIMITS, BadRequest, buckets, filtered, group, one

USAGE_GROUPS = ("api_key_id", "workspace_id", "model", "service_tier", "context_window", "inference_geo")
COST_GROUPS = ("workspace_id", "description")
USAGE_FILTERS = (("model", "models"), ("workspace_id", "workspace_ids"), ("api_key_id", "api_key_ids"), ("service_tier", "service_tiers"))
GROUP_ERROR = "group_by: invalid value(s) {names}"
COST_TOKEN_TYPES = (
    ("input", "uncached_input_tokens", "Input Tokens"),
    ("cache_read", "cache_read_input_tokens", "Cache Read Input Tokens"),
    ("cache_write_5m", "cache_creation.ephemeral_5m_input_tokens", "5m Cache Write Input Tokens"),
    ("cache_write_1h", "cache_creation.ephemeral_1h_input_tokens", "1h Cache Write Input Tokens"),
    ("output", "output_tokens", "Output Tokens"),
)


def register(server: ProviderServer) -> None:
    server.route("GET", r"/v1/organizations/usage_report/messages", usage_report)
    server.route("GET", r"/v1/organizations/cost_report", cost_report)


def _error(status: int, kind: str, message: str) -> Reply:
    return Reply(status, {"type": "error", "error": {"type": kind, "message": message}})


def _authorized(server: ProviderServer, request: ReceivedRequest) -> Optional[Reply]:
    key = request.headers.get("x-api-key", "")
    if key and key == billing_for(server).admin_keys.get("anthropic"):
        return None
    return _error(401, "authentication_error", "invalid x-api-key")


def _rfc3339(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: Optional[str], name: str) -> int:
    if text is None:
        raise BadRequest(f"{name}: Field required")
    try:
        return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        raise BadRequest(f"{name}: Input should be a valid datetime (RFC 3339)") from None


def _window(server: ProviderServer, request: ReceivedRequest) -> tuple:
    start = _epoch(one(request.query, "starting_at"), "starting_at")
    ending = one(request.query, "ending_at")
    end = _epoch(ending, "ending_at") if ending else int(dt.datetime.now(dt.timezone.utc).timestamp())
    calls = [c for c in billing_for(server).calls if c.provider == "anthropic" and start <= c.at < end]
    return start, end, calls


def _field(call: BilledCall, name: str) -> Any:
    return {"context_window": "0-200k", "inference_geo": "not_available", "description": call.model}.get(name, getattr(call, name, None))


def usage_report(server: ProviderServer, request: ReceivedRequest, params: Dict[str, str], plan: ResponsePlan) -> Reply:
    denied = _authorized(server, request)
    if denied:
        return denied
    try:
        start, end, calls = _window(server, request)
        query = buckets(request.query, start, end, USAGE_GROUPS, LIMITS, "bucket_width: Input should be '1d', '1h' or '1m'", GROUP_ERROR)
    except BadRequest as exc:
        return _error(400, "invalid_request_error", str(exc))
    calls = filtered(calls, request.query, USAGE_FILTERS)
    data = []
    for bucket_start in query.starts:
        results = []
        for key, members in group(query.inside(calls, bucket_start), query.group_by, _field).items():
            result: Dict[str, Any] = {
                "uncached_input_tokens": sum(c.tokens.get("input", 0) for c in members),
                "cache_read_input_tokens": sum(c.tokens.get("cache_read", 0) for c in members),
                "cache_creation": {
                    "ephemeral_5m_input_tokens": sum(c.tokens.get("cache_write_5m", 0) for c in members),
                    "ephemeral_1h_input_tokens": sum(c.tokens.get("cache_write_1h", 0) for c in members),
                },
                "output_tokens": sum(c.tokens.get("output", 0) for c in members),
                "server_tool_use": {"web_search_requests": 0},
            }
            result.update(query.fields(key, USAGE_GROUPS))
            results.append(result)
        data.append(_bucket(bucket_start, query.width, results))
    return _page(data, query.next_page)


def _bucket(start: int, width: int, results: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"starting_at": _rfc3339(start), "ending_at": _rfc3339(start + width), "results": results}


def _page(data: List[Dict[str, Any]], next_page: Optional[str]) -> Reply:
    return Reply(200, {"data": data, "has_more": next_page is not None, "next_page": next_page})


def cost_report(server: ProviderServer, request: ReceivedRequest, params: Dict[str, str], plan: ResponsePlan) -> Reply:
    denied = _authorized(server, request)
    if denied:
        return denied
    try:
        start, end, calls = _window(server, request)
        query = buckets(request.query, start, end, COST_GROUPS, {"1d": (7, 31)}, "bucket_width: Input should be '1d'", GROUP_ERROR)
    except BadRequest as exc:
        return _error(400, "invalid_request_error", str(exc))
    billing = billing_for(server)
    by_description = "description" in query.group_by
    data = []
    for bucket_start in query.starts:
        amounts: Dict[tuple, Decimal] = {}
        for call in (c for c in query.inside(calls, bucket_start) if c.service_tier != "priority"):
            for token_type, name, label in COST_TOKEN_TYPES:
                tokens = call.tokens.get(token_type, 0)
                rate = billing.rate("anthropic", call.model, token_type, call.at) if tokens else None
                if rate is None:
                    continue
                key: Tuple[Any, ...] = (call.workspace_id if "workspace_id" in query.group_by else None,) + ((call.model, name, call.service_tier, label) if by_description else ())
                amounts[key] = amounts.get(key, Decimal(0)) + Decimal(repr(tokens * rate / 1_000_000)) * 100
        results = []
        for key, cents in amounts.items():
            result: Dict[str, Any] = {
                "currency": "USD",
                "amount": format(cents.quantize(Decimal("0.000000001")).normalize(), "f"),
                "workspace_id": key[0],
                "description": None,
                "cost_type": None,
                "context_window": None,
                "model": None,
                "service_tier": None,
                "token_type": None,
                "inference_geo": None,
            }
            if by_description:
                model, token_name, tier, label = key[1:]
                result.update(
                    description=f"{_display(model)} Usage - {label}",
                    cost_type="tokens",
                    context_window="0-200k",
                    model=model,
                    service_tier=tier,
                    token_type=token_name,
                    inference_geo="not_available",
                )
            results.append(result)
        data.append(_bucket(bucket_start, query.width, results))
    return _page(data, query.next_page)


def _display(model: str) -> str:
    return " ".join(part.capitalize() for part in model.split("-") if not part.isdigit() or len(part) < 8)
