"""AWS Cost and Usage Report 2.0 (CSV or Parquet): the Amazon Bedrock token lines as spend rows.

Bedrock bills each token type on its own line, named by ``line_item_usage_type``: a region
prefix, the model, then the meter, e.g. ``USE1-Claude4.6Sonnet-input-tokens``,
``…-output-tokens``, ``…-cache-read-input-token-count``, ``…-cache-write-input-token-count``;
the service tier and cross-region routing appear as extra words in it. Credits, refunds and
taxes are left out (they are not usage) and counted in the notes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from ...ledger.row import SpendRow
from ...pricing.billing_names import bedrock_model_from_usage_type
from .base import SourceError, VendorData, mapping, number, parse_time, pick, read_table, unit_multiplier

PROVIDER = "aws.bedrock"
_METERS = (
    (re.compile(r"-cache-read-input-token-count$|-cache-read-input-tokens?$", re.I), "cache_read"),
    (re.compile(r"-cache-write-input-token-count$|-cache-write-input-tokens?$", re.I), "cache_write_5m"),
    (re.compile(r"-(?:mantle-)?input-tokens?(?:-.*)?$", re.I), "input"),
    (re.compile(r"-(?:mantle-)?output-tokens?(?:-.*)?$", re.I), "output"),
)
_TIER_WORDS = re.compile(r"-(priority|flex|batch|cross-region(?:-global)?|global|latency-optimized)(?=-|$)", re.I)
_REGION = re.compile(r"^[A-Z]{2,4}\d?-", re.I)
USAGE_LINE_TYPES = {"usage", "discountedusage", "savingsplancoveredusage"}


def parse_usage_type(usage_type: str) -> Optional[Tuple[str, str, Optional[str]]]:
    """(Bedrock model id, token type, service tier or None) for a Bedrock token usage type."""
    text = usage_type.strip()
    for pattern, token_type in _METERS:  # noqa: B007 - for-else search: the match's token type is used below
        match = pattern.search(text)
        if match:
            head = text[: match.start()]
            break
    else:
        return None
    head = _REGION.sub("", head, count=1)
    tier = None
    found = _TIER_WORDS.findall(head)
    for word in found:
        if word.lower() in ("priority", "flex", "batch"):
            tier = word.lower()
    head = _TIER_WORDS.sub("", head)
    if not head:
        return None
    return bedrock_model_from_usage_type(head), token_type, tier


def read(path: Path) -> VendorData:
    data = VendorData("cur")
    columns_checked = False
    for line in read_table(path):
        if not columns_checked:
            missing = [c for c in ("line_item_usage_type", "line_item_usage_start_date") if c not in line]
            if missing:
                raise SourceError(f"{path}: not a CUR 2.0 export (missing column(s) {', '.join(missing)})")
            columns_checked = True
        product = str(pick(line, "line_item_product_code") or "")
        if "bedrock" not in product.lower():
            data.skip("lines of other AWS services")
            continue
        line_type = str(pick(line, "line_item_line_item_type") or "Usage")
        if line_type.replace(" ", "").lower() not in USAGE_LINE_TYPES:
            data.skip(f"{line_type} lines (not usage)")
            continue
        parsed = parse_usage_type(str(line.get("line_item_usage_type") or ""))
        if parsed is None:
            data.skip("Bedrock lines that are not token usage (e.g. provisioned throughput, storage)")
            continue
        model, token_type, tier = parsed
        product_map = mapping(line.get("product"))
        model = str(product_map.get("model_id") or product_map.get("modelId") or model)
        tokens = number(line.get("line_item_usage_amount")) * unit_multiplier(line.get("pricing_unit") if _is_block_unit(line.get("pricing_unit")) else None)
        cost = number(pick(line, "line_item_net_unblended_cost", "line_item_unblended_cost"), 0.0)
        start = parse_time(line.get("line_item_usage_start_date"), "line_item_usage_start_date")
        end_value = line.get("line_item_usage_end_date")
        end = parse_time(end_value, "line_item_usage_end_date") if end_value not in (None, "") else start + 3600
        data.rows.append(SpendRow(start, end, PROVIDER, model, token_type, int(round(tokens)), effective_cost_usd=cost, service_tier=tier, dimensions=_dims(line), source="cur"))
    return data


def _is_block_unit(unit: Any) -> bool:
    """``1K tokens``-style pricing units mean the usage amount is in blocks, not tokens."""
    return unit_multiplier(unit) != 1.0


def _dims(line: Dict[str, Any]) -> Dict[str, str]:
    dims: Dict[str, str] = {}
    account = pick(line, "line_item_usage_account_id")
    if account:
        dims["account_id"] = str(account)
    for key, value in mapping(line.get("resource_tags")).items():
        dims[f"tag.{key.split(':', 1)[-1]}"] = value
    return dims
