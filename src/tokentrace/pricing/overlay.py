"""tokentrace's corrections on top of the base data: aliases that moved, and provider-wide rules.

Two kinds of curated knowledge do not fit one model's price entry:

* **aliases that moved** (``[[alias]]``): from a date on, a name is billed as another model
  (DeepSeek's ``deepseek-chat`` / ``deepseek-reasoner`` are V4 Flash since 2026-04-24). The
  history becomes the name's own prices before that date and the target's from it on.
* **provider-wide rules** (``[[rule]]``): a variant or a rate the provider defines as a share of
  the standard price, for models whose data lacks it (OpenAI, Anthropic, Gemini, Bedrock and
  Mistral batch at 50 %; Gemini Flex at 50 % and Priority at +80 % since 2026-04-01; Mistral
  cached input at 10 %). A rule never replaces a rate the data gives.

Both are applied once per resolved model, when it is first priced.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Dict, List, Optional, Sequence

from .rates import STANDARD, PriceHistory, PricePoint, RateCard


@dataclass(frozen=True)
class Alias:
    namespace: str
    name: str
    target: str
    start: float
    effective_from: str
    source: str
    reason: str


@dataclass(frozen=True)
class Rule:
    namespace: str
    #: A variant to add (``batch``, ``flex``, ``priority``) as ``factor`` x the standard card ...
    variant: Optional[str]
    #: ... or a rate to fill (``cached_input``) as ``factor`` x the input rate.
    rate: Optional[str]
    factor: float
    models: str
    start: float
    effective_from: Optional[str]
    source: str
    reason: str

    def applies_to(self, namespace: str, name: str) -> bool:
        return namespace == self.namespace and (self.models == "*" or _glob(self.models)(name))


@lru_cache(maxsize=64)
def _glob(pattern: str) -> Callable[[str], bool]:
    """A matcher for a rule's ``models`` glob; ``gemini*`` is a prefix test (no regex to compile
    on a model's first lookup)."""
    head, star, rest = pattern.partition("*")
    if not any(ch in head for ch in "?[") and (not star or not rest):
        if star:
            return lambda name: name.startswith(head)
        return head.__eq__
    match = re.compile(fnmatch.translate(pattern)).match
    return lambda name: match(name) is not None


def with_alias(own: Optional[PriceHistory], target: PriceHistory, alias: Alias) -> PriceHistory:
    """``own`` prices before the alias moved, the target's (re-dated) from then on."""
    points: List[PricePoint] = [p for p in (own.points if own else ()) if p.start < alias.start]
    first = target.at(alias.start)
    points.append(_copy(first, alias.start, alias.effective_from, f"{alias.source}; then as {target.name}: {first.source}", alias.reason))
    points += [_copy(p, p.start, p.effective_from, f"{alias.source}; as {target.name}: {p.source}", alias.reason)
               for p in target.points if p.start > alias.start]
    return PriceHistory(alias.name, points)


def with_rules(history: PriceHistory, namespace: str, rules: Sequence[Rule]) -> PriceHistory:
    """``history`` with every matching rule applied from its date on (points split at that date)."""
    matching = [r for r in rules if r.applies_to(namespace, history.name)]
    if not matching:
        return history
    points = list(history.points)
    for rule in matching:
        points = _split(points, rule.start, rule.effective_from)
        points = [_apply(p, rule) if p.start >= rule.start else p for p in points]
    if all(a is b for a, b in zip(points, history.points, strict=False)) and len(points) == len(history.points):
        return history
    return PriceHistory(history.name, points)


def _split(points: List[PricePoint], start: float, day: Optional[str]) -> List[PricePoint]:
    if start == float("-inf") or any(p.start == start for p in points):
        return points
    result: List[PricePoint] = []
    for index, point in enumerate(points):
        result.append(point)
        following = points[index + 1].start if index + 1 < len(points) else float("inf")
        if point.start < start < following:
            result.append(_copy(point, start, day, point.source, point.reason))
    return result


def _apply(point: PricePoint, rule: Rule) -> PricePoint:
    cards = _apply_cards(point.cards, rule)
    daily = None
    if point.daily is not None:
        daily = [(a, b, _apply_cards(c, rule)) for a, b, c in point.daily]
    if cards is point.cards and daily is None:
        return point
    note = f"{rule.reason} ({rule.source})"
    copy = PricePoint(point.start, point.effective_from, point.source, cards, point.regional_factor, point.kind, daily or point.daily,
                      f"{point.reason}; {note}" if point.reason else note)
    return copy


def _apply_cards(cards: Dict[str, RateCard], rule: Rule) -> Dict[str, RateCard]:
    if rule.variant is not None:
        if rule.variant in cards:
            return cards
        return {**cards, rule.variant: cards[STANDARD].scaled(rule.factor)}
    assert rule.rate is not None
    changed = {name: card.with_rate(rule.rate, "input", rule.factor) for name, card in cards.items()}
    return changed if any(changed[n] is not cards[n] for n in cards) else cards


def _copy(point: PricePoint, start: float, effective_from: Optional[str], source: str, reason: Optional[str]) -> PricePoint:
    return PricePoint(start, effective_from, source, point.cards, point.regional_factor, point.kind, point.daily, reason)
