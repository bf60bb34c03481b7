"""Rate cards and the cost arithmetic: the only code that runs per call once a model is resolved.

Rates are stored in USD per 1,000,000 tokens, exactly as price pages list them, and the sum is
divided once at the end, so a hand calculation on the price page gives the same float.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from typing import Dict, Optional, Sequence, Tuple

from ..core.record import Usage

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

#: Response ``service_tier`` values (OpenAI, Gemini, Anthropic, Bedrock) -> price variant.
SERVICE_TIER_VARIANT = {
    "flex": FLEX,
    "on_demand_flex": FLEX,
    "priority": PRIORITY,
    "fast": PRIORITY,
    "on_demand_priority": PRIORITY,
    "batch": BATCH,
}


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
    )

    def __init__(self, rates: Dict[str, float], tiers: Sequence[Tuple[int, "RateCard"]] = ()) -> None:
        self.input = rates["input"]
        self.output = rates.get("output", 0.0)
        self.cached_input = rates.get("cached_input", self.input)
        self.cache_write = rates.get("cache_write", self.input)
        self.cache_write_long = rates.get("cache_write_long", self.cache_write)
        self.input_audio = rates.get("input_audio", self.input)
        self.output_audio = rates.get("output_audio", self.output)
        self.input_image = rates.get("input_image", self.input)
        self.tiers: Tuple[Tuple[int, RateCard], ...] = tuple(sorted(tiers, key=lambda t: t[0]))

    def as_dict(self) -> Dict[str, float]:
        return {name: getattr(self, name) for name in RATE_FIELDS}

    def for_input(self, input_tokens: int) -> "RateCard":
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


class PricePoint:
    """One dated price of a model: the standard card and its batch / service-tier variants."""

    __slots__ = ("start", "effective_from", "source", "cards", "regional_factor", "kind")

    def __init__(
        self,
        start: float,
        effective_from: Optional[str],
        source: str,
        cards: Dict[str, RateCard],
        regional_factor: float = 1.0,
        kind: str = "chat",
    ) -> None:
        self.start = start
        self.effective_from = effective_from
        self.source = source
        self.cards = cards
        self.regional_factor = regional_factor
        self.kind = kind

    @property
    def standard(self) -> RateCard:
        return self.cards[STANDARD]


class PriceHistory:
    """Every dated price of one model, oldest first; picks the one in force at a given time."""

    __slots__ = ("name", "points", "_starts", "_only")

    def __init__(self, name: str, points: Sequence[PricePoint]) -> None:
        self.name = name
        self.points = tuple(sorted(points, key=lambda p: p.start))
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
