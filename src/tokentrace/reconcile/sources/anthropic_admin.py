"""Anthropic's Admin usage and cost reports as spend rows.

``GET /v1/organizations/usage_report/messages`` gives uncached input, cache reads, cache
writes (5 minute and 1 hour) and output per bucket, grouped by model, workspace, API key,
service tier and context window. ``GET /v1/organizations/cost_report`` gives amounts as
*decimal strings in cents* (``"123.45"`` is $1.2345) per day, workspace and description
(model, token type). Priority-tier cost is absent from the cost report (Anthropic's docs):
reconcile then compares tokens only for those cells.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Iterable, List, Optional

from ...ledger.row import SpendRow
from .admin_http import AdminClient, Params, admin_key
from .base import SourceError, VendorData, number, parse_time

PROVIDER = "anthropic"
KEY_VARIABLES = ("ANTHROPIC_ADMIN_API_KEY", "ANTHROPIC_ADMIN_KEY")
DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
USAGE_GROUP_BY = ("model", "workspace_id", "api_key_id", "service_tier", "context_window")
COST_GROUP_BY = ("workspace_id", "description")
#: cost_report ``token_type`` -> spend row token type.
COST_TOKEN_TYPES = {
    "uncached_input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write_5m",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
}
#: The default workspace is reported as ``workspace_id: null``.
DEFAULT_WORKSPACE = "default"


def _rfc3339(epoch: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch(start: int, end: int, base_url: Optional[str] = None, bucket_width: str = "1d") -> VendorData:
    variable, key = admin_key(*KEY_VARIABLES)
    client = AdminClient(base_url or DEFAULT_BASE_URL, {"x-api-key": key, "anthropic-version": API_VERSION}, key, "Anthropic")
    data = VendorData("anthropic")
    limit = {"1d": 31, "1h": 168, "1m": 1440}.get(bucket_width, 31)
    params: Params = {"starting_at": _rfc3339(start), "ending_at": _rfc3339(end), "bucket_width": bucket_width, "group_by": list(USAGE_GROUP_BY), "limit": limit}
    for page in client.pages("/v1/organizations/usage_report/messages", params):
        data.rows += usage_rows(page.get("data", []))
    params = {"starting_at": _rfc3339(start), "ending_at": _rfc3339(end), "bucket_width": "1d", "group_by": list(COST_GROUP_BY), "limit": 31}
    for page in client.pages("/v1/organizations/cost_report", params):
        data.rows += cost_rows(page.get("data", []), data)
    priority = sum(r.tokens for r in data.rows if r.service_tier == "priority")
    if priority:
        data.notes.append(
            f"anthropic: {priority:,} priority-tier tokens have no cost in Anthropic's cost report (documented); "
            "their cells compare tokens, and a cost gap there is that missing report, not a rate"
        )
    return data


def usage_rows(buckets: Iterable[Dict[str, Any]]) -> List[SpendRow]:
    rows: List[SpendRow] = []
    for bucket in buckets:
        start, end = parse_time(bucket.get("starting_at"), "starting_at"), parse_time(bucket.get("ending_at"), "ending_at")
        for result in bucket.get("results") or []:
            creation = result.get("cache_creation") or {}
            counts = (
                ("input", result.get("uncached_input_tokens")),
                ("cache_read", result.get("cache_read_input_tokens")),
                ("cache_write_5m", creation.get("ephemeral_5m_input_tokens")),
                ("cache_write_1h", creation.get("ephemeral_1h_input_tokens")),
                ("output", result.get("output_tokens")),
            )
            dims = _dims(result)
            model = result.get("model") or "unknown"
            for token_type, value in counts:
                tokens = int(number(value))
                if tokens or token_type == "input":
                    rows.append(SpendRow(start, end, PROVIDER, model, token_type, tokens, service_tier=result.get("service_tier"), dimensions=dict(dims), source="anthropic"))
    return rows


def cost_rows(buckets: Iterable[Dict[str, Any]], data: VendorData) -> List[SpendRow]:
    rows: List[SpendRow] = []
    for bucket in buckets:
        start, end = parse_time(bucket.get("starting_at"), "starting_at"), parse_time(bucket.get("ending_at"), "ending_at")
        for result in bucket.get("results") or []:
            currency = str(result.get("currency") or "USD").upper()
            if currency != "USD":
                raise SourceError(f"Anthropic cost report: amounts in {currency!r}; tokentrace reconciles USD only")
            token_type = COST_TOKEN_TYPES.get(str(result.get("token_type") or ""))
            if result.get("cost_type") not in (None, "tokens") or token_type is None:
                data.skip(f"Anthropic cost items that are not token charges ({result.get('cost_type') or result.get('description')!r})")
                continue
            rows.append(
                SpendRow(
                    start,
                    end,
                    PROVIDER,
                    result.get("model") or "unknown",
                    token_type,
                    0,
                    effective_cost_usd=cents_to_usd(result.get("amount")),
                    service_tier=result.get("service_tier"),
                    dimensions=_dims(result),
                    source="anthropic",
                )
            )
    return rows


def cents_to_usd(amount: Any) -> float:
    """``"123.45"`` (cents, as a decimal string) -> 1.2345 USD, without float rounding on the way."""
    try:
        return float(Decimal(str(amount)) / 100)
    except (InvalidOperation, ValueError):
        raise SourceError(f"Anthropic cost report: amount {amount!r} is not a decimal string of cents") from None


def _dims(result: Dict[str, Any]) -> Dict[str, str]:
    dims: Dict[str, str] = {}
    if "workspace_id" in result:
        dims["workspace_id"] = str(result["workspace_id"] or DEFAULT_WORKSPACE)
    if result.get("api_key_id") is not None:
        dims["api_key_id"] = str(result["api_key_id"])
    return dims
