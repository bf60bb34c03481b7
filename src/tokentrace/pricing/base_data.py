"""The base price data (converted from genai-prices, see :mod:`.genai_import`), read lazily.

``instrument()`` only parses the JSON file (a few milliseconds); a provider's match rules are
compiled the first time a call of that provider needs a name the exact-name index does not
have, and a model's rate cards are built the first time it is priced. Every price keeps its
source (genai-prices version and the provider's pricing page) and the date it took effect.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
import threading
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from .matching import Predicate, RuleIndex, build_index, candidates, compile_clause, slow_regexes
from .rates import STANDARD, PriceHistory, PricePoint, RateCard
from .resolve import dashed_date

_NEG_INF = float("-inf")


def _card(raw: Dict[str, Any]) -> RateCard:
    if "tiers" not in raw:
        return RateCard({k: float(v) for k, v in raw.items()})
    rates = {k: float(v) for k, v in raw.items() if k != "tiers"}
    tiers = [(int(above), RateCard({**rates, **{k: float(v) for k, v in tier.items()}})) for above, tier in raw["tiers"]]
    return RateCard(rates, tiers)


def _cards(raw: Dict[str, Any]) -> Dict[str, RateCard]:
    cards = {name: _card(card) for name, card in raw.items()}
    if STANDARD not in cards:
        cards[STANDARD] = RateCard({})
    return cards


def _start(day: Optional[str]) -> float:
    if not day:
        return _NEG_INF
    return float(calendar.timegm(dt.date.fromisoformat(day).timetuple()))


class _Namespace:
    """One genai-prices provider: exact-name index, ordered match rules, lazily built histories."""

    __slots__ = ("id", "name", "source", "raw", "lines", "matches", "exact", "fallback", "_index", "_predicates", "_histories", "_lock")

    def __init__(self, pid: str, raw: Dict[str, Any], version: str, lines: Optional[List[str]] = None) -> None:
        self.id = pid
        self.name = raw.get("name") or pid
        urls = raw.get("pricing_urls") or []
        self.source = f"genai-prices {version}" + (f" ({urls[0]})" if urls else "")
        #: Parsed model records (index -> dict), or the raw JSON lines they are parsed from on use.
        self.raw: Dict[int, Dict[str, Any]] = dict(enumerate(raw.get("models", [])))
        self.lines = lines
        self.matches: List[Any] = raw.get("match") or [m["match"] for m in raw.get("models", [])]
        self.exact: Dict[str, int] = {str(k): int(v) for k, v in raw.get("exact", {}).items()}
        self.fallback: Tuple[str, ...] = tuple(raw.get("fallback", ()))
        #: The rules' prefix index (:func:`~.matching.build_index`), from the data file or built on first use.
        self._index: Optional[RuleIndex] = raw.get("index")
        #: Rule position -> predicate, compiled when a name first needs that rule.
        self._predicates: Dict[int, Predicate] = {}
        if self._index is not None:
            for position in self._index.get("regex", ()):
                for pattern in slow_regexes(self.matches[position]):
                    re.compile(pattern)  # into re's cache: the rule's first use finds it compiled
        self._histories: Dict[int, PriceHistory] = {}
        self._lock = threading.Lock()

    def model(self, index: int) -> Dict[str, Any]:
        found = self.raw.get(index)
        if found is None:
            assert self.lines is not None
            found = json.loads(self.lines[index].rstrip(","))
            self.raw[index] = found
        return found

    def find(self, name: str) -> Optional[int]:
        """Index of the first model whose rules accept ``name`` (genai-prices' own order).

        Only the rules the prefix index leaves possible are tried, each compiled on first use.
        """
        index = self.exact.get(name)
        if index is not None:
            return index
        rules = self._index
        if rules is None:
            rules = self._build_index()
        predicates = self._predicates
        for position in candidates(rules, name):
            predicate = predicates.get(position)
            if predicate is None:
                predicate = predicates.setdefault(position, compile_clause(self.matches[position]))
            if predicate(name):
                return position
        dashed = dashed_date(name)
        if dashed != name:
            return self.find(dashed)
        return None

    def _build_index(self) -> RuleIndex:
        """A data file written before the index was stored: build it once (a few ms)."""
        with self._lock:
            if self._index is None:
                self._index = build_index(self.matches, self.exact)
            return self._index

    def history(self, index: int) -> PriceHistory:
        found = self._histories.get(index)
        if found is None:
            model = self.model(index)
            points = []
            for point in model["points"]:
                daily = [(int(a), int(b), _cards(cards)) for a, b, cards in point.get("daily", ())] or None
                reason = None
                if point.get("backdated"):
                    reason = "variant rates before genai-prices dates them: same ratio to the standard price (" + ", ".join(point["backdated"]) + ")"
                points.append(
                    PricePoint(_start(point.get("from")), point.get("from"), self.source, _cards(point["cards"]), daily=daily, reason=reason)
                )
            found = PriceHistory(model["id"], points)
            with self._lock:
                found = self._histories.setdefault(index, found)
        return found

    def __len__(self) -> int:
        return len(self.matches)

    def model_ids(self) -> Iterator[Tuple[int, str]]:
        for index in range(len(self.matches)):
            yield index, self.model(index)["id"]


class BaseData:
    """The converted genai-prices data: ``lookup(namespace, name)`` -> :class:`PriceHistory`."""

    def __init__(self, document: Dict[str, Any], origin: str) -> None:
        source = document.get("source", {})
        self.origin = origin
        self.version = str(source.get("version", "?"))
        self.package = str(source.get("package", "genai-prices"))
        self._namespaces = {pid: _Namespace(pid, raw, self.version) for pid, raw in document.get("providers", {}).items()}

    @classmethod
    def from_text(cls, text: str, origin: str) -> BaseData:
        """Parse the data file; the line layout :func:`~.genai_import.dumps` writes is read lazily
        (provider lines now, a model's line when it is first priced), any other valid JSON fully."""
        lazy = cls._lazy(text, origin)
        return lazy if lazy is not None else cls(json.loads(text), origin)

    @classmethod
    def _lazy(cls, text: str, origin: str) -> Optional[BaseData]:
        lines = text.split("\n")
        if len(lines) < 4 or lines[0] != "{" or '"providers": {' not in lines:
            return None
        split = lines.index('"providers": {')
        try:
            head = json.loads("{" + "".join(lines[1:split]).rstrip(",") + "}")
            data = cls({k: v for k, v in head.items()}, origin)
            position = split + 1
            while position < len(lines) and lines[position].startswith('"'):
                pid, _, rest = lines[position].partition(": ")
                provider = json.loads(rest.rstrip(",") + "}")
                if lines[position + 1] != '"models": [':
                    return None
                start = position + 2
                end = start
                while not lines[end].startswith("]}"):
                    end += 1
                models = lines[start:end]
                if len(models) != len(provider.get("match", ())):
                    return None
                key = json.loads(pid)
                data._namespaces[key] = _Namespace(key, provider, data.version, models)
                position = end + 1
        except (ValueError, IndexError):
            return None
        return data

    def namespaces(self) -> Sequence[str]:
        return tuple(self._namespaces)

    def has_namespace(self, namespace: str) -> bool:
        return namespace in self._namespaces

    def lookup(self, namespace: str, name: str) -> Optional[PriceHistory]:
        space = self._namespaces.get(namespace)
        if space is None:
            return None
        index = space.find(name)
        return None if index is None else space.history(index)

    def lookup_exact(self, namespace: str, name: str) -> Optional[PriceHistory]:
        space = self._namespaces.get(namespace)
        if space is None:
            return None
        index = space.exact.get(name)
        return None if index is None else space.history(index)

    def by_id(self, namespace: str, model_id: str) -> Optional[PriceHistory]:
        """A model by its genai-prices id (the cross-check; calls resolve by name rules instead)."""
        space = self._namespaces.get(namespace)
        if space is None:
            return None
        wanted = model_id.lower()
        for index, found in space.model_ids():
            if found == wanted:
                return space.history(index)
        return None

    def entries(self) -> Iterator[Tuple[str, PriceHistory]]:
        for pid, space in self._namespaces.items():
            for index, _ in space.model_ids():
                yield pid, space.history(index)

    def model_count(self) -> int:
        return sum(len(space) for space in self._namespaces.values())
