"""UTC windows: the period keys and bounds a counter uses."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tokentrace.budgets.windows import RETAIN_S, period


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_day_month_hour_total() -> None:
    now = utc(2025, 12, 31, 23, 59, 59)
    assert period("day", now) == ("2025-12-31", utc(2025, 12, 31), utc(2026, 1, 1))
    assert period("month", now) == ("2025-12", utc(2025, 12, 1), utc(2026, 1, 1))
    assert period("hour", now) == ("2025-12-31T23", utc(2025, 12, 31, 23), utc(2026, 1, 1))
    assert period("total", now) == ("total", None, None)
    assert period("month", utc(2024, 2, 29, 12)).end == utc(2024, 3, 1)


def test_midnight_starts_a_new_day() -> None:
    assert period("day", utc(2025, 6, 1, 0, 0, 0)).key == "2025-06-01"
    assert period("day", utc(2025, 5, 31, 23, 59, 59, 999999)).key == "2025-05-31"


def test_ttl_outlives_the_period_by_a_day() -> None:
    now = utc(2025, 6, 1, 23, 0, 0)
    assert period("day", now).ttl_s(now) == 3600 + RETAIN_S
    assert period("total", now).ttl_s(now) is None


def test_unknown_window() -> None:
    with pytest.raises(ValueError, match="unknown budget window 'week'"):
        period("week", utc(2025, 1, 1))
