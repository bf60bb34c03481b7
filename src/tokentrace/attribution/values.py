"""Validation of attribution values: what a user passes to ``attribute()`` becomes clean strings.

Attribution ends up in span and metric attributes, in W3C baggage headers and in Prometheus
label values, so every value must be a short, printable string. Bad values are never allowed to
break the application: by default they are coerced (numbers to text, control characters
removed) or dropped, with one warning per key and problem. In strict mode (``strict=True`` in
``instrument()`` or ``TOKENTRACE_STRICT=true``) the same problems raise :class:`AttributionError`
at the line that opens the scope, so tests and development catch them early.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, Dict, Mapping, Set, Tuple

from ..core.config import ATTRIBUTION_TAG_KEY, STANDARD_ATTRIBUTION_KEYS
from ..core.safety import TokentraceError

logger = logging.getLogger("tokentrace")

#: Longest value kept; longer values are dropped (truncating could merge two distinct values).
MAX_VALUE_LENGTH = 256
#: The keys with a name of their own; anything else passed to ``attribute()`` is a free-form tag.
STANDARD_KEYS = STANDARD_ATTRIBUTION_KEYS

_TAG_KEY = ATTRIBUTION_TAG_KEY  # one rule for attribute() and TOKENTRACE_METRIC_ATTRIBUTES
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

_warned: Set[Tuple[str, str]] = set()
_warned_lock = threading.Lock()
_said_more = False  # True once the one line past MAX_WARNED was written
#: Distinct (key, problem) pairs warned about; tags are free-form, so this is bounded.
MAX_WARNED = 256


class AttributionError(TokentraceError, ValueError):
    """An attribution key or value tokentrace cannot use (raised only in strict mode)."""


def clean(raw: Mapping[str, Any], strict: bool) -> Dict[str, str]:
    """Return the usable ``key -> value`` pairs of ``raw``; ``None`` means "not given" and is skipped."""
    result: Dict[str, str] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key not in STANDARD_KEYS and not _TAG_KEY.match(str(key)):
            _problem(
                strict,
                key,
                "bad_key",
                f"attribution tag name {key!r} is not usable: a tag name starts with a letter "
                "and has at most 64 letters, digits, '_', '.' or '-'",
                "the tag is dropped",
            )
            continue
        text = _clean_value(key, value, strict)
        if text is not None:
            result[key] = text
    return result


def _clean_value(key: str, value: Any, strict: bool) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        _problem(
            strict,
            key,
            "type",
            f"attribution {key}= must be a string (or a number), got a {type(value).__name__}",
            "the value is dropped",
        )
        return None
    if not isinstance(value, str):
        # A user id is never written in clear, not even in a warning or an exception.
        shown = "" if key == "user" else f" ({value!r})"
        recorded = "it is hashed as a string" if key == "user" else f"it is recorded as the string {str(value)!r}"
        _problem(
            strict,
            key,
            "number",
            f"attribution {key}= is a {type(value).__name__}{shown}, not a string",
            recorded,
        )
        value = str(value)
    if _CONTROL.search(value):
        _problem(
            strict,
            key,
            "control",
            f"attribution {key}= contains control characters (newline, tab, ...)",
            "they are removed",
        )
        value = _CONTROL.sub("", value)
    value = value.strip()
    if not value:
        _problem(strict, key, "empty", f"attribution {key}= is empty", "it is dropped")
        return None
    if len(value) > MAX_VALUE_LENGTH:
        _problem(
            strict,
            key,
            "long",
            f"attribution {key}= is {len(value)} characters long, more than the {MAX_VALUE_LENGTH} allowed "
            "(use a short, stable name)",
            "it is dropped",
        )
        return None
    return value


def _problem(strict: bool, key: str, kind: str, problem: str, consequence: str) -> None:
    """Raise in strict mode; otherwise warn once per (key, kind of problem)."""
    if strict:
        raise AttributionError(f"{problem} (tokentrace strict mode)")
    global _said_more
    with _warned_lock:
        if (key, kind) in _warned:
            return
        if len(_warned) >= MAX_WARNED:  # free-form tag keys: bound the memory and the lines
            if _said_more:
                return
            _said_more = True
            consequence += " (further attribution warnings are not logged)"
        else:
            _warned.add((key, kind))
    logger.warning("tokentrace: %s; %s", problem, consequence)


def reset_warnings() -> None:
    """Forget which warnings were logged (tests observe the once-per-key rule with this)."""
    global _said_more
    with _warned_lock:
        _warned.clear()
        _said_more = False
