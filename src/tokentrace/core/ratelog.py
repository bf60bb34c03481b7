"""Bounded logging: one warning per distinct cause per interval, a counter for the rest.

Some warnings are about the data flowing through the app (a rerouted model, a provider that
answers with absurd numbers, a store that went away). A buggy gateway can make every call a
new occurrence, and one log line per call floods the app's logs; remembering every distinct
value forever grows memory without bound. So each warning has a *cause* (a short, bounded key
such as ``("reroute", provider, requested model)``), and:

* the first occurrence of a cause logs; later ones within ``interval_s`` are only counted, and
  the next line for that cause says how many were left out;
* at most ``max_causes`` causes are tracked; beyond that, new causes share one overflow cause,
  so a flood of distinct values still produces one line per interval.

:func:`suppressed_total` is the process-wide count of lines left out (tests and the CLI read it).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, Hashable, Optional

logger = logging.getLogger("tokentrace")

#: Default interval between two lines for the same cause.
INTERVAL_S = 300.0
#: Default number of distinct causes tracked per limiter.
MAX_CAUSES = 256

_OVERFLOW = ("tokentrace.ratelog", "other causes")

_total_lock = threading.Lock()
_suppressed_total = 0


def suppressed_total() -> int:
    """How many warnings every limiter in this process left out so far."""
    return _suppressed_total


def _count_suppressed() -> None:
    global _suppressed_total
    with _total_lock:
        _suppressed_total += 1


class RateLimitedLog:
    """One logger's warnings, limited per cause; thread-safe, never raises."""

    def __init__(
        self,
        interval_s: float = INTERVAL_S,
        max_causes: int = MAX_CAUSES,
        log: Optional[logging.Logger] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval_s = interval_s
        self.max_causes = max_causes
        self._log = log or logger
        self._clock = clock
        self._lock = threading.Lock()
        #: cause -> [time of the last line, occurrences left out since]
        self._causes: Dict[Hashable, list] = {}

    def warning(self, cause: Hashable, message: str, *args: Any) -> bool:
        """Log ``message % args`` unless ``cause`` was logged less than ``interval_s`` ago.

        Returns True when the line was written.
        """
        return self.log(logging.WARNING, cause, message, *args)

    def log(self, level: int, cause: Hashable, message: str, *args: Any) -> bool:
        try:
            now = self._clock()
            with self._lock:
                if cause not in self._causes and len(self._causes) >= self.max_causes:
                    cause = _OVERFLOW
                state = self._causes.get(cause)
                if state is not None and now - state[0] < self.interval_s:
                    state[1] += 1
                    left_out = -1
                else:
                    left_out = state[1] if state is not None else 0
                    self._causes[cause] = [now, 0]
            if left_out < 0:
                _count_suppressed()
                return False
            if cause is _OVERFLOW:
                message = "%s (and other warnings of this kind; further ones are counted, not logged)" % (message % args if args else message)
                args = ()
            if left_out:
                message = message + " (%d similar warning(s) left out since the last one)"
                args = (*args, left_out)
            self._log.log(level, message, *args)
            return True
        except Exception:  # pragma: no cover - logging itself broken
            return False

    def suppressed(self, cause: Hashable) -> int:
        with self._lock:
            state = self._causes.get(cause)
            return state[1] if state is not None else 0

    def reset(self) -> None:
        with self._lock:
            self._causes.clear()
