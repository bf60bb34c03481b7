"""OpenAI's organization Usage and Costs APIs, served from the server's bill (``testing/billing.py``).

Shapes follow the API reference: ``GET /v1/organization/usage/{completions,embeddings}`` with
``start_time`` (required), ``end_time``, ``bucket_width`` (``1m`` / ``1h`` / ``1d``),
``group_by[]`` (``project_id``, ``user_id``, ``api_key_id``, ``model``, ``batch``,
``service_tier``), filters, ``limit`` and ``page``; pages of ``bucket`` objects whose results
are ``organization.usage.completions.result`` (group fields ``null`` unless grouped;
``input_tokens`` includes cached and cache-write tokens). ``GET /v1/organization/costs`` has
daily buckets only, ``group_by[]`` ⊂ {``project_id``, ``line_item``, ``api_key_id``} and results
``organization.costs.result`` with ``amount: {value, currency: "usd"}``. An admin key is
required (``Authorization: Bearer``); anything else gets the API's 401.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from ..billing import BilledCall, billing_for
from ..server import ProviderServer, ReceivedRequest, Reply, ResponsePlan
from .admin_common import LIMITS, BadRequest, buckets, filtered, group, one

USAGE_GROUPS = ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier")
COST_GROUPS = ("project_id", "line_item", "api_key_id")
#: Token type -> the meter words of a Costs API line item.
LINE_ITEMS = (("input", "input"), ("cache_read", "cached input"), ("cache_write_5m", "cache write input"), ("output", "output"))
USAGE_FILTERS = (("model", "models"), ("project_id", "project_ids"), ("api_key_id", "api_key_ids"))
USAGE_WIDTH_ERROR = "Invalid bucket_width {width!r}: expected one of 1m, 1h, 1d."
COST_WIDTH_ERROR = "Invalid bucket_width: the costs endpoint supports only 1d."
GROUP_ERROR = "Invalid group_by value(s): {names}."


def register(server: ProviderServer) -> None:
    server.route("GET", r"/v1/organization/usage/(?P<kind>completions|embeddings)", usage)
    server.route("GET", r"/v1/organization/costs", costs)


def _error(status: int, message: str, code: Optional[str], kind: str = "invalid_request_error") -> Reply:
    return Reply(status, {"error": {"message": message, "type": kind, "param": None, "code": code}})


def _authorized(server: ProviderServer, request: ReceivedRequest) -> Optional[Reply]:
    key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if key and key == billing_for(server).admin_keys.get("openai"):
        return None
    masked = key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 7 else "****"
    return _error(401, f"Incorrect API key provided: {masked}. You need an admin key for the organization endpoints.", "invalid_api_key")


def _window(request: ReceivedRequest) -> tuple:
    start_text = one(request.query, "start_time")
    if start_text is None:
        raise BadRequest("Missing required parameter: 'start_time'.")
    try:
        start = int(start_text)
        end = int(one(request.query, "end_time") or time.time())
    except ValueError:
        raise BadRequest("start_time and end_time must be Unix timestamps in seconds.") from None
    return start, end


def _calls(server: ProviderServer, kind: str, start: int, end: int) -> List[BilledCall]:
    return [c for c in billing_for(server).calls if c.provider == "openai" and c.endpoint == kind and start <= c.at < end]


def usage(server: ProviderServer, request: ReceivedRequest, params: Dict[str, str], plan: ResponsePlan) -> Reply:
    denied = _authorized(server, request)
    if denied:
        return denied
    try:
        start, end = _window(request)
        query = buckets(request.query, start, end, USAGE_GROUPS, LIMITS, USAGE_WIDTH_ERROR, GROUP_ERROR)
    except BadRequest as exc:
        return _error(400, str(exc), "invalid_request")
    calls = filtered(_calls(server, params["kind"], start, end), request.query, USAGE_FILTERS)
    object_name = f"organization.usage.{params['kind']}.result"
    data = []
    for bucket_start in query.starts:
        results = []
        for key, members in group(query.inside(calls, bucket_start), query.group_by, _usage_field).items():
            results.append({"object": object_name, **_usage_sums(members, params["kind"]), **query.fields(key, USAGE_GROUPS)})
        data.append(_bucket(bucket_start, query.width, results))
    return _page(data, query.next_page)


def _bucket(start: int, width: int, results: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"object": "bucket", "start_time": start, "end_time": start + width, "results": results}


def _page(data: List[Dict[str, Any]], next_page: Optional[str]) -> Reply:
    return Reply(200, {"object": "page", "data": data, "has_more": next_page is not None, "next_page": next_page})


def _usage_field(call: BilledCall, name: str) -> Any:
    return {"user_id": None, "batch": call.batch}.get(name, getattr(call, name, None))


def _usage_sums(calls: List[BilledCall], kind: str) -> Dict[str, Any]:
    plain = sum(c.tokens.get("input", 0) for c in calls)
    cached = sum(c.tokens.get("cache_read", 0) for c in calls)
    writes = sum(c.tokens.get("cache_write_5m", 0) + c.tokens.get("cache_write_1h", 0) for c in calls)
    output = sum(c.tokens.get("output", 0) for c in calls)
    if kind == "embeddings":
        return {"input_tokens": plain + cached + writes, "num_model_requests": len(calls)}
    return {
        "input_tokens": plain + cached + writes,
        "input_cached_tokens": cached,
        "input_cache_write_tokens": writes,
        "input_uncached_tokens": plain,
        "output_tokens": output,
        "input_text_tokens": plain + cached + writes,
        "output_text_tokens": output,
        "input_cached_text_tokens": cached,
        "input_audio_tokens": 0,
        "input_cached_audio_tokens": 0,
        "output_audio_tokens": 0,
        "input_image_tokens": 0,
        "input_cached_image_tokens": 0,
        "output_image_tokens": 0,
        "num_model_requests": len(calls),
    }


def costs(server: ProviderServer, request: ReceivedRequest, params: Dict[str, str], plan: ResponsePlan) -> Reply:
    denied = _authorized(server, request)
    if denied:
        return denied
    try:
        start, end = _window(request)
        query = buckets(request.query, start, end, COST_GROUPS, {"1d": (7, 180)}, COST_WIDTH_ERROR, GROUP_ERROR)
    except BadRequest as exc:
        return _error(400, str(exc), "invalid_request")
    billing = billing_for(server)
    calls = [c for kind in ("completions", "embeddings") for c in _calls(server, kind, start, end)]
    calls = filtered(calls, request.query, (("project_id", "project_ids"),))
    group_by = query.group_by
    data = []
    for bucket_start in query.starts:
        amounts: Dict[tuple, float] = {}
        for call in query.inside(calls, bucket_start):
            for token_type, words in LINE_ITEMS:
                tokens = call.tokens.get(token_type, 0) + (call.tokens.get("cache_write_1h", 0) if token_type == "cache_write_5m" else 0)
                if not tokens:
                    continue
                rate = billing.rate("openai", call.model, token_type, call.at)
                if rate is None:
                    continue
                fields = {"project_id": call.project_id, "line_item": f"{call.model}, {words}", "api_key_id": call.api_key_id}
                key = tuple(fields[name] for name in group_by)
                amounts[key] = amounts.get(key, 0.0) + tokens * rate / 1_000_000
        results = []
        for key, value in amounts.items():
            result: Dict[str, Any] = {"object": "organization.costs.result", "amount": {"value": value, "currency": "usd"}}
            result.update(query.fields(key, ("line_item", "project_id")))
            if "api_key_id" in group_by:
                result["api_key_id"] = key[group_by.index("api_key_id")]
            results.append(result)
        data.append(_bucket(bucket_start, query.width, results))
    return _page(data, query.next_page)
