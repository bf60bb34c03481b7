"""Reading values out of provider requests and responses that may be malformed.

Providers (and the compatible servers that imitate them) send nulls, strings, negative or
fractional numbers where a count belongs; the SDKs often pass them through unvalidated. Every
adapter reads them through these helpers, so a bad value becomes "absent" the same way for every
provider instead of an exception or a negative cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional


def token_count(value: Any) -> int:
    """A token count, or 0 for anything that is not a non-negative whole number (NaN, inf, bool ...)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value if value >= 0 else 0
    if isinstance(value, float) and value >= 0 and value.is_integer():
        return int(value)
    return 0


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
    """A numeric request parameter (temperature, top_p ...) as a float, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def request_integer(value: Any) -> Optional[int]:
    """An integer request parameter (max_tokens, seed ...), or ``None``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


@dataclass(frozen=True)
class ClientTarget:
    """Where an SDK client sends its requests; computed once per client and cached on it."""

    provider: str
    address: Optional[str]
    port: Optional[int]
