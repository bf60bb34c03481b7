"""Model-name match rules from genai-prices' data, compiled into fast predicates.

genai-prices describes which names a model answers to with small clause trees (``equals``,
``starts_with``, ``ends_with``, ``contains``, ``regex``, ``or``, ``and``); a provider's models are
tried in order and the first match wins. The data file keeps those trees as ``[op, arg]`` lists;
this module turns each into one Python callable, folding an ``or`` of plain ``equals`` and
``starts_with`` clauses into a set lookup and one ``str.startswith(tuple)`` call, so scanning a
provider's hundred models for a name it has not seen costs a few microseconds.
"""

from __future__ import annotations

import re
from typing import Any, Callable, List

Predicate = Callable[[str], bool]


def compile_clause(clause: List[Any]) -> Predicate:
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
        search = re.compile(str(arg)).search
        return lambda name: search(name) is not None
    if op == "and":
        parts = [compile_clause(c) for c in arg]
        return lambda name: all(p(name) for p in parts)
    if op == "or":
        equals = frozenset(str(c[1]) for c in arg if c[0] == "eq")
        prefixes = tuple(str(c[1]) for c in arg if c[0] == "sw")
        others = [compile_clause(c) for c in arg if c[0] not in ("eq", "sw")]
        if not others:
            if not prefixes:
                return equals.__contains__
            return lambda name: name in equals or name.startswith(prefixes)
        return lambda name: name in equals or (bool(prefixes) and name.startswith(prefixes)) or any(p(name) for p in others)
    raise ValueError(f"unknown match clause {op!r}")
