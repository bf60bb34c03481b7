"""Budget windows: the UTC period a spend counter covers.

A windowed budget counts into one counter per period (``day`` = UTC calendar day, ``month`` =
UTC calendar month, ``hour`` = UTC clock hour); a new period starts from zero. ``total`` never
resets. The period a call counts into is fixed when the call starts, so a call that runs across
midnight is charged to the day it was sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import NamedTuple, Optional

WINDOWS = ("hour", "day", "month", "total")

#: How long a store keeps a finished period's counter, for inspection, before it expires.
RETAIN_S = 86_400


class Period(NamedTuple):
    key: str
    start: Optional[datetime]
    end: Optional[datetime]

    def ttl_s(self, now: datetime) -> Optional[int]:
        """Seconds the period's counter must live in a store (``None``: forever)."""
        if self.end is None:
            return None
        return max(1, int((self.end - now).total_seconds()) + RETAIN_S)


def period(window: str, now: datetime) -> Period:
    """The period of ``window`` containing ``now`` (an aware UTC datetime)."""
    if window == "hour":
        start = now.replace(minute=0, second=0, microsecond=0)
        return Period(start.strftime("%Y-%m-%dT%H"), start, start + timedelta(hours=1))
    if window == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return Period(start.strftime("%Y-%m-%d"), start, start + timedelta(days=1))
    if window == "month":
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        return Period(start.strftime("%Y-%m"), start, end)
    if window == "total":
        return Period("total", None, None)
    raise ValueError(f"unknown budget window {window!r}; expected one of {', '.join(WINDOWS)}")


def utc_now(timestamp: Optional[float] = None) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc) if timestamp is not None else datetime.now(timezone.utc)
