"""Reading values out of provider requests and responses that may be malformed.

Providers (and the compatible servers that imitate them) send nulls, strings, negative or
fractional numbers where a count belongs; the SDKs often pass them through unvalidated. Every
adapter reads them through these helpers, so a bad value becomes "absent" the same way for every
provider instead of an exception or a negative cost.
"""

from __future__ import annotations

from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from dataclasses import dataclass
from typing import Any, Optional

from ..core import numbers

#: A token count; anything that is not a whole number in range reads as a *marked* 0.
#: See :func:`tokentrace.core.numbers.count`: the mark survives the adapter's arithmetic, and the
#: pipeline turns it into ``tokentrace.cost.status=invalid_usage`` instead of a silent $0. (The
#: function itself, not a wrapper: it runs about ten times per call.)
token_count = numbers.count


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for a mapping, ``obj.name`` for an SDK object, ``None`` when absent."""
    if obj is None:
        return None
    if isinstance(obj, dict):  # the common cases first: plain dicts, then SDK objects
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None and isinstance(obj, Mapping):
        return obj.get(name)
    return value


def request_number(value: Any) -> Optional[float]:
    """A finite numeric request parameter (temperature, top_p ...) as a float, or ``None``."""
    return numbers.finite_number(value)


def request_integer(value: Any) -> Optional[int]:
    """An integer request parameter (max_tokens, seed ...) that fits OTLP's int64, or ``None``."""
    return numbers.bounded_integer(value)


@dataclass(frozen=True)
class ClientTarget:
    """Where an SDK client sends its requests; computed once per client and cached on it."""

    provider: str
    address: Optional[str]
    port: Optional[int]
