"""Model-name match rules from genai-prices' data, compiled lazily into fast predicates.

genai-prices describes which names a model answers to with small clause trees (``equals``,
``starts_with``, ``ends_with``, ``contains``, ``regex``, ``or``, ``and``); a provider's models are
tried in order and the first match wins. The data file keeps those trees as ``[op, arg]`` lists.

A first lookup must stay within tens of microseconds, so nothing here is done for rules a name
cannot match:

* :func:`build_index` (run when the data file is generated, kept in it) maps each rule to the
  literal texts a name must start with (``starts_with``, ``equals``, a regex's ``^literal``
  head) or contain (``contains``, ``ends_with``) for the rule to accept it. A lookup tries only
  the rules whose anchors the name has, in the data's order, so the first match is the one a
  full scan would find.
* :func:`compile_clause` turns one rule into a callable when it is first tried. A regex costs
  ~50 µs to compile with :mod:`re`; the fixed-width shapes genai-prices uses
  (``^claude-opus-5[-@]\\d{8}$``) are matched by a small hand matcher instead, and only other
  patterns go to :mod:`re`.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Collection, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Union

Predicate = Callable[[str], bool]
#: ``build_index`` result: {"prefixes": {text: [rule ...]}, "lengths": [...], "contains": {key: [rule ...]},
#: "scan": [...], "regex": [...]}.
RuleIndex = Dict[str, Any]

_META = frozenset(".^$*+?{}[]()|\\")
_QUANTIFIERS = frozenset("*+?{")


# -- the prefix index ------------------------------------------------------------------------------

#: Anchor kinds: the name starts with the text, or contains it somewhere.
PREFIX = "^"
CONTAINS = "~"
#: Characters of a ``contains`` anchor kept as its index key (a shorter key groups more rules).
CONTAINS_KEY = 8
Anchor = Tuple[str, str]


def anchors(clause: Sequence[Any], exact: Collection[str] = ()) -> Optional[FrozenSet[Anchor]]:
    """(kind, text) anchors one of which every name ``clause`` accepts has: it starts with
    (:data:`PREFIX`) or contains (:data:`CONTAINS`) the text.

    ``None`` when there is no such anchor (the rule must always be tried); an empty set when the
    rule can accept no name that reaches the scan: an ``equals`` whose name is in the provider's
    exact-name index (``exact``) is answered by that index before any rule is tried.
    """
    op, arg = clause[0], clause[1]
    if op == "eq":
        text = str(arg)
        if text in exact:
            return frozenset()
        return frozenset({(PREFIX, text)}) if text else None
    if op == "sw":
        text = str(arg)
        return frozenset({(PREFIX, text)}) if text else None
    if op in ("in", "ew"):
        text = str(arg)
        return frozenset({(CONTAINS, text)}) if text else None
    if op == "re":
        head = regex_prefix(str(arg))
        return frozenset({(PREFIX, head)}) if head else None
    if op == "or":
        found: set = set()
        for part in arg:
            sub = anchors(part, exact)
            if sub is None:
                return None
            found |= sub
        return frozenset(found)
    if op == "and":
        best: Optional[FrozenSet[Anchor]] = None
        for part in arg:
            sub = anchors(part, exact)
            if sub is not None and not sub:
                return sub
            if sub is not None and (best is None or _strength(sub) > _strength(best)):
                best = sub
        return best
    return None


def _strength(found: FrozenSet[Anchor]) -> Tuple[bool, int]:
    """How selective an anchor set is: prefixes beat substrings, longer beats shorter."""
    return all(kind == PREFIX for kind, _ in found), min(len(text) for _, text in found)


def regex_prefix(pattern: str) -> str:
    """The literal text a ``^``-anchored pattern's every match starts with ("" when there is none)."""
    if not pattern.startswith("^") or "|" in pattern:
        return ""
    out: List[str] = []
    position = 1
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            escaped = pattern[position + 1 : position + 2]
            if not escaped or escaped.isalnum():
                break  # \d, \w, \b ...: a class, not a literal
            literal, position = escaped, position + 2
        elif char in _META:
            break
        else:
            literal, position = char, position + 1
        following = pattern[position : position + 1]
        if following and following in _QUANTIFIERS:
            if following == "+":
                out.append(literal)
            break
        out.append(literal)
    return "".join(out)


def build_index(matches: Sequence[Sequence[Any]], exact: Collection[str] = ()) -> RuleIndex:
    """The anchor index of a provider's ordered rules (stored in the data file by the generator).

    ``prefixes``: prefix -> rules (a name is looked up by its own prefixes, one dict hit per
    length in ``lengths``); ``contains``: the first :data:`CONTAINS_KEY` characters of a
    substring -> rules (a rule that mixes prefix and substring anchors is filed under substrings:
    a name that starts with a text contains it); ``scan``: rules with no anchor; ``regex``: rules
    with a pattern only :mod:`re` can match. ``exact``: the names the provider's exact-name index
    answers (see :func:`anchors`).
    """
    prefixes: Dict[str, List[int]] = {}
    contains: Dict[str, List[int]] = {}
    scan: List[int] = []
    for position, clause in enumerate(matches):
        found = anchors(clause, exact)
        if found is None:
            scan.append(position)
            continue
        if all(kind == PREFIX for kind, _ in found):
            for _, text in sorted(found):
                bucket = prefixes.setdefault(text, [])
                if not bucket or bucket[-1] != position:
                    bucket.append(position)
        else:
            for _, text in sorted(found):
                bucket = contains.setdefault(text[:CONTAINS_KEY], [])
                if not bucket or bucket[-1] != position:
                    bucket.append(position)
    slow = [position for position, clause in enumerate(matches) if slow_regexes(clause)]
    return {"prefixes": prefixes, "lengths": sorted({len(p) for p in prefixes}), "contains": contains, "scan": scan, "regex": slow}


def slow_regexes(clause: Sequence[Any]) -> List[str]:
    """The patterns in ``clause`` only :mod:`re` can match (compiled when the data is loaded, so
    no first lookup pays the ~50 µs a regex takes to compile)."""
    op, arg = clause[0], clause[1]
    if op == "re":
        return [] if _fixed_steps(str(arg)) is not None else [str(arg)]
    if op in ("or", "and"):
        return [pattern for part in arg for pattern in slow_regexes(part)]
    return []


def candidates(index: RuleIndex, name: str) -> List[int]:
    """Positions of the rules that may accept ``name``, in the data's order."""
    prefixes = index["prefixes"]
    found: List[int] = list(index["scan"])
    size = len(name)
    for length in index["lengths"]:
        if length > size:
            break
        hits = prefixes.get(name[:length])
        if hits:
            found += hits
    for key, hits in index.get("contains", {}).items():
        if key in name:
            found += hits
    if len(found) > 1:
        found = sorted(set(found))
    return found


# -- predicates -----------------------------------------------------------------------------------


def compile_clause(clause: Sequence[Any]) -> Predicate:
    """``[op, arg]`` -> predicate over a lower-cased model name."""
    op, arg = clause[0], clause[1]
    if op == "eq":
        text = str(arg)
        return text.__eq__
    if op == "sw":
        prefix = str(arg)
        return lambda name: name.startswith(prefix)
    if op == "ew":
        suffix = str(arg)
        return lambda name: name.endswith(suffix)
    if op == "in":
        part = str(arg)
        return lambda name: part in name
    if op == "re":
        return compile_regex(str(arg))
    if op == "and":
        # A conjunction: the cheap tests first, so a regex is rarely built for a name that fails.
        parts = [compile_clause(c) for c in sorted(arg, key=lambda c: c[0] == "re")]
        return lambda name: all(p(name) for p in parts)
    if op == "or":
        return _AnyOf(arg)
    raise ValueError(f"unknown match clause {op!r}")


class _AnyOf:
    """An ``or`` of clauses as one callable: its ``equals`` as a set, its ``starts_with`` /
    ``ends_with`` as one ``str`` call each, its ``contains`` as one loop, anything else after."""

    __slots__ = ("equals", "prefixes", "suffixes", "parts", "others")

    def __init__(self, clauses: Sequence[Sequence[Any]]) -> None:
        equals: List[str] = []
        prefixes: List[str] = []
        suffixes: List[str] = []
        parts: List[str] = []
        others: List[Predicate] = []
        lists = {"eq": equals, "sw": prefixes, "ew": suffixes, "in": parts}
        for clause in clauses:
            target = lists.get(clause[0])
            if target is None:
                others.append(compile_clause(clause))
            else:
                target.append(str(clause[1]))
        self.equals = frozenset(equals)
        self.prefixes = tuple(prefixes)
        self.suffixes = tuple(suffixes)
        self.parts = tuple(parts)
        self.others = tuple(others)

    def __call__(self, name: str) -> bool:
        if name in self.equals:
            return True
        if self.prefixes and name.startswith(self.prefixes):
            return True
        if self.suffixes and name.endswith(self.suffixes):
            return True
        for part in self.parts:
            if part in name:
                return True
        for other in self.others:
            if other(name):
                return True
        return False


#: One step of a fixed-width pattern: a literal, or ``count`` characters from a set (``None``: ``\d``).
_Step = Tuple[str, Union[FrozenSet[str], None, str], int]


def compile_regex(pattern: str) -> Predicate:
    """A predicate equal to ``re.search(pattern, name) is not None``, without ``re`` when it can."""
    steps = _fixed_steps(pattern)
    if steps is None:
        return _LazyRegex(pattern)
    parsed, anchored_end = steps
    return _FixedMatcher(tuple(parsed), anchored_end)


def _fixed_steps(pattern: str) -> Optional[Tuple[List[_Step], bool]]:
    """``^`` + literals, ``\\d``, ``[...]`` sets, each optionally ``{n}``, + optional ``$``; else None."""
    if not pattern.startswith("^"):
        return None
    body = pattern[1:]
    anchored_end = body.endswith("$") and not body.endswith("\\$")
    if anchored_end:
        body = body[:-1]
    steps: List[_Step] = []
    position = 0
    while position < len(body):
        char = body[position]
        if char == "\\":
            escaped = body[position + 1 : position + 2]
            if escaped == "d":
                step: _Step = ("set", None, 1)
            elif escaped and not escaped.isalnum():
                step = ("lit", escaped, 1)
            else:
                return None
            position += 2
        elif char == "[":
            close = body.find("]", position + 1)
            if close < 0:
                return None
            members = _char_set(body[position + 1 : close])
            if members is None:
                return None
            step = ("set", members, 1)
            position = close + 1
        elif char in _META:
            return None
        else:
            step = ("lit", char, 1)
            position += 1
        if body[position : position + 1] == "{":
            close = body.find("}", position)
            count_text = body[position + 1 : close] if close > 0 else ""
            if not count_text.isdigit():
                return None
            step = (step[0], step[1], int(count_text))
            position = close + 1
        elif body[position : position + 1] in _QUANTIFIERS:
            return None
        if step[0] == "lit":
            text = str(step[1]) * step[2]
            if steps and steps[-1][0] == "lit":
                steps[-1] = ("lit", str(steps[-1][1]) + text, 1)
            else:
                steps.append(("lit", text, 1))
        else:
            steps.append(step)
    return steps, anchored_end


def _char_set(text: str) -> Optional[FrozenSet[str]]:
    """The members of a ``[...]`` class of plain characters and ``a-z`` ranges; None otherwise."""
    if not text or text.startswith("^") or "\\" in text or "[" in text:
        return None
    members: Set[str] = set()
    position = 0
    while position < len(text):
        if position + 2 < len(text) and text[position + 1] == "-":
            low, high = text[position], text[position + 2]
            if ord(low) > ord(high):
                return None
            members.update(chr(c) for c in range(ord(low), ord(high) + 1))
            position += 3
        else:
            members.add(text[position])
            position += 1
    return frozenset(members)


class _FixedMatcher:
    """Matches a fixed-width anchored pattern from :func:`_fixed_steps` by slicing."""

    __slots__ = ("steps", "end")

    def __init__(self, steps: Tuple[_Step, ...], end: bool) -> None:
        self.steps = steps
        self.end = end

    def __call__(self, name: str) -> bool:
        position = 0
        for kind, what, count in self.steps:
            if kind == "lit":
                text = str(what)
                if not name.startswith(text, position):
                    return False
                position += len(text)
                continue
            stop = position + count
            if stop > len(name):
                return False
            chunk = name[position:stop]
            if what is None:
                if not chunk.isdecimal():  # re's \d: any Unicode decimal digit
                    return False
            elif not all(ch in what for ch in chunk):
                return False
            position = stop
        return position == len(name) if self.end else True


class _LazyRegex:
    """A regex compiled by :mod:`re` the first time it is needed."""

    __slots__ = ("pattern", "_search")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._search: Optional[Callable[[str], Any]] = None

    def __call__(self, name: str) -> bool:
        search = self._search
        if search is None:
            search = self._search = re.compile(self.pattern).search
        return search(name) is not None
