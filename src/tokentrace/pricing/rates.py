"""Rate cards and the cost arithmetic: the only code that runs per call once a model is resolved.

Rates are stored in USD per 1,000,000 tokens, exactly as price pages list them, and the sum is
divided once at the end, so a hand calculation on the price page gives the same float.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from typing import Dict, List, Optional, Sequence, Tuple

from ..records.call import Usage

#: Rate names a price entry may carry, in the order the CLI shows them.
RATE_FIELDS = (
    "input",
    "cached_input",
    "cache_write",
    "cache_write_long",
    "output",
    "input_audio",
    "output_audio",
    "input_image",
)

STANDARD = "standard"
BATCH = "batch"
FLEX = "flex"
PRIORITY = "priority"
VARIANTS = (BATCH, FLEX, PRIORITY)

#: Response ``service_tier`` values (OpenAI, Gemini, Anthropic, Bedrock, Vertex ``trafficType``)
#: -> price variant. OpenAI answers ``priority`` for requests sent with ``fast``.
SERVICE_TIER_VARIANT = {
    "flex": FLEX,
    "on_demand_flex": FLEX,
    "priority": PRIORITY,
    "fast": PRIORITY,
    "on_demand_priority": PRIORITY,
    "batch": BATCH,
}
#: Tier values that mean the standard price (reported by the providers for ordinary calls).
STANDARD_TIERS = frozenset(
    {"standard", "default", "auto", "on_demand", "scale", "reserved", "provisioned_throughput", "standard_only", ""}
)


def variant_for(service_tier: Optional[str], batch: bool = False) -> str:
    """The price variant for a call: batch first, then the service tier it reports."""
    if batch:
        return BATCH
    return SERVICE_TIER_VARIANT.get((service_tier or "").lower(), STANDARD)


class RateCard:
    """The complete rates of one model in one mode, with fallbacks already filled in.

    ``tiers`` are (threshold, card) pairs sorted by threshold: when a call's total input exceeds a
    threshold, every token of the call is billed on that card (the providers' "cliff" rule).
    """

    __slots__ = (
        "input",
        "cached_input",
        "cache_write",
        "cache_write_long",
        "output",
        "input_audio",
        "output_audio",
        "input_image",
        "tiers",
        "explicit",
    )

    def __init__(self, rates: Dict[str, float], tiers: Sequence[Tuple[int, RateCard]] = ()) -> None:
        #: The rates the source gave (the others are fallbacks), so rules can fill only what is missing.
        self.explicit = frozenset(rates)
        self.input = rates.get("input", 0.0)
        self.output = rates.get("output", 0.0)
        self.cached_input = rates.get("cached_input", self.input)
        self.cache_write = rates.get("cache_write", self.input)
        self.cache_write_long = rates.get("cache_write_long", self.cache_write)
        self.input_audio = rates.get("input_audio", self.input)
        self.output_audio = rates.get("output_audio", self.output)
        self.input_image = rates.get("input_image", self.input)
        self.tiers: Tuple[Tuple[int, RateCard], ...] = tuple(sorted(tiers, key=_threshold)) if tiers else ()

    def as_dict(self) -> Dict[str, float]:
        return {name: getattr(self, name) for name in RATE_FIELDS}

    def explicit_rates(self) -> Dict[str, float]:
        return {name: getattr(self, name) for name in RATE_FIELDS if name in self.explicit}

    def scaled(self, factor: float) -> RateCard:
        """Every rate (and every tier's) times ``factor``: a variant priced as a share of standard."""
        return RateCard(
            {k: v * factor for k, v in self.explicit_rates().items()} or {"input": 0.0},
            [(above, tier.scaled(factor)) for above, tier in self.tiers],
        )

    def with_rate(self, name: str, value_of: str, factor: float) -> RateCard:
        """This card with rate ``name`` set to ``factor`` x rate ``value_of`` where it was not given."""
        if name in self.explicit:
            return self
        rates = self.explicit_rates()
        rates[name] = getattr(self, value_of) * factor
        return RateCard(rates, [(above, tier.with_rate(name, value_of, factor)) for above, tier in self.tiers])

    def for_input(self, input_tokens: int) -> RateCard:
        """The card that applies to a call with this many input tokens (cliff tiers)."""
        card = self
        for threshold, tier in self.tiers:
            if input_tokens > threshold:
                card = tier
            else:
                break
        return card

    def cost(self, usage: Usage) -> float:
        """USD for ``usage`` (canonical shape: totals include their cached/reasoning/audio parts).

        Reasoning tokens are inside ``output_tokens`` and billed there once; audio and image
        tokens are taken out of the uncached input / the output and billed at their own rates.
        """
        total_in = usage.input_tokens
        card = self.for_input(total_in) if self.tiers else self
        cache_read = usage.cache_read_tokens
        writes = usage.cache_write_tokens
        long_writes = usage.cache_write_long_tokens
        audio_in = usage.input_audio_tokens
        image_in = usage.input_image_tokens
        audio_out = usage.output_audio_tokens
        plain_in = total_in - cache_read - writes - audio_in - image_in
        if plain_in < 0:
            plain_in = 0
        plain_out = usage.output_tokens - audio_out
        if plain_out < 0:
            plain_out = 0
        micro = (
            plain_in * card.input
            + cache_read * card.cached_input
            + (writes - long_writes) * card.cache_write
            + long_writes * card.cache_write_long
            + plain_out * card.output
        )
        if audio_in or image_in or audio_out:
            micro += audio_in * card.input_audio + image_in * card.input_image + audio_out * card.output_audio
        return micro / 1_000_000

    def parts(self, usage: Usage) -> Tuple[float, float, float, float, float]:
        """USD per billed token type: (uncached input, cache read, cache write 5 m, cache write 1 h, output).

        The same arithmetic as :meth:`cost`, kept apart so the per-call path stays one sum; audio
        and image input count as input, audio output as output. The parts add up to ``cost``
        (to float rounding).
        """
        card = self.for_input(usage.input_tokens) if self.tiers else self
        cache_read = usage.cache_read_tokens
        writes = usage.cache_write_tokens
        long_writes = usage.cache_write_long_tokens
        audio_in = usage.input_audio_tokens
        image_in = usage.input_image_tokens
        audio_out = usage.output_audio_tokens
        plain_in = max(0, usage.input_tokens - cache_read - writes - audio_in - image_in)
        plain_out = max(0, usage.output_tokens - audio_out)
        return (
            (plain_in * card.input + audio_in * card.input_audio + image_in * card.input_image) / 1_000_000,
            cache_read * card.cached_input / 1_000_000,
            (writes - long_writes) * card.cache_write / 1_000_000,
            long_writes * card.cache_write_long / 1_000_000,
            (plain_out * card.output + audio_out * card.output_audio) / 1_000_000,
        )


    def breakdown(self, usage: Usage) -> List[Tuple[str, int, float, float]]:
        """(token type, tokens, USD per 1M, USD) lines that add up to :meth:`cost` (for the CLI)."""
        card = self.for_input(usage.input_tokens) if self.tiers else self
        writes, long_writes = usage.cache_write_tokens, usage.cache_write_long_tokens
        plain_in = max(0, usage.input_tokens - usage.cache_read_tokens - writes - usage.input_audio_tokens - usage.input_image_tokens)
        plain_out = max(0, usage.output_tokens - usage.output_audio_tokens)
        lines = [
            ("input (uncached)", plain_in, card.input),
            ("cache read", usage.cache_read_tokens, card.cached_input),
            ("cache write 5m", writes - long_writes, card.cache_write),
            ("cache write 1h", long_writes, card.cache_write_long),
            ("input audio", usage.input_audio_tokens, card.input_audio),
            ("input image", usage.input_image_tokens, card.input_image),
            ("output" + (" (reasoning included)" if usage.reasoning_tokens else ""), plain_out, card.output),
            ("output audio", usage.output_audio_tokens, card.output_audio),
        ]
        return [(label, tokens, rate, tokens * rate / 1_000_000) for label, tokens, rate in lines if tokens]


class PricePoint:
    """One dated price of a model: the standard card and its batch / service-tier variants."""

    __slots__ = ("start", "effective_from", "source", "cards", "regional_factor", "kind", "daily", "reason")

    def __init__(
        self,
        start: float,
        effective_from: Optional[str],
        source: str,
        cards: Dict[str, RateCard],
        regional_factor: float = 1.0,
        kind: str = "chat",
        daily: Optional[Sequence[Tuple[int, int, Dict[str, RateCard]]]] = None,
        reason: Optional[str] = None,
    ) -> None:
        self.start = start
        self.effective_from = effective_from
        self.source = source
        self.cards = cards
        self.regional_factor = regional_factor
        self.kind = kind
        #: Time-of-day prices (DeepSeek off-peak): (start second, end second UTC, cards); a window
        #: that wraps midnight has start > end.
        self.daily = tuple(daily) if daily else None
        #: Why tokentrace's curated price differs from its base data, when it does.
        self.reason = reason

    def cards_at(self, when: Optional[float]) -> Dict[str, RateCard]:
        """The cards in force at Unix time ``when``: a daily window's if one is open, else the point's."""
        if self.daily is None:
            return self.cards
        if when is None:
            when = time.time()
        second = int(when) % 86400
        for start, end, cards in self.daily:
            if (start <= second < end) if start <= end else (second >= start or second < end):
                return cards
        return self.cards

    @property
    def standard(self) -> RateCard:
        return self.cards[STANDARD]


class PriceHistory:
    """Every dated price of one model, oldest first; picks the one in force at a given time."""

    __slots__ = ("name", "points", "_starts", "_only")

    def __init__(self, name: str, points: Sequence[PricePoint]) -> None:
        self.name = name
        self.points = tuple(points) if len(points) < 2 else tuple(sorted(points, key=_start))
        self._starts = [p.start for p in self.points]
        self._only = self.points[0] if len(self.points) == 1 else None

    def at(self, when: Optional[float]) -> PricePoint:
        """The price in force at Unix time ``when`` (now when ``None``).

        A call dated before the first known price uses the first price: a model is not free
        before its price was recorded.
        """
        if self._only is not None:
            return self._only
        if when is None:
            when = time.time()
        index = bisect_right(self._starts, when) - 1
        return self.points[index if index >= 0 else 0]

    @property
    def latest(self) -> PricePoint:
        return self.points[-1]


def _threshold(tier: Tuple[int, RateCard]) -> int:
    return tier[0]


def _start(point: PricePoint) -> float:
    return point.start
