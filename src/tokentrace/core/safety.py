"""Failure isolation: an error inside tokentrace is logged once and swallowed.

Every place where tokentrace code runs inside the application's call path goes through
:func:`guarded` (for values) or :func:`report` (inside an ``except``). The application must get
exactly the result, exception and stream it would have got without tokentrace, so nothing here
may raise, and nothing may log in a loop: each distinct failure site logs once per process.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Optional, Set, Tuple, TypeVar

from ..records.errors import InstrumentationIntent, TokentraceError

logger = logging.getLogger("tokentrace")

__all__ = ["InstrumentationIntent", "TokentraceError", "guarded", "report", "reset_reported"]

T = TypeVar("T")

_reported: Set[Tuple[str, str]] = set()
_lock = threading.Lock()


def report(where: str, exc: BaseException) -> None:
    """Log an internal failure once per (site, exception type); never raises."""
    try:
        key = (where, type(exc).__name__)
        with _lock:
            if key in _reported:
                return
            _reported.add(key)
        logger.warning(
            "tokentrace: internal error in %s (%s: %s); the call is unaffected, its telemetry may be "
            "incomplete. Further errors of this kind are not logged.",
            where,
            type(exc).__name__,
            exc,
            exc_info=exc,
        )
    except Exception:  # pragma: no cover - logging itself broken
        pass


def guarded(where: str, fn: Callable[..., T], *args: object, **kwargs: object) -> Optional[T]:
    """Run ``fn`` and return its result, or ``None`` after reporting if it raised."""
    try:
        return fn(*args, **kwargs)
    except InstrumentationIntent:
        raise
    except Exception as exc:
        report(where, exc)
        return None


def reset_reported() -> None:
    """Forget which failures were logged (tests use this to observe the log-once rule)."""
    with _lock:
        _reported.clear()
