"""Build tokentrace's base price data from the installed ``genai-prices`` package (Pydantic, MIT).

Why a conversion and not a dependency: genai-prices is the best maintained open price list (47
providers, dated prices, cliff tiers, batch / flex / priority variants), but importing it costs
hundreds of milliseconds and pulls pydantic into every instrumented process, and its newest data
is fetched from the network. tokentrace therefore converts the installed package's data once,
offline, into a compact JSON file (``data/genai_prices.json``) that ships with tokentrace and is
read at ``instrument()`` time without any network. ``tokentrace prices update`` re-runs this
conversion against whatever genai-prices version is installed; maintainers commit the result.

The conversion evaluates genai-prices' own ``ModelInfo.get_prices`` at every date where a price
or a variant changes, so the result is what genai-prices itself would charge, in tokentrace's
rate-card shape:

* per-key tiered prices become cliff tier cards (all rates switch once total input exceeds the
  threshold: the same rule);
* variant rates (``processing=batch``, ``service_tier=flex|priority``) become the batch / flex /
  priority cards. genai-prices dates them from when it started modelling them (2026-10-12/14),
  not from when providers started charging them; before that date the variant keeps its ratio to
  the standard price (stated in the disagreements list, since genai-prices prices such calls at
  standard rates);
* time-of-day prices (DeepSeek off-peak) become daily windows;
* model ``match`` clauses are kept as data and evaluated by :mod:`tokentrace.pricing.matching`.

Prices per request, per search or per page (web search fees, OCR pages) have no place in a
token rate card; they are counted in the metadata so the disagreements list can name them.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .matching import build_index

#: genai-prices price key -> tokentrace rate name.
RATE_KEYS = {
    "input_mtok": "input",
    "cache_read_mtok": "cached_input",
    "cache_write_mtok": "cache_write",
    "cache_write_5m_mtok": "cache_write",
    "cache_write_1h_mtok": "cache_write_long",
    "output_mtok": "output",
    "input_audio_mtok": "input_audio",
    "output_audio_mtok": "output_audio",
    "input_image_mtok": "input_image",
}
#: tokentrace variant -> the genai-prices price context that selects it.
VARIANT_CONTEXTS = {
    "batch": {"processing": "batch"},
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
}
FORMAT_VERSION = 1
_EPOCH = dt.date(2000, 1, 1)


def _num(value: Decimal) -> float:
    return float(value)


def _clause(clause: Any) -> List[Any]:
    """genai-prices match clause -> ``[op, arg]`` lists (``eq``, ``sw``, ``ew``, ``in``, ``re``, ``or``, ``and``)."""
    name = type(clause).__name__
    if name == "ClauseEquals":
        return ["eq", clause.equals.lower()]
    if name == "ClauseStartsWith":
        return ["sw", clause.starts_with.lower()]
    if name == "ClauseEndsWith":
        return ["ew", clause.ends_with.lower()]
    if name == "ClauseContains":
        return ["in", clause.contains.lower()]
    if name == "ClauseRegex":
        return ["re", clause.regex]
    if name == "ClauseOr":
        return ["or", [_clause(c) for c in clause.or_]]
    if name == "ClauseAnd":
        return ["and", [_clause(c) for c in clause.and_]]
    raise ValueError(f"unknown genai-prices match clause {name}")


def _equals(clause: Any) -> List[str]:
    """Strings an ``or`` of ``equals`` clauses accepts outright (the exact-name fast path)."""
    name = type(clause).__name__
    if name == "ClauseEquals":
        return [clause.equals.lower()]
    if name == "ClauseOr":
        return [s for c in clause.or_ for s in _equals(c)]
    return []


def _card(price: Any) -> Tuple[Dict[str, Any], List[str]]:
    """A genai-prices ModelPrice -> (tokentrace card dict, price keys it could not represent)."""
    from genai_prices.types import TieredPrices

    flat: Dict[str, float] = {}
    tiered: Dict[str, Any] = {}
    dropped: List[str] = []
    for key, value in price.__dict__.items():
        if key.startswith("_") or value is None:
            continue
        rate = RATE_KEYS.get(key)
        if rate is None:
            dropped.append(key)
            continue
        if key == "cache_write_mtok" and "cache_write_5m_mtok" in price.__dict__ and price.__dict__["cache_write_5m_mtok"] is not None:
            continue
        if isinstance(value, TieredPrices):
            tiered[rate] = value
            flat[rate] = _num(value.base)
        else:
            flat[rate] = _num(value)
    card: Dict[str, Any] = dict(flat)
    if tiered:
        thresholds = sorted({tier.start for value in tiered.values() for tier in value.tiers})
        tiers = []
        for threshold in thresholds:
            rates = dict(flat)
            for rate, value in tiered.items():
                applicable = value.base
                for tier in value.tiers:
                    if tier.start <= threshold:
                        applicable = tier.price
                rates[rate] = _num(applicable)
            tiers.append([threshold, rates])
        card["tiers"] = tiers
    return card, dropped


def _boundaries(model: Any) -> List[dt.date]:
    from genai_prices.types import StartDateConstraint

    dates = {_EPOCH}
    prices = model.prices if isinstance(model.prices, list) else []
    for conditional in prices:
        if isinstance(conditional.constraint, StartDateConstraint):
            dates.add(conditional.constraint.start_date)
    for variant in model.price_variants or ():
        if isinstance(variant.constraint, StartDateConstraint):
            dates.add(variant.constraint.start_date)
    return sorted(dates)


def _windows(model: Any) -> List[Tuple[dt.time, dt.time]]:
    from genai_prices.types import TimeOfDateConstraint

    prices = model.prices if isinstance(model.prices, list) else []
    found = []
    seen_tod = False
    for conditional in prices:
        constraint = conditional.constraint
        if isinstance(constraint, TimeOfDateConstraint):
            seen_tod = True
            found.append((constraint.start_time, constraint.end_time))
        elif seen_tod and constraint is not None:
            raise ValueError(f"{model.id}: a dated price after a time-of-day price is not supported")
    return found


def _seconds(value: dt.time) -> int:
    if value.tzinfo is not None:
        offset = value.utcoffset() or dt.timedelta(0)
        base = dt.datetime.combine(_EPOCH, value.replace(tzinfo=None)) - offset
        value = base.time()
    return value.hour * 3600 + value.minute * 60 + value.second


def _quiet_time(windows: Sequence[Tuple[int, int]]) -> int:
    """A second of the day inside no window (where the dated, not the daily, price applies)."""
    for candidate in range(0, 86400, 900):
        if not any(_inside(candidate, start, end) for start, end in windows):
            return candidate
    raise ValueError("time-of-day windows cover the whole day")


def _inside(second: int, start: int, end: int) -> bool:
    return start <= second < end if start <= end else second >= start or second < end


def _at(day: dt.date, second: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.timezone.utc) + dt.timedelta(seconds=second)


def _cards_at(model: Any, when: dt.datetime, dropped: set) -> Dict[str, Dict[str, Any]]:
    standard, lost = _card(model.get_prices(when))
    dropped.update(lost)
    cards = {"standard": standard}
    for variant, context in VARIANT_CONTEXTS.items():
        card, lost = _card(model.get_prices(when, context))
        dropped.update(lost)
        if card != standard:
            cards[variant] = card
    return cards


def _scale(card: Dict[str, Any], ratio_of: Dict[str, Any], ratio_to: Dict[str, Any]) -> Dict[str, Any]:
    """``card`` expressed with ``ratio_of``/``ratio_to`` ratios (back-dating a variant to an older standard)."""

    def one(rates: Dict[str, Any], base_now: Dict[str, Any], base_then: Dict[str, Any]) -> Dict[str, Any]:
        scaled: Dict[str, Any] = {}
        for key, value in rates.items():
            if key == "tiers":
                continue
            now = base_now.get(key)
            then = base_then.get(key)
            scaled[key] = value if not now or then is None else round(value * then / now, 10)
        return scaled

    result = one(card, ratio_of, ratio_to)
    if "tiers" in ratio_to and "tiers" in card:
        tiers = []
        card_tiers = {t[0]: t[1] for t in card.get("tiers", [])}
        of_tiers = {t[0]: t[1] for t in ratio_of.get("tiers", [])}
        for threshold, rates in ratio_to["tiers"]:
            tiers.append([threshold, one(card_tiers.get(threshold, card), of_tiers.get(threshold, ratio_of), rates)])
        result["tiers"] = tiers
    return result


def convert_model(model: Any) -> Dict[str, Any]:
    """One genai-prices ModelInfo -> tokentrace's JSON model record."""
    dropped: set = set()
    windows = [(_seconds(a), _seconds(b)) for a, b in _windows(model)]
    quiet = _quiet_time(windows) if windows else 43200
    points: List[Dict[str, Any]] = []
    for day in _boundaries(model):
        cards = _cards_at(model, _at(day, quiet), dropped)
        point: Dict[str, Any] = {"from": None if day == _EPOCH else day.isoformat(), "cards": cards}
        if not points or points[-1]["cards"] != cards:
            points.append(point)
    # Variants genai-prices dates late (it started modelling them then): back-date them with
    # the same ratio to the standard rates, so a batch call before that date is not priced at
    # the full standard rate.
    for variant in VARIANT_CONTEXTS:
        first = next((i for i, p in enumerate(points) if variant in p["cards"]), None)
        if first is None or first == 0:
            continue
        reference = points[first]["cards"]
        for point in points[:first]:
            point["cards"][variant] = _scale(reference[variant], reference["standard"], point["cards"]["standard"])
            point["backdated"] = sorted(set(point.get("backdated", [])) | {variant})
    merged: List[Dict[str, Any]] = []
    for point in points:
        if merged and merged[-1]["cards"] == point["cards"]:
            continue
        merged.append(point)
    points = merged
    if windows:
        daily = []
        for start, end in windows:
            daily.append([start, end, _cards_at(model, _at(dt.date(2100, 1, 1), start), dropped)])
        for point in points:
            point["daily"] = daily
    record: Dict[str, Any] = {"id": model.id.lower(), "match": _clause(model.match), "points": points}
    if model.name:
        record["name"] = model.name
    if model.deprecated:
        record["deprecated"] = True
    if dropped:
        record["unmodelled"] = sorted(dropped)
    return record


def build(providers: Optional[Sequence[Any]] = None) -> Dict[str, Any]:
    """The whole data file as a JSON-ready dict, from ``genai_prices.data.providers``."""
    import genai_prices
    from genai_prices.data import providers as installed

    version = getattr(genai_prices, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("genai-prices")
    result: Dict[str, Any] = {
        "format": FORMAT_VERSION,
        "source": {
            "package": "genai-prices",
            "version": version,
            "license": "MIT, Copyright (c) Pydantic Services Inc. 2025 to present",
            "url": "https://github.com/pydantic/genai-prices",
        },
        "providers": {},
    }
    for provider in providers if providers is not None else installed:
        models = [convert_model(m) for m in provider.models]
        exact: Dict[str, int] = {}
        for index, model in enumerate(provider.models):
            for name in _equals(model.match):
                # Only a name the ordered scan itself gives to this model may skip the scan.
                if name not in exact and provider._match_model(name) is model:  # noqa: SLF001
                    exact[name] = index
        result["providers"][provider.id] = {
            "name": provider.name,
            "pricing_urls": list(provider.pricing_urls or []),
            "api_pattern": provider.api_pattern,
            "fallback": list(provider.fallback_model_providers or []),
            "models": models,
            "exact": exact,
        }
    return result


def dumps(data: Dict[str, Any]) -> str:
    """Stable JSON, one model per line, so a diff shows which prices changed and
    :class:`~tokentrace.pricing.base_data.BaseData` can parse a model's line only when it is used.

    Each provider's first line holds everything but the models, including every model's match
    rule in order (``"match"``) and their prefix index (``"index"``, :func:`~.matching.build_index`),
    so resolving a name needs no model line and tries only the rules its prefix allows; the
    ``"models"`` lines follow, one JSON object each, in the same order.
    """

    def compact(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    lines = ["{"]
    for key, value in sorted((k, v) for k, v in data.items() if k != "providers"):
        lines.append(f"{json.dumps(key)}: {compact(value)},")
    lines.append('"providers": {')
    providers = sorted(data["providers"].items())
    for index, (pid, provider) in enumerate(providers):
        models = provider["models"]
        head = {k: v for k, v in provider.items() if k != "models"}
        head["match"] = [m["match"] for m in models]
        # Which rules a name's prefix leaves possible: a first lookup tries only those.
        head["index"] = build_index(head["match"], head.get("exact", {}))
        lines.append(f"{json.dumps(pid)}: {compact(head)[:-1]},")
        lines.append('"models": [')
        lines.extend(compact({k: v for k, v in m.items() if k != "match"}) + ("," if i < len(models) - 1 else "") for i, m in enumerate(models))
        lines.append("]}" + ("," if index < len(providers) - 1 else ""))
    lines.append("}}")
    return "\n".join(lines) + "\n"
