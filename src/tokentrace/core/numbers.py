"""Every number from a provider or a config is checked here before it is counted or priced.

Compatible gateways and buggy proxies send fractional, negative, huge or non-numeric token
counts and absurd costs. Left alone, a fractional count became 0 and the call "priced" at $0
(a silent zero), one count above 2**63 made the OTLP exporter reject *every* metric batch for
the rest of the process, and a reported cost of 1e300 overflowed budget arithmetic. So:

* a count that is not a whole number in ``[0, MAX_TOKENS]`` reads as an :class:`InvalidCount`:
  an ``int`` worth 0 that remembers why. It stays marked through the adapters' own arithmetic
  (``a + b``, ``sum``), so the pipeline can still tell, at the end, that the usage it got was not
  what the provider meant, without every adapter having to carry a flag;
* :func:`usage_problems` lists what is wrong with a :class:`~tokentrace.records.call.Usage`
  (invalid fields, cache or reasoning subsets larger than their totals); the pipeline then gives
  the call ``tokentrace.cost.status=invalid_usage`` and no cost instead of $0;
* :func:`valid_cost` accepts a USD amount only when finite, non-negative and at most
  ``MAX_COST_USD``; anything else is ``invalid_cost``;
* :func:`otlp_int` bounds anything that goes into an OTLP int64 (span attributes, counter
  totals), so no single value can stop an export.
"""

from __future__ import annotations

import math
from typing import Any, List, Optional, Tuple

#: Largest value an OTLP (protobuf int64) integer can carry.
INT64_MAX = 2**63 - 1
#: More tokens than this in one call is a broken report, not a call (10 billion).
MAX_TOKENS = 10**10
#: A single call reported or computed above this many USD is a broken number, not a bill.
MAX_COST_USD = 1_000_000.0


class InvalidCount(int):
    """A token count that could not be used: worth 0 (or what arithmetic adds to it), marked.

    ``problem`` says why (``fractional``, ``negative``, ``too_large``, ``not_a_number``). Adding
    an ``InvalidCount`` to anything keeps the mark, so ``input + cache_read`` built by an adapter
    still tells the pipeline that one of its parts was invalid.
    """

    problem: str

    def __new__(cls, value: int = 0, problem: str = "invalid") -> InvalidCount:
        obj = super().__new__(cls, value)
        obj.problem = problem
        return obj

    def __repr__(self) -> str:
        return f"InvalidCount({int(self)}, {self.problem!r})"

    def _marked(self, value: Any) -> Any:
        return InvalidCount(value, self.problem) if isinstance(value, int) else value

    def __add__(self, other: Any) -> Any:
        return self._marked(int.__add__(self, other))

    def __radd__(self, other: Any) -> Any:
        return self._marked(int.__radd__(self, other))

    def __sub__(self, other: Any) -> Any:
        return self._marked(int.__sub__(self, other))

    def __rsub__(self, other: Any) -> Any:
        return self._marked(int.__rsub__(self, other))


def unreported(value: int) -> bool:
    """A count that is 0 because the field said nothing, not because it was invalid.

    Adapters fall back to another field when one is 0 (``if not cache_read: ...``); an invalid
    count is also worth 0, and such a fallback would wash its mark away.
    """
    return not value and not isinstance(value, InvalidCount)


def count(value: Any) -> int:
    """A token count: the value when it is a whole number in ``[0, MAX_TOKENS]``, else marked 0.

    ``None`` (field absent) is a plain 0: absence is normal, a wrong value is not.
    """
    if value.__class__ is int and 0 <= value <= MAX_TOKENS:  # the common case, first
        return value
    if value is None:
        return 0
    if isinstance(value, bool):
        return InvalidCount(0, "not_a_number")
    if isinstance(value, int):
        if value < 0:
            return InvalidCount(0, "negative")
        if value > MAX_TOKENS:
            return InvalidCount(0, "too_large")
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return InvalidCount(0, "not_a_number")
        if value < 0:
            return InvalidCount(0, "negative")
        if not value.is_integer():
            return InvalidCount(0, "fractional")
        if value > MAX_TOKENS:
            return InvalidCount(0, "too_large")
        return int(value)
    return InvalidCount(0, "not_a_number")


_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_long_tokens",
    "reasoning_tokens",
    "input_audio_tokens",
    "output_audio_tokens",
    "input_image_tokens",
)


_PLAIN_INT = {int}


def usage_problems(usage: Any) -> List[str]:
    """What is wrong with a usage report, as short ``field:problem`` strings (empty: nothing)."""
    if usage is None:
        return []
    values: Tuple[Any, ...]
    try:
        values = (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens,
            usage.cache_write_long_tokens,
            usage.reasoning_tokens,
            usage.input_audio_tokens,
            usage.output_audio_tokens,
            usage.input_image_tokens,
        )
    except AttributeError:
        values = ()
    # The common case, decided without a Python loop: plain ints (not bool, not InvalidCount) in range.
    if values and set(map(type, values)) == _PLAIN_INT and min(values) >= 0 and max(values) <= MAX_TOKENS:
        return _subset_problems(usage)
    problems: List[str] = []
    for name in _USAGE_FIELDS:
        value = getattr(usage, name, 0)
        if isinstance(value, InvalidCount):
            problems.append(f"{name}:{value.problem}")
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{name}:not_a_number")
        elif value < 0:
            problems.append(f"{name}:negative")
        elif value > MAX_TOKENS:
            problems.append(f"{name}:too_large")
    if problems:
        return problems
    return _subset_problems(usage)


def _subset_problems(usage: Any) -> List[str]:
    """The parts larger than their totals (the fields are valid counts)."""
    problems: List[str] = []
    if usage.cache_read_tokens + usage.cache_write_tokens > usage.input_tokens:
        problems.append("cache_tokens:exceed_input")
    if usage.cache_write_long_tokens > usage.cache_write_tokens:
        problems.append("cache_write_long_tokens:exceed_cache_write")
    if usage.reasoning_tokens > usage.output_tokens:
        problems.append("reasoning_tokens:exceed_output")
    return problems


def valid_cost(value: Any) -> Optional[float]:
    """A USD amount fit to count and budget, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        amount = float(value)
    except (OverflowError, ValueError):
        return None
    if math.isnan(amount) or math.isinf(amount) or amount < 0 or amount > MAX_COST_USD:
        return None
    return amount


def reported_cost(value: Any) -> Optional[float]:
    """A cost field as a gateway sent it: ``None`` when it is not a number at all, else a float.

    Negative, NaN, infinite or absurd amounts are *kept* (a huge integer becomes ``inf``), so the
    pipeline marks the call ``invalid_cost`` instead of silently pricing it some other way.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf


def otlp_int(value: int) -> int:
    """``value`` bounded to what an OTLP int64 carries."""
    if value > INT64_MAX:
        return INT64_MAX
    if value < -INT64_MAX - 1:
        return -INT64_MAX - 1
    return value


def bounded_integer(value: Any) -> Optional[int]:
    """An integer request/config parameter that fits an OTLP int64, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return int(value) if -INT64_MAX - 1 <= value <= INT64_MAX else None


def finite_number(value: Any) -> Optional[float]:
    """A float request/config parameter that is finite, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
