"""Bounds on metric attribute values, so attribution cannot blow up metric cardinality.

Every distinct combination of attribute values is a separate time series in Prometheus; a
``feature`` that carries a request id would create millions. Only allow-listed keys go on
metrics, and each key admits at most ``limit`` distinct values per process: the first ones seen
are kept, every later new value is recorded as :data:`OVERFLOW_VALUE`.
"""

from __future__ import annotations

import logging
import threading
from typing import Dict, Set

logger = logging.getLogger("tokentrace")

#: What a value past the cap is recorded as on metrics (spans keep the real value).
OVERFLOW_VALUE = "_other"


class ValueLimiter:
    """Admits the first ``limit`` distinct values of each key; thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: Dict[str, Set[str]] = {}
        self._lock = threading.Lock()
        self._warned: Set[str] = set()

    def admit(self, key: str, value: str) -> str:
        seen = self._seen.get(key)
        if seen is not None and value in seen:
            return value
        with self._lock:
            seen = self._seen.setdefault(key, set())
            if value in seen:
                return value
            if len(seen) < self.limit:
                seen.add(value)
                return value
            if key not in self._warned:
                self._warned.add(key)
                logger.warning(
                    "tokentrace: attribution key %r has had more than %d distinct values; further values are "
                    "recorded as %r on metrics (spans keep the real value). Raise metric_value_limit "
                    "(TOKENTRACE_METRIC_VALUE_LIMIT) or take %r off metric_attributes if this is expected.",
                    key,
                    self.limit,
                    OVERFLOW_VALUE,
                    key,
                )
        return OVERFLOW_VALUE
