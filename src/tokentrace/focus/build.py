"""Spend rows to FOCUS Cost and Usage rows at token level.

One FOCUS row per charge period (a UTC day) × provider × model × SKU price (token type and
service tier) × allocation tags, as the FOCUS AI billing examples lay out a token-priced API:
``ConsumedQuantity`` in ``Tokens``, ``PricingUnit`` ``1000000 Tokens``, input and output on
separate SKUs (``SkuMeter`` ``Input Tokens`` / ``Output Tokens``), the cache variants of input
told apart by ``SkuPriceId`` and the ``TokenDirection`` / ``CacheAction`` properties of
``SkuPriceDetails`` beside the model identity (``ModelDeveloper``, ``ModelId``, ``ModelVersion``).

The dataset is tokentrace's estimate from what it saw: ``BilledCost`` carries the estimated
effective cost so totals add up, and ``x_DataSource`` says where it came from; the provider's
invoice stays the source of truth for what is billed. Reasoning tokens are part of output: they
appear as ``x_ReasoningTokens`` on the output row, never as a row of their own. A model without a
price gets cost 0 with ``x_CostStatus`` saying why (FOCUS costs may not be null) and no unit price.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from ..ledger.row import USAGE_SOURCE_ATTEMPT, SpendRow
from .columns import DEFAULT_VERSION, columns_for

PRICING_BLOCK = 1_000_000
PRICING_UNIT = "1000000 Tokens"
DATA_SOURCE = "tokentrace estimate"
DAY = 86400
#: Decimal places of costs and unit prices: a nano-dollar is far below any invoice's precision,
#: and rounding there keeps float noise (0.30000000000000004) out of the files.
_DIGITS = 10

#: gen_ai.provider.name -> (service provider, service name, host provider) as a bill names them.
_PROVIDERS: Dict[str, Tuple[str, str, str]] = {
    "openai": ("OpenAI", "OpenAI API", "OpenAI"),
    "anthropic": ("Anthropic", "Claude API", "Anthropic"),
    "aws.bedrock": ("Amazon Web Services", "Amazon Bedrock", "Amazon Web Services"),
    "gcp.gemini": ("Google", "Gemini API", "Google"),
    "gcp.vertex_ai": ("Google Cloud", "Vertex AI", "Google Cloud"),
    "gcp.gen_ai": ("Google", "Gemini API", "Google"),
    "azure.ai.openai": ("Microsoft", "Azure OpenAI", "Microsoft"),
    "azure.ai.inference": ("Microsoft", "Azure AI Inference", "Microsoft"),
    "mistral_ai": ("Mistral AI", "Mistral API", "Mistral AI"),
    "groq": ("Groq", "GroqCloud", "Groq"),
    "deepseek": ("DeepSeek", "DeepSeek API", "DeepSeek"),
    "x_ai": ("xAI", "xAI API", "xAI"),
    "openrouter": ("OpenRouter", "OpenRouter", "OpenRouter"),
    "together_ai": ("Together AI", "Together API", "Together AI"),
}

#: Model name prefix -> the developer of the model (FOCUS SkuPriceDetails ``ModelDeveloper``).
_DEVELOPERS: Tuple[Tuple[str, str], ...] = (
    ("gpt-", "OpenAI"),
    ("o1", "OpenAI"),
    ("o3", "OpenAI"),
    ("o4", "OpenAI"),
    ("text-embedding-", "OpenAI"),
    ("chatgpt-", "OpenAI"),
    ("claude-", "Anthropic"),
    ("gemini-", "Google"),
    ("gemma-", "Google"),
    ("text-embedding-00", "Google"),
    ("llama", "Meta"),
    ("mistral", "Mistral AI"),
    ("ministral", "Mistral AI"),
    ("codestral", "Mistral AI"),
    ("deepseek", "DeepSeek"),
    ("grok", "xAI"),
    ("nova", "Amazon"),
    ("titan", "Amazon"),
    ("command", "Cohere"),
    ("qwen", "Alibaba"),
)

#: token type -> (SkuMeter, SkuId suffix, SkuPriceId suffix, TokenDirection, CacheAction, cache TTL)
_SKUS: Dict[str, Tuple[str, str, str, str, str, Optional[str]]] = {
    "input": ("Input Tokens", "input", "input-uncached", "Input", "None", None),
    "cache_read": ("Input Tokens", "input", "input-cache-read", "Input", "Read", None),
    "cache_write_5m": ("Input Tokens", "input", "input-cache-write-5m", "Input", "Write", "5m"),
    "cache_write_1h": ("Input Tokens", "input", "input-cache-write-1h", "Input", "Write", "1h"),
    "output": ("Output Tokens", "output", "output", "Output", "None", None),
}

_SNAPSHOT = re.compile(r"^(?P<family>.+?)-(?P<version>\d{4}-\d{2}-\d{2}|\d{8})$")


@dataclass
class _Cell:
    tokens: int = 0
    list_cost: float = 0.0
    effective_cost: float = 0.0
    priced: bool = True
    calls: int = 0
    reasoning: int = 0
    statuses: Set[str] = field(default_factory=set)
    usage_sources: Set[str] = field(default_factory=set)
    requested: Set[str] = field(default_factory=set)
    rerouted: bool = False


def focus_rows(
    rows: Iterable[SpendRow],
    *,
    version: str = DEFAULT_VERSION,
    billing_account: Optional[str] = None,
) -> List[Dict[str, Any]]:
    """FOCUS records (column -> value, every column of ``version`` present) for ``rows``.

    ``billing_account`` names the account the charges belong to (default: the provider's
    name); datetimes are timezone-aware UTC ``datetime`` objects, numbers are floats/ints,
    JSON columns are compact JSON text. For a long period, :func:`iter_focus_rows` over
    day-ordered rows yields the same records without holding them all.
    """
    columns_for(version)
    ordered = sorted(rows, key=lambda r: r.period_start)
    return list(iter_focus_rows(ordered, version=version, billing_account=billing_account))


def iter_focus_rows(
    rows: Iterable[SpendRow],
    *,
    version: str = DEFAULT_VERSION,
    billing_account: Optional[str] = None,
) -> Iterator[Dict[str, Any]]:
    """The records of :func:`focus_rows`, one UTC day at a time, for ``rows`` ordered by day.

    Memory holds one day's cells, so a month of a fleet streams into a file. The rows must come
    in day order (as :func:`~tokentrace.ledger.reader.aggregate_rows` yields them): a day seen
    again after a later one raises ``ValueError`` rather than split one charge into two rows.
    """
    columns = columns_for(version)
    done = -math.inf
    for day, day_rows in itertools.groupby(rows, key=lambda r: math.floor(r.period_start / DAY) * DAY):
        if day <= done:
            raise ValueError("iter_focus_rows: rows must come in day order (sort them by period_start, or use focus_rows)")
        done = day
        cells, calls_by_day = _cells(day_rows)
        for key in sorted(cells, key=lambda k: (k[0], k[1], k[2], k[5], k[3], k[4])):
            day_start, provider, model, token_type, tier, dims_text = key
            cell = cells[key]
            if token_type == "input":
                cell.calls = calls_by_day.get((day_start, provider, model, tier, dims_text), cell.calls)
            record = _record(day_start, provider, model, token_type, tier, json.loads(dims_text), cell, billing_account)
            yield {column: record.get(column) for column in columns}


def _cells(rows: Iterable[SpendRow]) -> Tuple[Dict[Tuple[Any, ...], _Cell], Dict[Tuple[Any, ...], int]]:
    cells: Dict[Tuple[Any, ...], _Cell] = {}
    calls: Dict[Tuple[Any, ...], int] = {}
    reasoning: Dict[Tuple[Any, ...], int] = {}
    dims_texts: Dict[Tuple[Tuple[str, str], ...], str] = {}
    for row in rows:
        if row.usage_source == USAGE_SOURCE_ATTEMPT:  # possibly billed attempts are not charges
            continue
        day = math.floor(row.period_start / DAY) * DAY
        dims_key = tuple(sorted(row.dimensions.items()))
        dims_text = dims_texts.get(dims_key)
        if dims_text is None:
            dims_text = dims_texts[dims_key] = json.dumps(_tags(row.dimensions), sort_keys=True, separators=(",", ":"))
        tier = row.service_tier or ""
        group = (day, row.provider, row.model, tier, dims_text)
        calls[group] = calls.get(group, 0) + row.calls
        if row.token_type == "reasoning":
            reasoning[group] = reasoning.get(group, 0) + row.tokens
            continue
        if row.token_type not in _SKUS or (row.tokens == 0 and row.token_type != "input"):
            continue
        key = (day, row.provider, row.model, row.token_type, tier, dims_text)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = _Cell()
        cell.tokens += row.tokens
        if row.effective_cost_usd is None:
            cell.priced = False
        else:
            cell.effective_cost += row.effective_cost_usd
            cell.list_cost += row.list_cost_usd if row.list_cost_usd is not None else row.effective_cost_usd
        if row.cost_status:
            cell.statuses.add(row.cost_status)
        if row.usage_source:
            cell.usage_sources.add(row.usage_source)
        if row.request_model:
            cell.requested.add(row.request_model)
        cell.rerouted = cell.rerouted or bool(row.rerouted)
    for (day, provider, model, tier, dims_text), count in reasoning.items():
        cell = cells.get((day, provider, model, "output", tier, dims_text))
        if cell is not None:
            cell.reasoning += count
    # Rows of calls without usage (failed, blocked) keep their input row only when they counted calls.
    for key in [k for k, c in cells.items() if k[3] == "input" and c.tokens == 0]:
        if calls.get((key[0], key[1], key[2], key[4], key[5]), 0) == 0:
            del cells[key]
    return cells, calls


def _tags(dimensions: Dict[str, str]) -> Dict[str, str]:
    return {(name[4:] if name.startswith("tag.") else name): value for name, value in dimensions.items()}


def _record(
    day: float,
    provider: str,
    model: str,
    token_type: str,
    tier: str,
    tags: Dict[str, str],
    cell: _Cell,
    billing_account: Optional[str],
) -> Dict[str, Any]:
    service_provider, service_name, host_provider = _PROVIDERS.get(provider, (provider, f"{provider} API", provider))
    meter, sku_suffix, price_suffix, direction, cache_action, ttl = _SKUS[token_type]
    model_id = model or "unknown-model"
    tier_suffix = f"-{tier}" if tier and tier not in ("default", "standard", "on_demand", "auto") else ""
    start = datetime.fromtimestamp(day, tz=timezone.utc)
    end = datetime.fromtimestamp(day + DAY, tz=timezone.utc)
    period_start = start.replace(day=1)
    period_end = (period_start.replace(year=period_start.year + 1, month=1) if period_start.month == 12 else period_start.replace(month=period_start.month + 1))
    quantity = cell.tokens / PRICING_BLOCK
    list_cost = round(cell.list_cost, _DIGITS) if cell.priced else 0.0
    effective = round(cell.effective_cost, _DIGITS) if cell.priced else 0.0
    details: Dict[str, Any] = {}
    developer = _developer(model_id)
    if developer:
        details["ModelDeveloper"] = developer
    family, version = _family_and_version(model_id)
    details["ModelFamily"] = family
    details["ModelId"] = model_id
    if version:
        details["ModelVersion"] = version
    details["TokenDirection"] = direction
    details["CacheAction"] = cache_action
    if ttl:
        details["CacheTtl"] = ttl
    if tier:
        details["ServiceTier"] = tier
    statuses = sorted(cell.statuses) or ["priced"]
    account = billing_account or provider
    return {
        "BilledCost": effective,
        "BillingAccountId": account,
        "BillingAccountName": account,
        "BillingCurrency": "USD",
        "BillingPeriodEnd": period_end,
        "BillingPeriodStart": period_start,
        "ChargeCategory": "Usage",
        "ChargeDescription": f"{model_id} {meter.lower()} ({price_suffix.replace('-', ' ')}), estimated by tokentrace",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodEnd": end,
        "ChargePeriodStart": start,
        "ConsumedQuantity": float(cell.tokens),
        "ConsumedUnit": "Tokens",
        "ContractedCost": effective,
        "ContractedUnitPrice": _unit_price(effective, quantity) if cell.priced else None,
        "EffectiveCost": effective,
        "HostProviderName": host_provider,
        "InvoiceIssuerName": service_provider,
        "ListCost": list_cost,
        "ListUnitPrice": _unit_price(list_cost, quantity) if cell.priced else None,
        "PricingCategory": "Standard",
        "PricingQuantity": quantity,
        "PricingUnit": PRICING_UNIT,
        "ProviderName": service_provider,
        "PublisherName": developer or service_provider,
        "ServiceCategory": "AI and Machine Learning",
        "ServiceName": service_name,
        "ServiceProviderName": service_provider,
        "ServiceSubcategory": "Generative AI",
        "SkuId": f"{model_id}-{sku_suffix}",
        "SkuMeter": meter,
        "SkuPriceDetails": json.dumps(details, separators=(",", ":")),
        "SkuPriceId": f"{model_id}-{price_suffix}{tier_suffix}",
        "Tags": json.dumps(tags, sort_keys=True, separators=(",", ":")),
        "x_DataSource": DATA_SOURCE,
        "x_CostStatus": ",".join(statuses),
        "x_UsageSource": ",".join(sorted(cell.usage_sources)) or None,
        "x_ReasoningTokens": cell.reasoning if token_type == "output" else None,
        "x_Calls": cell.calls if token_type == "input" else None,
        "x_RequestedModels": ",".join(sorted(cell.requested)) or None,
        "x_Rerouted": cell.rerouted,
        "x_ServiceTier": tier or None,
    }


def _unit_price(cost: float, quantity: float) -> Optional[float]:
    return round(cost / quantity, _DIGITS) if quantity else None


def _developer(model: str) -> Optional[str]:
    name = model.lower().rsplit("/", 1)[-1]
    for region in ("us.", "eu.", "apac.", "global."):
        if name.startswith(region):
            name = name[len(region):]
    if "." in name.split("-", 1)[0]:  # Bedrock ids: anthropic.claude-..., meta.llama3-...
        name = name.split(".", 1)[1]
    for prefix, developer in _DEVELOPERS:
        if name.startswith(prefix):
            return developer
    return None


def _family_and_version(model: str) -> Tuple[str, Optional[str]]:
    match = _SNAPSHOT.match(model)
    if match:
        return match.group("family"), match.group("version")
    return model, None
