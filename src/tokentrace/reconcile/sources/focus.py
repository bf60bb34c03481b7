"""Any FOCUS cost-and-usage file (CSV or Parquet) as spend rows: a FinOps platform's export too.

Token charges are ``Usage`` rows with a token ``ConsumedUnit``; the model comes from
``SkuPriceDetails`` (the FOCUS 1.5-draft ``ModelId`` property) or an ``x_`` column, the token
type from ``SkuPriceDetails``' direction and cache properties (``TokenDirection`` plus
``CacheAction`` / ``TokenCacheAction`` / ``CacheRole``), else from ``SkuMeter`` and
``SkuPriceId``. AWS's FOCUS export keeps the CUR usage type in ``x_UsageType``, read like CUR.
Costs compared are ``BilledCost`` (what is invoiced), else ``EffectiveCost``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from ...ledger.row import SpendRow
from .base import SourceError, VendorData, mapping, number, parse_time, pick, read_table, unit_multiplier
from .cur import parse_usage_type

_PROVIDERS = (
    (re.compile(r"openai", re.I), "openai"),
    (re.compile(r"anthropic", re.I), "anthropic"),
    (re.compile(r"aws|amazon", re.I), "aws.bedrock"),
    (re.compile(r"google", re.I), "gcp.vertex_ai"),
    (re.compile(r"microsoft|azure", re.I), "azure.ai.openai"),
)
_CACHE_WORDS = {"read": "cache_read", "write": "cache_write_5m", "write_1h": "cache_write_1h"}


def provider_of(name: str) -> str:
    for pattern, provider in _PROVIDERS:
        if pattern.search(name):
            return provider
    return name.strip().lower() or "unknown"


def token_type_of(details: Dict[str, Any], meter: str, price_id: str) -> Optional[str]:
    direction = str(details.get("TokenDirection") or details.get("x_TokenDirection") or "").lower()
    cache = str(details.get("CacheAction") or details.get("TokenCacheAction") or details.get("CacheRole") or "").lower()
    text = f"{meter} {price_id}".lower()
    if not direction:
        direction = "output" if "output" in text else "input" if "input" in text else ""
    if direction == "output":
        return "output"
    if direction != "input":
        return None
    ttl = str(details.get("CacheTtl") or details.get("x_CacheTtl") or "").lower()
    if not cache:
        text = text.replace("uncached", "")
        cache = "read" if ("cache-read" in text or "cache read" in text or "cached" in text) else "write" if ("cache-write" in text or "cache write" in text) else "none"
    if cache == "read":
        return "cache_read"
    if cache == "write":
        return "cache_write_1h" if ttl in ("1h", "3600") or "1h" in text else "cache_write_5m"
    return "input" if cache in ("none", "uncached", "") else None


def read(path: Path) -> VendorData:
    data = VendorData("focus")
    checked = False
    for line in read_table(path):
        if not checked:
            missing = [c for c in ("ChargePeriodStart", "ConsumedQuantity") if c not in line]
            if missing:
                raise SourceError(f"{path}: not a FOCUS cost-and-usage file (missing column(s) {', '.join(missing)})")
            checked = True
        if str(line.get("ChargeCategory") or "Usage").lower() != "usage":
            data.skip(f"{line.get('ChargeCategory')} rows (not usage)")
            continue
        unit = str(line.get("ConsumedUnit") or "")
        if "token" not in unit.lower():
            data.skip(f"usage rows not metered in tokens (ConsumedUnit {unit!r})")
            continue
        details = _details(line.get("SkuPriceDetails"))
        parsed = _model_and_type(line, details)
        if parsed is None:
            data.skip("token rows without a model or token type tokentrace can read")
            continue
        provider, model, token_type = parsed
        tokens = number(line.get("ConsumedQuantity")) * (unit_multiplier(unit) if unit_multiplier(unit) != 1.0 else 1.0)
        cost_value = pick(line, "BilledCost", "EffectiveCost")
        start = parse_time(line.get("ChargePeriodStart"), "ChargePeriodStart")
        end_value = line.get("ChargePeriodEnd")
        end = parse_time(end_value, "ChargePeriodEnd") if end_value not in (None, "") else start + 86400
        dims: Dict[str, str] = {}
        sub_account = pick(line, "SubAccountId")
        if sub_account:
            dims["project_id"] = str(sub_account)
        for key, value in mapping(line.get("Tags")).items():
            dims[f"tag.{key}"] = value
        data.rows.append(
            SpendRow(start, end, provider, model, token_type, int(round(tokens)), effective_cost_usd=None if cost_value is None else number(cost_value), dimensions=dims, source="focus")
        )
    return data


def _model_and_type(line: Dict[str, Any], details: Dict[str, Any]) -> Optional[Tuple[str, str, str]]:
    usage_type = line.get("x_UsageType")
    if usage_type:
        parsed = parse_usage_type(str(usage_type))
        if parsed:
            return "aws.bedrock", parsed[0], parsed[1]
    provider = provider_of(str(pick(line, "ServiceProviderName", "ProviderName", "HostProviderName", "InvoiceIssuerName") or ""))
    meter = str(line.get("SkuMeter") or "")
    price_id = str(line.get("SkuPriceId") or "")
    token_type = token_type_of(details, meter, price_id)
    model = details.get("ModelId") or pick(line, "x_Model", "x_ModelId", "x_gen_ai_response_model")
    if not model:
        sku = str(line.get("SkuId") or "")
        model = re.sub(r"-(?:input|output)(?:-.*)?$", "", sku) if sku else None
    if not model or token_type is None:
        return None
    return provider, str(model), token_type


def _details(value: Any) -> Dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}
