"""Vendor billing export files written from the fake vendors' bill (``testing/billing.py``).

Each writer aggregates billed calls the way the vendor's export does and writes the vendor's
column names: AWS CUR 2.0 (hourly lines per Bedrock usage type; CSV or Parquet), the Google
Cloud billing export (hourly rows per SKU; BigQuery CSV with flattened names, or
newline-delimited JSON with nested records), an Azure cost export (daily rows per meter, in
"1K" blocks), and FOCUS 1.3 (daily rows per SKU price, token-level as the FOCUS AI billing
examples describe). Costs are the bill's rates, so a test can change a vendor's rate and see
reconcile find it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from .billing import BilledCall, Billing

_TOKEN_TYPES = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")


def _iso(epoch: float, sep: str = "T") -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime(f"%Y-%m-%d{sep}%H:%M:%SZ")


def _aggregate(
    calls: Iterable[BilledCall], billing: Billing, providers: Tuple[str, ...], width: int, key: Callable[[BilledCall], Tuple[Any, ...]]
) -> Dict[Tuple[Any, ...], List[float]]:
    """(bucket start, *key, token type) -> [tokens, cost]."""
    sums: Dict[Tuple[Any, ...], List[float]] = {}
    for call in calls:
        if call.provider not in providers:
            continue
        start = int(call.at // width) * width
        for token_type in _TOKEN_TYPES:
            tokens = call.tokens.get(token_type, 0)
            if not tokens:
                continue
            cost = billing.cost(call, token_type) or 0.0
            entry = sums.setdefault((start, *key(call), token_type), [0.0, 0.0])
            entry[0] += tokens
            entry[1] += cost
    return sums


def _write(path: Path, rows: List[Dict[str, Any]], columns: List[str]) -> Path:
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        # Map columns (CUR's resource_tags, product) are Parquet maps, as AWS writes them.
        maps = {key for row in rows for key, value in row.items() if isinstance(value, dict)}
        columns_data = {
            key: pa.array([list(row[key].items()) for row in rows], type=pa.map_(pa.string(), pa.string())) if key in maps else pa.array([row.get(key) for row in rows])
            for key in (rows[0] if rows else {})
        }
        pq.write_table(pa.table(columns_data), path)
    elif name.endswith((".json", ".jsonl")):
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in row.items()})
    return path


# -- AWS CUR 2.0 ---------------------------------------------------------------------------------------

_CUR_METERS = {
    "input": "input-tokens",
    "output": "output-tokens",
    "cache_read": "cache-read-input-token-count",
    "cache_write_5m": "cache-write-input-token-count",
    "cache_write_1h": "cache-write-input-token-count",
}
CUR_COLUMNS = [
    "bill_billing_period_start_date",
    "line_item_line_item_type",
    "line_item_usage_account_id",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_operation",
    "line_item_usage_amount",
    "pricing_unit",
    "line_item_unblended_rate",
    "line_item_unblended_cost",
    "line_item_line_item_description",
    "product",
    "resource_tags",
]


def usage_type_model(model_id: str) -> str:
    """The model part of a Bedrock usage type for an API model id (``Claude4.5Sonnet``, ``NovaPro``)."""
    text = model_id.lower().rsplit("/", 1)[-1]
    text = re.sub(r"^(?:us|eu|apac|global|jp|au|ca)\.", "", text)
    text = text.split(".", 1)[-1]
    text = re.sub(r"-v\d+(?::\d+)?$", "", text)
    text = re.sub(r"-\d{8}$", "", text)
    claude = re.match(r"claude-(opus|sonnet|haiku)-(\d+)(?:-(\d+))?$", text) or re.match(r"claude-(\d+)(?:-(\d+))?-(opus|sonnet|haiku)$", text)
    if claude:
        parts = claude.groups()
        family = next(p for p in parts if p and p.isalpha())
        numbers = [p for p in parts if p and p.isdigit()]
        return f"Claude{'.'.join(numbers)}{family.capitalize()}"
    nova = re.match(r"nova-(?:(\d+)-)?(pro|lite|micro|premier)$", text)
    if nova:
        return f"Nova{nova.group(1) or ''}{nova.group(2).capitalize()}"
    return "".join(part.capitalize() for part in re.split(r"[-.]", text))


def write_cur(path: Path, billing: Billing, calls: Optional[Iterable[BilledCall]] = None, account_id: str = "123456789012", region: str = "USE1") -> Path:
    sums = _aggregate(calls if calls is not None else billing.calls, billing, ("aws.bedrock",), 3600, lambda c: (c.model, c.project_id or account_id))
    rows = []
    for (start, model, account, token_type), (tokens, cost) in sorted(sums.items()):
        usage_type = f"{region}-{usage_type_model(model)}-{_CUR_METERS[token_type]}"
        month = dt.datetime.fromtimestamp(start, dt.timezone.utc).replace(day=1, hour=0)
        rows.append(
            {
                "bill_billing_period_start_date": _iso(month.timestamp()),
                "line_item_line_item_type": "Usage",
                "line_item_usage_account_id": account,
                "line_item_usage_start_date": _iso(start),
                "line_item_usage_end_date": _iso(start + 3600),
                "line_item_product_code": "AmazonBedrock",
                "line_item_usage_type": usage_type,
                "line_item_operation": "Usage",
                "line_item_usage_amount": int(tokens),
                "pricing_unit": "tokens",
                "line_item_unblended_rate": repr(cost / tokens) if tokens else "0",
                "line_item_unblended_cost": repr(cost),
                "line_item_line_item_description": f"{usage_type} tokens",
                "product": {"region": "us-east-1", "servicecode": "AmazonBedrock"},
                "resource_tags": {},
            }
        )
    return _write(path, rows, CUR_COLUMNS)


# -- Google Cloud billing export ---------------------------------------------------------------------------

_GCP_METERS = {"input": "Input Text Tokens", "cache_read": "Cached Input Text Tokens", "output": "Text Output Tokens", "cache_write_5m": "Cache Write Input Text Tokens", "cache_write_1h": "Cache Write Input Text Tokens"}


def _gcp_model_words(model: str) -> str:
    base = re.sub(r"@.*$|-\d{3}$|-preview.*$", "", model.lower().rsplit("/", 1)[-1])
    claude = re.match(r"claude-(opus|sonnet|haiku)-(\d+)(?:-(\d))?(?:-\d{8})?$", base)
    if claude:
        version = claude.group(2) + (f".{claude.group(3)}" if claude.group(3) else "")
        return f"Claude {claude.group(1).capitalize()} {version}"
    return " ".join(part.capitalize() if not part[0].isdigit() else part for part in base.split("-"))


def write_gcp(path: Path, billing: Billing, calls: Optional[Iterable[BilledCall]] = None, account: str = "01A2B3-C4D5E6-F7A8B9", project: str = "acme-prod") -> Path:
    sums = _aggregate(calls if calls is not None else billing.calls, billing, ("gcp",), 3600, lambda c: (c.model, c.project_id or project))
    nested = str(path).lower().endswith((".json", ".jsonl"))
    rows = []
    for (start, model, project_id, token_type), (tokens, cost) in sorted(sums.items()):
        sku = f"{_gcp_model_words(model)} {_GCP_METERS[token_type]}"
        record = {
            "billing_account_id": account,
            "service": {"id": "C7E2-9256-1C43", "description": "Vertex AI" if model.lower().startswith("claude") else "Gemini API"},
            "sku": {"id": hashlib.sha1(sku.encode()).hexdigest()[:12].upper(), "description": sku},
            "usage_start_time": _iso(start, " ").replace("Z", " UTC"),
            "usage_end_time": _iso(start + 3600, " ").replace("Z", " UTC"),
            "project": {"id": project_id, "number": "123456789", "name": project_id},
            "labels": [],
            "cost": cost,
            "currency": "USD",
            "usage": {"amount": int(tokens), "unit": "count", "amount_in_pricing_units": tokens / 1e6, "pricing_unit": "1000000 count"},
            "credits": [],
            "invoice": {"month": dt.datetime.fromtimestamp(start, dt.timezone.utc).strftime("%Y%m")},
            "cost_type": "regular",
        }
        rows.append(record if nested else _flatten(record))
    columns = list(rows[0]) if rows else ["billing_account_id", "service.description", "sku.description", "usage_start_time", "cost", "usage.amount"]
    return _write(path, rows, columns)


def _flatten(record: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    flat: Dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


# -- Azure cost export -----------------------------------------------------------------------------------

_AZURE_METERS = {"input": "Inp", "cache_read": "cchd-Inp", "output": "Outp"}
AZURE_COLUMNS = [
    "Date",
    "SubscriptionId",
    "ResourceGroup",
    "ResourceId",
    "MeterCategory",
    "MeterSubCategory",
    "MeterName",
    "Quantity",
    "UnitOfMeasure",
    "EffectivePrice",
    "CostInBillingCurrency",
    "BillingCurrency",
    "ConsumedService",
    "Tags",
]


def azure_meter(model: str, token_type: str) -> str:
    match = re.match(r"^(?P<base>.+?)-(?P<year>\d{4})-(?P<mm>\d{2})-(?P<dd>\d{2})$", model)
    base = f"{match['base']}-{match['mm']}{match['dd']}" if match else model
    return f"{base}-{_AZURE_METERS[token_type]}-glbl"


def write_azure(path: Path, billing: Billing, calls: Optional[Iterable[BilledCall]] = None, subscription: str = "00000000-1111-2222-3333-444444444444", resource: str = "acme-openai") -> Path:
    sums = _aggregate(calls if calls is not None else billing.calls, billing, ("azure.ai.openai",), 86400, lambda c: (c.model, c.workspace_id or resource))
    rows = []
    for (start, model, account, token_type), (tokens, cost) in sorted(sums.items()):
        if token_type not in _AZURE_METERS:
            continue
        rows.append(
            {
                "Date": dt.datetime.fromtimestamp(start, dt.timezone.utc).strftime("%m/%d/%Y"),
                "SubscriptionId": subscription,
                "ResourceGroup": "ai",
                "ResourceId": f"/subscriptions/{subscription}/resourceGroups/ai/providers/Microsoft.CognitiveServices/accounts/{account}",
                "MeterCategory": "Foundry Models",
                "MeterSubCategory": "Azure OpenAI",
                "MeterName": azure_meter(model, token_type),
                "Quantity": repr(tokens / 1000),
                "UnitOfMeasure": "1K",
                "EffectivePrice": repr(cost / tokens * 1000) if tokens else "0",
                "CostInBillingCurrency": repr(cost),
                "BillingCurrency": "USD",
                "ConsumedService": "Microsoft.CognitiveServices",
                "Tags": {},
            }
        )
    return _write(path, rows, AZURE_COLUMNS)


# -- FOCUS -------------------------------------------------------------------------------------------------

_FOCUS_PROVIDERS = {"openai": "OpenAI", "anthropic": "Anthropic", "aws.bedrock": "Amazon Web Services", "gcp": "Google Cloud", "azure.ai.openai": "Microsoft"}
_FOCUS_SKU = {
    "input": ("Input Tokens", "input-uncached", "Input", "None"),
    "cache_read": ("Input Tokens", "input-cache-read", "Input", "Read"),
    "cache_write_5m": ("Input Tokens", "input-cache-write", "Input", "Write"),
    "cache_write_1h": ("Input Tokens", "input-cache-write-1h", "Input", "Write"),
    "output": ("Output Tokens", "output", "Output", "None"),
}
FOCUS_COLUMNS = [
    "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodStart", "ChargePeriodEnd", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingCategory", "PricingQuantity", "PricingUnit", "ServiceCategory", "ServiceName",
    "ServiceProviderName", "HostProviderName", "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "Tags",
]


def write_focus(path: Path, billing: Billing, calls: Optional[Iterable[BilledCall]] = None, providers: Tuple[str, ...] = ("openai", "anthropic")) -> Path:
    sums = _aggregate(calls if calls is not None else billing.calls, billing, providers, 86400, lambda c: (c.provider, c.model, c.project_id or c.workspace_id or ""))
    rows = []
    for (start, provider, model, sub_account, token_type), (tokens, cost) in sorted(sums.items()):
        meter, price_suffix, direction, cache = _FOCUS_SKU[token_type]
        details: Dict[str, Any] = {"ModelId": model, "TokenDirection": direction, "CacheAction": cache}
        if token_type == "cache_write_1h":
            details["CacheTtl"] = "1h"
        day = dt.datetime.fromtimestamp(start, dt.timezone.utc)
        month_start = day.replace(day=1)
        month_end = (month_start + dt.timedelta(days=32)).replace(day=1)
        name = _FOCUS_PROVIDERS.get(provider, provider)
        rows.append(
            {
                "BilledCost": cost, "BillingAccountId": "acct-1", "BillingCurrency": "USD",
                "BillingPeriodStart": _iso(month_start.timestamp()), "BillingPeriodEnd": _iso(month_end.timestamp()),
                "ChargeCategory": "Usage", "ChargeClass": None, "ChargeDescription": f"{model} {meter.lower()}", "ChargeFrequency": "Usage-Based",
                "ChargePeriodStart": _iso(start), "ChargePeriodEnd": _iso(start + 86400), "ConsumedQuantity": int(tokens), "ConsumedUnit": "Tokens",
                "ContractedCost": cost, "EffectiveCost": cost, "InvoiceIssuerName": name, "ListCost": cost, "PricingCategory": "Standard",
                "PricingQuantity": tokens / 1e6, "PricingUnit": "1000000 Tokens", "ServiceCategory": "AI and Machine Learning",
                "ServiceName": f"{name} API", "ServiceProviderName": name, "HostProviderName": name, "ServiceSubcategory": "Generative AI",
                "SkuId": f"{model}-{direction.lower()}", "SkuMeter": meter, "SkuPriceDetails": json.dumps(details),
                "SkuPriceId": f"{model}-{price_suffix}", "SubAccountId": sub_account or None, "Tags": "{}",
            }
        )
    return _write(path, rows, FOCUS_COLUMNS)
