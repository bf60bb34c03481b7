"""Where budget spend lives: the store protocol and the in-memory store.

Every store implements the same two-step accounting, atomically per counter:

* :meth:`reserve` (before a hard-budgeted call is sent) checks the admission rule and, if the call
  is admitted, records its projected amount as *in flight*;
* :meth:`settle` (when the call is complete) drops the reservation, adds what the call really
  cost, and says which alert thresholds this call crossed first.

The admission rule, the same in every store: a call is admitted while ``spent < limit``; a
budget whose settled spend has reached its limit (``spent >= limit``) blocks. With projections
on, a call is also blocked when ``spent + in_flight + projected > limit`` (a call that would
land exactly on the limit is admitted). Amounts are integers (nano-dollars, tokens), so
"exactly at the limit" means exactly.
"""

from __future__ import annotations

import heapq
import logging
import os
import threading
import time
from typing import Dict, List, NamedTuple, Optional, Protocol, Sequence, Tuple


class StoreUnavailable(Exception):
    """The store could not be reached in time; the budget's ``on_store_error`` decides."""


class Amount(NamedTuple):
    nano_usd: int = 0
    tokens: int = 0


class Limit(NamedTuple):
    nano_usd: Optional[int] = None
    tokens: Optional[int] = None


class Admission(NamedTuple):
    admitted: bool
    #: ``usd`` or ``tokens``: the limit that blocked.
    unit: Optional[str]
    #: ``spent`` or ``projected``.
    reason: Optional[str]
    spent: Amount
    in_flight: Amount
    exceeded_at: Optional[float]


class Settlement(NamedTuple):
    spent: Amount
    #: Thresholds this call crossed first (each fires once per counter, across processes).
    fired: Tuple[float, ...]
    exceeded_at: Optional[float]


class BudgetStore(Protocol):
    #: How the store is named in messages (never with a password).
    label: str

    def reserve(
        self, key: str, limit: Limit, projection: Amount, check_projection: bool, reservation: str, ttl_s: Optional[int]
    ) -> Admission: ...

    def settle(
        self, key: str, reservation: str, actual: Amount, limit: Limit, thresholds: Sequence[float], ttl_s: Optional[int]
    ) -> Settlement: ...

    def spent(self, key: str) -> Amount: ...

    def close(self) -> None: ...


def _lease_from_environment() -> int:
    """``TOKENTRACE_BUDGET_LEASE_S``: whole seconds from 1 to 3600; anything else says so, uses 60."""
    raw = os.environ.get("TOKENTRACE_BUDGET_LEASE_S", "").strip()
    if not raw:
        return 60
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if 1 <= value <= 3600:
        return value
    logging.getLogger("tokentrace").error(
        "tokentrace configuration problem: environment variable TOKENTRACE_BUDGET_LEASE_S: expected whole "
        "seconds from 1 to 3600, got %r; using the default (60) instead",
        raw,
    )
    return 60


#: A reservation is a lease of this many seconds: a call still running renews it (the budget
#: enforcer renews every live reservation each third of it, long streams included), so one that
#: is no longer renewed (its process died, its settlement failed) stops counting soon after.
#: ``TOKENTRACE_BUDGET_LEASE_S`` changes it (1 to 3600).
RESERVATION_LEASE_S = _lease_from_environment()
#: Kept for callers of the old name: the lease is what bounds a reservation now.
RESERVATION_TIMEOUT_S = RESERVATION_LEASE_S


def decide(spent: Amount, in_flight: Amount, projection: Amount, limit: Limit, check_projection: bool) -> Tuple[Optional[str], Optional[str]]:
    """The admission rule (module docstring); returns (unit, reason) of a block, or (None, None)."""
    for unit, used, flying, projected, cap in (
        ("usd", spent.nano_usd, in_flight.nano_usd, projection.nano_usd, limit.nano_usd),
        ("tokens", spent.tokens, in_flight.tokens, projection.tokens, limit.tokens),
    ):
        if cap is None:
            continue
        if used >= cap:
            return unit, "spent"
        if check_projection and used + flying + projected > cap:
            return unit, "projected"
    return None, None


def utilization(spent: Amount, limit: Limit) -> float:
    """The larger of the usd and token fractions used; a zero limit counts as fully used."""
    ratios = [
        (used / cap) if cap > 0 else 1.0
        for used, cap in ((spent.nano_usd, limit.nano_usd), (spent.tokens, limit.tokens))
        if cap is not None
    ]
    return max(ratios, default=0.0)


#: Expired counters one call drops at most (amortized O(1) per call, never a pause).
DROP_PER_CALL = 64


class _Counter:
    __slots__ = ("spent", "in_flight", "fired", "claims", "exceeded_at", "expires")

    def __init__(self) -> None:
        self.spent = Amount()
        self.in_flight: Dict[str, Tuple[Amount, float]] = {}
        self.fired: set = set()
        self.claims: set = set()
        self.exceeded_at: Optional[float] = None
        self.expires: Optional[float] = None


class MemoryStore:
    """Counters in this process, behind one lock: exact for threads and asyncio tasks.

    Expired counters are found through a heap ordered by expiry, so creating a counter costs
    O(log n) however many counters exist (scanning them all cost milliseconds at 100k counters),
    and each call drops at most ``DROP_PER_CALL`` of them: when 100k counters lapse together (a
    window ends) no single call pays for all of them; they drain over the next calls.
    """

    label = "memory"

    def __init__(self) -> None:
        self._counters: Dict[str, _Counter] = {}
        self._expiry: List[Tuple[float, str]] = []
        self._lock = threading.Lock()

    def _counter(self, key: str, ttl_s: Optional[int], now: float) -> _Counter:
        counter = self._counters.get(key)
        if counter is None or (counter.expires is not None and counter.expires < now):
            self._drop_expired(now)
            counter = self._counters[key] = _Counter()
        if ttl_s is not None:
            expires = now + ttl_s
            if counter.expires is None or expires > counter.expires + 1.0:
                heapq.heappush(self._expiry, (expires, key))
            counter.expires = expires
        return counter

    def _drop_expired(self, now: float) -> None:
        budget = DROP_PER_CALL
        while self._expiry and self._expiry[0][0] < now and budget > 0:
            budget -= 1
            _, key = heapq.heappop(self._expiry)
            counter = self._counters.get(key)
            if counter is None or counter.expires is None:
                continue
            if counter.expires < now:
                del self._counters[key]
            else:  # extended since that entry was pushed: keep one entry for its current expiry
                heapq.heappush(self._expiry, (counter.expires, key))

    def reserve(
        self, key: str, limit: Limit, projection: Amount, check_projection: bool, reservation: str, ttl_s: Optional[int]
    ) -> Admission:
        now = time.time()
        with self._lock:
            counter = self._counter(key, ttl_s, now)
            stale = [r for r, (_, deadline) in counter.in_flight.items() if deadline < now]
            for r in stale:
                del counter.in_flight[r]
            in_flight = Amount(
                sum(a.nano_usd for a, _ in counter.in_flight.values()), sum(a.tokens for a, _ in counter.in_flight.values())
            )
            unit, reason = decide(counter.spent, in_flight, projection, limit, check_projection)
            if unit is None:
                counter.in_flight[reservation] = (projection, now + RESERVATION_LEASE_S)
            return Admission(unit is None, unit, reason, counter.spent, in_flight, counter.exceeded_at)

    def renew(self, key: str, reservation: str) -> bool:
        """Extend a live reservation's lease; False when it is gone (expired or settled)."""
        now = time.time()
        with self._lock:
            counter = self._counters.get(key)
            entry = counter.in_flight.get(reservation) if counter is not None else None
            if counter is None or entry is None:
                return False
            counter.in_flight[reservation] = (entry[0], now + RESERVATION_LEASE_S)
            return True

    def settle(
        self, key: str, reservation: str, actual: Amount, limit: Limit, thresholds: Sequence[float], ttl_s: Optional[int]
    ) -> Settlement:
        now = time.time()
        with self._lock:
            counter = self._counter(key, ttl_s, now)
            counter.in_flight.pop(reservation, None)
            counter.spent = Amount(counter.spent.nano_usd + actual.nano_usd, counter.spent.tokens + actual.tokens)
            used = utilization(counter.spent, limit)
            fired: List[float] = []
            for threshold in thresholds:
                if used >= threshold and threshold not in counter.fired:
                    counter.fired.add(threshold)
                    fired.append(threshold)
            if used >= 1.0 and counter.exceeded_at is None:
                counter.exceeded_at = now
            return Settlement(counter.spent, tuple(fired), counter.exceeded_at)

    def spent(self, key: str) -> Amount:
        with self._lock:
            counter = self._counters.get(key)
            if counter is None or (counter.expires is not None and counter.expires < time.time()):
                return Amount()  # expired, not dropped yet
            return counter.spent

    def claim(self, key: str, what: str, ttl_s: Optional[int]) -> bool:
        """True the first time ``what`` is claimed on counter ``key`` (a forecast alert, once a window)."""
        with self._lock:
            counter = self._counter(key, ttl_s, time.time())
            if what in counter.claims:
                return False
            counter.claims.add(what)
            return True

    def close(self) -> None:
        """Nothing to release: the counters stay, so ``uninstrument()`` + ``instrument()`` keeps them."""

    def clear(self) -> None:
        """Forget every counter (tests start from zero with this)."""
        with self._lock:
            self._counters.clear()
            self._expiry.clear()


#: The process's in-memory store: every ``instrument()`` with the memory store shares it, so a
#: re-instrumentation (to change an option) does not hand every budget a fresh allowance.
SHARED_MEMORY = MemoryStore()


def open_store(spec: object) -> BudgetStore:
    """The store named by ``budget_store``: ``None``/``"memory"``, a ``redis://`` URL, or a store object.

    A URL that cannot be used (a typo such as ``redis://127.0.0.1:notaport/0``, the ``redis``
    package missing) is a :class:`~tokentrace.budgets.errors.BudgetConfigError`, which
    ``instrument()`` raises under ``strict=True`` and otherwise logs before falling back to the
    in-memory store: tracing always goes on.
    """
    from .errors import BudgetConfigError

    if spec is None or spec == "memory":
        return SHARED_MEMORY
    if isinstance(spec, str):
        if spec.startswith(("redis://", "rediss://", "unix://")):
            from .redis_store import RedisStore, redact_url

            try:
                return RedisStore(spec)
            except ImportError:
                raise BudgetConfigError(
                    f"budget_store {redact_url(spec)!r} needs the redis package: pip install 'tokentrace[redis]'"
                ) from None
            except (ValueError, TypeError) as exc:
                raise BudgetConfigError(
                    f"budget_store {redact_url(spec)!r} is not a usable Redis URL ({exc}); expected "
                    "redis://[:password@]host:port/db, e.g. redis://127.0.0.1:6379/0"
                ) from None
        raise BudgetConfigError(
            f"budget_store {spec!r} is not understood; use 'memory' or a Redis URL such as redis://127.0.0.1:6379/0"
        )
    if all(hasattr(spec, name) for name in ("reserve", "settle", "spent")):
        return spec  # type: ignore[return-value]
    raise BudgetConfigError(f"budget_store must be 'memory', a Redis URL or a store object, got {type(spec).__name__}")
