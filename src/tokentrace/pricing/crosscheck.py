"""Compare tokentrace's prices with the installed genai-prices, model by model, and explain every difference.

Used by the test suite (every shared model, several usage shapes, every date a price changes)
and by ``tokentrace prices update``, which writes the result to ``data/DISAGREEMENTS.md`` so the
list of places where tokentrace charges something else than genai-prices is generated, never
hand-kept. A difference is *explained* when tokentrace's curated overlay lists the model (its
``reason``), a provider-wide rule filled a rate genai-prices lacks, a variant was back-dated, or
genai-prices bills a unit tokentrace's rate cards have no place for (a per-request fee). Anything
else is reported as unexplained, and the test fails on it.

Needs genai-prices installed; nothing at runtime imports this module.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from ..records.call import Usage
from .rates import STANDARD, PriceHistory

#: Usage shapes priced on both sides: plain, cached with 5 min and 1 h writes, and long context.
SHAPES: Tuple[Dict[str, int], ...] = (
    dict(input_tokens=10_000, output_tokens=2_000),
    dict(input_tokens=40_000, cache_read_tokens=20_000, cache_write_tokens=8_000, cache_write_1h_tokens=3_000, output_tokens=1_500),
    dict(input_tokens=300_000, cache_read_tokens=50_000, output_tokens=3_000),
)
VARIANTS = {"standard": None, "batch": {"processing": "batch"}, "flex": {"service_tier": "flex"}, "priority": {"service_tier": "priority"}}
_FLOOR = dt.date(2023, 3, 1)


@dataclass
class Difference:
    namespace: str
    model: str
    variant: str
    day: str
    ours: Optional[float]
    theirs: float
    shape: int
    reason: Optional[str]


def _usage_pair(shape: Dict[str, int]) -> Tuple[Usage, Any]:
    import genai_prices

    ours = Usage(
        input_tokens=shape["input_tokens"],
        output_tokens=shape["output_tokens"],
        cache_read_tokens=shape.get("cache_read_tokens", 0),
        cache_write_tokens=shape.get("cache_write_tokens", 0),
        cache_write_long_tokens=shape.get("cache_write_1h_tokens", 0),
    )
    theirs = genai_prices.Usage(**{k: v for k, v in shape.items() if v})
    if shape.get("cache_write_1h_tokens"):
        theirs.cache_write_5m_tokens = shape["cache_write_tokens"] - shape["cache_write_1h_tokens"]
    return ours, theirs


def _days(model: Any, ours: Optional[PriceHistory]) -> List[dt.date]:
    from genai_prices.types import StartDateConstraint

    days = {dt.date(2026, 11, 20)}
    constraints = [c.constraint for c in model.prices] if isinstance(model.prices, list) else []
    constraints += [v.constraint for v in model.price_variants or ()]
    for constraint in constraints:
        if isinstance(constraint, StartDateConstraint):
            days.add(constraint.start_date)
            days.add(constraint.start_date - dt.timedelta(days=1))
    for point in ours.points if ours else ():
        if point.effective_from:
            day = dt.date.fromisoformat(point.effective_from)
            days.update({day, day - dt.timedelta(days=1)})
    return sorted(d for d in days if d >= _FLOOR)


def compare(catalog: Any, providers: Optional[Sequence[Any]] = None) -> Iterator[Tuple[str, str, Optional[Difference]]]:
    """Yield (namespace, model id, difference or None) for every genai-prices model and check made."""
    from genai_prices.data import providers as installed

    shapes = [_usage_pair(shape) for shape in SHAPES]
    for provider in providers if providers is not None else installed:
        for model in provider.models:
            ours = catalog.history_for(provider.id, model.id)
            unmodelled = _unmodelled(model)
            for day in _days(model, ours):
                when = dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone.utc)
                for variant, context in VARIANTS.items():
                    if variant != STANDARD and not _variant_somewhere(model, ours, variant):
                        continue
                    for index, (our_usage, their_usage) in enumerate(shapes):
                        theirs = float(model.calc_price(their_usage, provider, genai_request_timestamp=when, price_context=context).total_price)
                        mine = None
                        if ours is not None:
                            point = ours.at(when.timestamp())
                            cards = point.cards_at(when.timestamp())
                            card = cards.get(variant) or cards[STANDARD]
                            mine = card.cost(our_usage)
                            if point.regional_factor != 1.0 and not model.id.startswith("global."):
                                mine *= point.regional_factor
                        if mine is not None and math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-12):
                            yield provider.id, model.id, None
                            continue
                        reason = catalog.explain(provider.id, model.id, variant, when.timestamp(), unmodelled)
                        if variant != STANDARD and reason:
                            plain = float(model.calc_price(their_usage, provider, genai_request_timestamp=when).total_price)
                            if math.isclose(plain, theirs, rel_tol=1e-12):
                                reason = f"genai-prices has no {variant} rate on this date and bills standard rates; " + reason
                        yield provider.id, model.id, Difference(provider.id, model.id, variant, day.isoformat(), mine, theirs, index, reason)


def _variant_somewhere(model: Any, ours: Optional[PriceHistory], variant: str) -> bool:
    context = VARIANTS[variant]
    if any(all(v.when.get(k) == w for k, w in (context or {}).items()) for v in model.price_variants or ()):
        return True
    return bool(ours) and any(variant in p.cards for p in ours.points)  # type: ignore[union-attr]


def _unmodelled(model: Any) -> List[str]:
    from .genai_import import RATE_KEYS

    keys = set()
    prices = [model.prices] if not isinstance(model.prices, list) else [c.prices for c in model.prices]
    prices += [v.prices for v in model.price_variants or ()]
    for price in prices:
        keys |= {k for k, v in price.__dict__.items() if v is not None and not k.startswith("_") and k not in RATE_KEYS}
    return sorted(keys)


def report(differences: Sequence[Difference], version: str, checks: int, models: int) -> str:
    """The markdown of ``data/DISAGREEMENTS.md``: one line per model, variant and reason."""
    grouped: Dict[Tuple[str, str, str, str], List[Difference]] = {}
    for diff in differences:
        grouped.setdefault((diff.namespace, diff.model, diff.variant, diff.reason or "UNEXPLAINED"), []).append(diff)
    lines = [
        "# Where tokentrace's prices differ from genai-prices",
        "",
        f"Generated by `tokentrace prices update` against genai-prices {version}: {models} models, {checks} priced checks",
        "(usage shapes x variants x every date a price changes). Each line is one model and price variant",
        "whose cost differs, the dates checked, an example (USD for shape #1-#3 of",
        "`tokentrace.pricing.crosscheck.SHAPES`) and the reason, taken from tokentrace's curated overlay",
        "(`data/prices.toml`). Regenerate it after changing either side; the test suite fails on any",
        "difference without a reason.",
        "",
        "| provider | model | variant | dates | example (ours / genai-prices) | reason |",
        "|---|---|---|---|---|---|",
    ]
    for (namespace, model, variant, reason), diffs in sorted(grouped.items()):
        days = sorted({d.day for d in diffs})
        span = days[0] if len(days) == 1 else f"{days[0]} .. {days[-1]} ({len(days)})"
        first = diffs[0]
        ours = "unpriced" if first.ours is None else f"{first.ours:.6g}"
        lines.append(f"| {namespace} | {model} | {variant} | {span} | #{first.shape + 1}: {ours} / {first.theirs:.6g} | {reason} |")
    return "\n".join(lines) + "\n"
