"""OpenAI's organization Usage and Costs APIs as spend rows.

``GET /v1/organization/usage/completions`` (and ``/embeddings``) gives tokens per bucket,
grouped by model, project, API key, batch and service tier; ``input_tokens`` there *includes*
cached and cache-write tokens, so the uncached part is what is left. ``GET
/v1/organization/costs`` gives USD per day and line item (``"gpt-4o-2024-08-06, input"``) and
project. Both become rows of the same day; usage rows carry tokens, cost rows carry USD, and
reconcile sums both into the same cells.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ...ledger.row import SpendRow
from ...pricing.billing_names import openai_line_item_model
from .admin_http import AdminClient, Params, admin_key
from .base import SourceError, VendorData, number

PROVIDER = "openai"
KEY_VARIABLES = ("OPENAI_ADMIN_KEY",)
DEFAULT_BASE_URL = "https://api.openai.com/v1"
USAGE_GROUP_BY = ("model", "project_id", "api_key_id", "batch", "service_tier")
COST_GROUP_BY = ("line_item", "project_id")
USAGE_ENDPOINTS = ("completions", "embeddings")

#: What follows the comma of a Costs API line item -> token type.
_LINE_ITEM_TYPES = (
    (re.compile(r"cached\s+input|cache\s+read|input\s*\(cached\)", re.I), "cache_read"),
    (re.compile(r"cache\s+write|cache\s+creation", re.I), "cache_write_5m"),
    (re.compile(r"\binput\b", re.I), "input"),
    (re.compile(r"\boutput\b", re.I), "output"),
)


def fetch(start: int, end: int, base_url: Optional[str] = None, bucket_width: str = "1d") -> VendorData:
    """Read usage and costs for [start, end) from the organization the admin key belongs to."""
    variable, key = admin_key(*KEY_VARIABLES)
    client = AdminClient(base_url or DEFAULT_BASE_URL, {"Authorization": f"Bearer {key}"}, key, "OpenAI")
    data = VendorData("openai")
    limit = {"1d": 31, "1h": 168, "1m": 1440}.get(bucket_width, 31)
    for endpoint in USAGE_ENDPOINTS:
        params: Params = {"start_time": start, "end_time": end, "bucket_width": bucket_width, "group_by": list(USAGE_GROUP_BY), "limit": limit}
        for page in client.pages(f"/organization/usage/{endpoint}", params):
            data.rows += usage_rows(page.get("data", []))
    params = {"start_time": start, "end_time": end, "bucket_width": "1d", "group_by": list(COST_GROUP_BY), "limit": 180}
    for page in client.pages("/organization/costs", params):
        data.rows += cost_rows(page.get("data", []), data)
    return data


def usage_rows(buckets: Iterable[Dict[str, Any]]) -> List[SpendRow]:
    rows: List[SpendRow] = []
    for bucket in buckets:
        start, end = number(bucket.get("start_time")), number(bucket.get("end_time"))
        for result in bucket.get("results") or []:
            model = result.get("model") or "unknown"
            total_in = int(number(result.get("input_tokens")))
            cached = int(number(result.get("input_cached_tokens")))
            writes = int(number(result.get("input_cache_write_tokens")))
            uncached = result.get("input_uncached_tokens")
            plain = int(number(uncached)) if uncached is not None else max(0, total_in - cached - writes)
            tier = result.get("service_tier")
            batch = result.get("batch")
            dims = _dims(result)
            if batch is not None:
                dims["batch"] = "true" if batch else "false"
            calls = int(number(result.get("num_model_requests")))
            for token_type, tokens in (("input", plain), ("cache_read", cached), ("cache_write_5m", writes), ("output", int(number(result.get("output_tokens"))))):
                if tokens or token_type == "input":
                    rows.append(
                        SpendRow(start, end, PROVIDER, model, token_type, tokens, service_tier=tier, calls=calls, dimensions=dict(dims), source="openai")
                    )
    return rows


def cost_rows(buckets: Iterable[Dict[str, Any]], data: VendorData) -> List[SpendRow]:
    rows: List[SpendRow] = []
    for bucket in buckets:
        start, end = number(bucket.get("start_time")), number(bucket.get("end_time"))
        for result in bucket.get("results") or []:
            amount = result.get("amount") or {}
            currency = str(amount.get("currency") or "usd").lower()
            if currency != "usd":
                raise SourceError(f"OpenAI costs: amounts in {currency!r}; tokentrace reconciles USD only")
            line_item = str(result.get("line_item") or "")
            parsed = parse_line_item(line_item)
            if parsed is None:
                data.skip(f"OpenAI cost line items that are not token charges (e.g. {line_item!r})")
                continue
            model, token_type = parsed
            rows.append(
                SpendRow(start, end, PROVIDER, model, token_type, 0, effective_cost_usd=number(amount.get("value")), dimensions=_dims(result), source="openai")
            )
    return rows


def parse_line_item(line_item: str) -> Optional[Tuple[str, str]]:
    """(model, token type) of ``"gpt-4o-2024-08-06, input"``; ``None`` for non-token line items."""
    if "," not in line_item:
        return None
    model = openai_line_item_model(line_item)
    meter = line_item.split(",", 1)[1]
    for pattern, token_type in _LINE_ITEM_TYPES:
        if pattern.search(meter):
            return (model, token_type) if model else None
    return None


def _dims(result: Dict[str, Any]) -> Dict[str, str]:
    return {key: str(result[key]) for key in ("project_id", "api_key_id") if result.get(key) is not None}
