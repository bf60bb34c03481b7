"""Azure Cost Management exports (actual or amortized cost, CSV) for Azure OpenAI as spend rows.

Azure OpenAI lines have ``MeterCategory`` "Cognitive Services" (or "Foundry Models") and a
``MeterSubCategory`` naming Azure OpenAI; the model and the meter are in ``MeterName``
(``gpt-4o-0806-Inp-glbl``, ``gpt-4o-0806-cchd-Inp-glbl``, ``gpt-4o-0806-Outp-glbl``), and
``Quantity`` is in ``UnitOfMeasure`` blocks ("1K", "1M"). Export column names follow the
documented schema; both the "actual" and "amortized" spellings of the cost column are read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Optional

from ...ledger.row import SpendRow
from ...pricing.billing_names import azure_meter_model
from .base import SourceError, VendorData, mapping, number, parse_time, pick, read_table, unit_multiplier

PROVIDER = "azure.ai.openai"
_OPENAI = re.compile(r"openai|foundry models|cognitive services", re.I)
_METERS = (
    (re.compile(r"\b(?:cchd|cached|cache)\b", re.I), "cache_read"),
    (re.compile(r"\b(?:inp|input|inpt|prompt)\b", re.I), "input"),
    (re.compile(r"\b(?:outp|output|outpt|completion)\b", re.I), "output"),
)


def token_type_of(meter: str) -> Optional[str]:
    text = re.sub(r"[-_]", " ", meter)
    for pattern, token_type in _METERS:
        if pattern.search(text):
            return token_type
    return None


def read(path: Path) -> VendorData:
    data = VendorData("azure")
    checked = False
    for line in read_table(path):
        if not checked:
            if pick(line, "MeterName", "meterName") is None and "MeterName" not in line and "meterName" not in line:
                raise SourceError(f"{path}: not an Azure cost export (no MeterName column)")
            checked = True
        category = " ".join(str(pick(line, c, c[0].lower() + c[1:]) or "") for c in ("MeterCategory", "MeterSubCategory", "ConsumedService"))
        if not _OPENAI.search(category):
            data.skip("lines of other Azure services")
            continue
        meter = str(pick(line, "MeterName", "meterName") or "")
        token_type = token_type_of(meter)
        model = azure_meter_model(meter)
        if token_type is None or model is None:
            data.skip(f"Azure OpenAI meters that are not token charges (e.g. {meter!r})")
            continue
        quantity = number(pick(line, "Quantity", "quantity"))
        tokens = quantity * unit_multiplier(pick(line, "UnitOfMeasure", "unitOfMeasure"))
        cost = number(pick(line, "CostInBillingCurrency", "costInBillingCurrency", "CostInUsd", "Cost", "cost"))
        start = parse_time(pick(line, "Date", "date", "UsageDate"), "Date")
        dims: Dict[str, str] = {}
        subscription = pick(line, "SubscriptionId", "subscriptionId")
        if subscription:
            dims["account_id"] = str(subscription)
        resource = pick(line, "ResourceId", "resourceId", "InstanceName")
        if resource:
            dims["workspace_id"] = str(resource).rstrip("/").rsplit("/", 1)[-1]
        for key, value in mapping(pick(line, "Tags", "tags")).items():
            dims[f"tag.{key}"] = value
        data.rows.append(SpendRow(start, start + 86400, PROVIDER, model, token_type, int(round(tokens)), effective_cost_usd=cost, dimensions=dims, source="azure"))
    return data
