"""Work billed after the call that started it, settled exactly once, keyed by the provider's id.

Some calls are answered before they are billed: a background response is ``queued`` when its
``create`` returns, and its usage appears only when the application later polls
(``GET /v1/responses/{id}``), resumes its stream, or cancels it, as often as it likes and from
any thread. Whatever first sees the finished work settles it; every later sighting must not
count it again. So each adapter that defers usage keeps, per provider id:

* what the starting call knew (:meth:`SettleOnce.defer`): the attribution in force then and its
  span's context, so the settlement carries the creation-time attribution and links to it;
* whether the id was settled already (:meth:`SettleOnce.claim` is true once per id).

Both tables are bounded (oldest entries go first), so an application that creates millions of
background calls and never polls them keeps a constant amount of memory. The state is per
process: a process that did not start the work still settles it once (with the attribution in
force where it sees it), but two processes that both fetch the same finished work each settle it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Generic, Optional, Tuple, TypeVar

#: Entries per table; beyond it the oldest is forgotten.
MAX_ENTRIES = 10_000

T = TypeVar("T")


@dataclass
class Started:
    """What the starting call knew: what the settlement needs to be attributed and linked."""

    attribution: Any
    #: The starting call's span context (a link from the settlement), or ``None``.
    context: Any
    #: The request half the settlement repeats: requested model, request attributes ...
    request: Dict[str, Any] = field(default_factory=dict)


class SettleOnce(Generic[T]):
    """Pending work and settled ids, both bounded, under one lock (settled on any thread)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, T] = OrderedDict()
        self._settled: OrderedDict[str, None] = OrderedDict()

    def _put(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self._max:
            table.popitem(last=False)

    def defer(self, key: str, started: T) -> bool:
        """Remember work to settle later; ``False`` when ``key`` was settled already."""
        with self._lock:
            if key in self._settled:
                return False
            self._put(self._pending, key, started)
            return True

    def claim(self, key: str) -> Tuple[bool, Optional[T]]:
        """(True, what was deferred or ``None``) the first time ``key`` is settled; (False, None) after."""
        with self._lock:
            if key in self._settled:
                return False, None
            self._put(self._settled, key, None)
            return True, self._pending.pop(key, None)

    def pending(self, key: str) -> bool:
        with self._lock:
            return key in self._pending

    def settled(self, key: str) -> bool:
        with self._lock:
            return key in self._settled

    def sizes(self) -> Tuple[int, int]:
        """(pending, settled) entries, for tests and diagnostics."""
        with self._lock:
            return len(self._pending), len(self._settled)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._settled.clear()
