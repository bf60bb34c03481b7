"""The Google Cloud billing export (BigQuery ``gcp_billing_export_v1_*`` as CSV or JSON) as spend rows.

Gemini and Vertex AI charges are rows whose ``service.description`` names Vertex AI or the
Gemini API; the model and the meter are only in ``sku.description`` (for example
``Gemini 2.5 Flash Input Text Tokens``), so both are read from it, defensively. ``cost`` is
the charge before credits; credits (free tier, committed-use) are summed into the notes.
BigQuery's CSV export flattens nested fields as ``service.description``; its JSON keeps them
nested; both are read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

from ...ledger.row import SpendRow
from ...pricing.billing_names import gcp_sku_model
from .base import SourceError, VendorData, mapping, number, parse_time, pick, read_table, unit_multiplier

PROVIDER = "gcp.vertex_ai"
_SERVICES = re.compile(r"vertex ai|gemini|generative language", re.I)
_METERS = (
    (re.compile(r"cach(?:e|ed)[\s-]*(?:read|hit|input)|cached", re.I), "cache_read"),
    (re.compile(r"cache[\s-]*(?:write|creation)", re.I), "cache_write_5m"),
    (re.compile(r"\binput\b|\bprompt\b", re.I), "input"),
    (re.compile(r"\boutput\b|\bresponse\b|\bcompletion\b", re.I), "output"),
)
_NOT_TOKENS = re.compile(r"storage|grounding|search|characters?\b|image generation|per hour|training", re.I)


def token_type_of(description: str) -> Optional[str]:
    if _NOT_TOKENS.search(description) and "token" not in description.lower():
        return None
    for pattern, token_type in _METERS:
        if pattern.search(description):
            return token_type
    return None


def read(path: Path) -> VendorData:
    data = VendorData("gcp")
    credits_total = 0.0
    checked = False
    for line in read_table(path):
        if not checked:
            if pick(line, "sku.description", "sku_description") is None and "sku" not in line:
                raise SourceError(f"{path}: not a Google Cloud billing export (no sku.description column)")
            checked = True
        service = str(pick(line, "service.description", "service_description") or "")
        if not _SERVICES.search(service):
            data.skip("rows of other Google Cloud services")
            continue
        sku = str(pick(line, "sku.description", "sku_description") or "")
        token_type = token_type_of(sku)
        model = gcp_sku_model(sku)
        if token_type is None or model is None:
            data.skip(f"{service} SKUs that are not token charges of a named model (e.g. {sku!r})")
            continue
        unit = pick(line, "usage.unit", "usage_unit")
        tokens = number(pick(line, "usage.amount", "usage_amount")) * unit_multiplier(unit if unit_multiplier(unit) != 1.0 else None)
        credits = _credits(line.get("credits"))
        credits_total += credits
        start = parse_time(pick(line, "usage_start_time"), "usage_start_time")
        end_value = pick(line, "usage_end_time")
        end = parse_time(end_value, "usage_end_time") if end_value is not None else start + 3600
        dims: Dict[str, str] = {}
        project = pick(line, "project.id", "project_id")
        if project:
            dims["project_id"] = str(project)
        for key, value in _labels(line.get("labels")).items():
            dims[f"tag.{key}"] = value
        provider = "gcp.gemini" if "gemini api" in service.lower() or "generative language" in service.lower() else PROVIDER
        data.rows.append(SpendRow(start, end, provider, model, token_type, int(round(tokens)), effective_cost_usd=number(pick(line, "cost")), dimensions=dims, source="gcp"))
    if credits_total:
        data.notes.append(f"gcp: credits of ${-credits_total:.6f} applied to these charges are not subtracted (costs compared before credits)")
    return data


def _credits(value: Any) -> float:
    if value in (None, "", "[]"):
        return 0.0
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return 0.0
    items: List[Any] = value if isinstance(value, list) else [value]
    return sum(number(item.get("amount")) for item in items if isinstance(item, dict))


def _labels(value: Any) -> Dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return mapping(value)
