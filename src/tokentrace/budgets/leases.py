"""Reservations are short leases; this keeps the leases of calls still running alive.

A reservation (a hard budget's "this call may cost up to X" while it runs) used to count for an
hour: a process killed mid-call blocked every other process sharing the budget for that long.
Now it is a lease of :data:`~tokentrace.budgets.store.RESERVATION_LEASE_S` seconds (60 by
default), and one daemon thread renews, every third of it, the leases of every call of this
process that has not settled yet: a stream that runs for ten minutes keeps its reservation, a
dead process's lapses within a minute, and so does one whose settlement failed (the store was
unreachable). The settlement itself is retried by the same thread each round until the store
answers (:meth:`LeaseKeeper.retry`), not only when the application makes its next call.

The thread exists only while there is something to renew, never blocks the app (a renewal that
fails is retried next round; the store's own timeouts bound each attempt) and never holds up
interpreter exit (daemon).
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Tuple

from ..core.safety import report
from .store import RESERVATION_LEASE_S, StoreUnavailable

_Lease = Tuple[Any, str]  # (store, counter key)


class LeaseKeeper:
    def __init__(self, lease_s: float = RESERVATION_LEASE_S) -> None:
        self.interval_s = max(0.2, lease_s / 3.0)
        self._live: Dict[str, List[_Lease]] = {}
        #: Stores holding settlements that failed, by id: retried each round until sent.
        self._retry: Dict[int, Any] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._closed = False

    def add(self, reservation: str, leases: List[_Lease]) -> None:
        leases = [(store, key) for store, key in leases if hasattr(store, "renew")]
        if not leases:
            return
        with self._lock:
            if self._closed:
                return
            self._live[reservation] = leases
            self._start()

    def retry(self, store: Any) -> None:
        """Keep trying ``store``'s failed settlements (``replay_pending()``) until it has none left."""
        if not hasattr(store, "replay_pending"):
            return
        with self._lock:
            if self._closed:
                return
            self._retry[id(store)] = store
            self._start()

    def _start(self) -> None:
        """Start the thread if it is not running (the caller holds the lock)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="tokentrace-budget-leases", daemon=True)
            self._thread.start()

    def remove(self, reservation: str) -> None:
        with self._lock:
            self._live.pop(reservation, None)

    @property
    def live(self) -> int:
        return len(self._live)

    def renew_all(self) -> None:
        """One round: renew every live lease (the thread's body; tests call it directly)."""
        with self._lock:
            snapshot = list(self._live.items())
            retrying = list(self._retry.items())
        for store_id, holder in retrying:
            try:
                done = holder.replay_pending()
            except Exception as exc:
                report("budget settlement retry", exc)
                done = False
            if done:
                with self._lock:
                    self._retry.pop(store_id, None)
        for reservation, leases in snapshot:
            kept = []
            for store, key in leases:
                try:
                    if store.renew(key, reservation):
                        kept.append((store, key))
                except StoreUnavailable:
                    kept.append((store, key))  # try again next round
                except Exception as exc:
                    report("budget lease renewal", exc)
            with self._lock:
                if reservation in self._live:
                    if kept:
                        self._live[reservation] = kept
                    else:
                        del self._live[reservation]

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval_s)
            with self._lock:
                if self._closed or (not self._live and not self._retry):
                    self._thread = None
                    return
            self.renew_all()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._live.clear()
            self._retry.clear()
        self._wake.set()
