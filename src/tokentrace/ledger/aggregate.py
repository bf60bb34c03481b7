"""Summing spend rows into coarser rows: per time bucket (a day, an hour) and the columns a reader keeps.

A million-row ledger is a million (minute × cell) rows, but a report needs days and a FOCUS file
needs days × SKU × tags: summing first makes every consumer work on tens of thousands of rows
instead of a million. The sum is still a :class:`SpendRow` ("one spend row" for every source):
``period_start`` is the earliest and ``period_end`` the latest edge of the rows summed into it,
so a day row of a partial first day starts where the period does. Costs add like the ledger
writer adds them: ``None`` (unpriced) plus a number is that number, ``None`` plus ``None`` stays
``None``.

:func:`aggregate` works on rows from any source (Prometheus, vendor parsers, tests);
:func:`tokentrace.ledger.store.aggregate` does the same for a ledger file without making a
:class:`SpendRow` per ledger row.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from .row import SpendRow
from .store import KEY_COLUMNS

#: The columns of a row besides the period and dimensions, in the store's key order; ``by=``
#: chooses among them.
ROW_COLUMNS: Tuple[str, ...] = tuple(c for c in KEY_COLUMNS if c not in ("period_start", "period_end", "dimensions"))
#: Granularities of UTC-aligned buckets a reader may ask for (a bucket must divide a day).
DAY = 86400
HOUR = 3600


def check(granularity: int, by: Optional[Sequence[str]]) -> Tuple[str, ...]:
    """The kept columns; ``ValueError`` in words for a bad granularity or column name."""
    if granularity <= 0 or DAY % int(granularity):
        raise ValueError(f"granularity {granularity!r}: give seconds that divide a day (60, 3600, 86400 ...)")
    if by is None:
        return ROW_COLUMNS
    unknown = [c for c in by if c not in ROW_COLUMNS]
    if unknown:
        raise ValueError(f"by: unknown column(s) {', '.join(unknown)}; choose from {', '.join(ROW_COLUMNS)}")
    return tuple(c for c in ROW_COLUMNS if c in by)


def make_row(fields: Dict[str, Any]) -> SpendRow:
    """A :class:`SpendRow` from a complete field mapping, without the frozen dataclass's per-field
    ``object.__setattr__`` (a third of the cost of reading a ledger when done a million times)."""
    row = object.__new__(SpendRow)
    row.__dict__.update(fields)
    return row


def restrict(dimensions: Dict[str, str], keep: Optional[Sequence[str]]) -> Dict[str, str]:
    if keep is None:
        return dimensions
    return {k: v for k, v in dimensions.items() if k in keep}


def aggregate(
    rows: Iterable[SpendRow],
    granularity: int = DAY,
    *,
    by: Optional[Sequence[str]] = None,
    dimensions: Optional[Sequence[str]] = None,
) -> List[SpendRow]:
    """``rows`` summed per UTC bucket of ``granularity`` seconds × the ``by`` columns × the
    ``dimensions`` keys (``None``: every column / key), sorted by bucket. Columns left out come
    back empty (``None``; ``rerouted`` ``None``), keys left out are absent from ``dimensions``.
    """
    kept = check(granularity, by)
    cells: Dict[Tuple[Any, ...], List[Any]] = {}
    dims_keys: Dict[Tuple[Tuple[str, str], ...], Tuple[Tuple[str, str], ...]] = {}
    for row in rows:
        bucket = math.floor(row.period_start / granularity)
        raw = tuple(sorted(row.dimensions.items()))
        dims = dims_keys.get(raw)
        if dims is None:
            dims = dims_keys[raw] = tuple(sorted(restrict(dict(raw), dimensions).items()))
        key = (bucket,) + tuple(getattr(row, c) for c in kept) + (dims, row.source)
        cell = cells.get(key)
        if cell is None:
            cells[key] = [row.period_start, row.period_end, row.tokens, row.list_cost_usd, row.effective_cost_usd, row.calls, row.blocked_calls]
            continue
        add(cell, row.period_start, row.period_end, row.tokens, row.list_cost_usd, row.effective_cost_usd, row.calls, row.blocked_calls)
    result = []
    for key in sorted(cells, key=lambda k: k[0]):
        cell = cells[key]
        values = dict(zip(kept, key[1:-2], strict=True))
        result.append(
            finish(cell, values, dict(key[-2]), key[-1])
        )
    return result


def add(cell: List[Any], start: float, end: float, tokens: int, listed: Optional[float], effective: Optional[float], calls: int, blocked: int) -> None:
    """Add one row's values to a cell ``[start, end, tokens, list, effective, calls, blocked]``."""
    if start < cell[0]:
        cell[0] = start
    if end > cell[1]:
        cell[1] = end
    cell[2] += tokens
    if listed is not None:
        cell[3] = listed if cell[3] is None else cell[3] + listed
    if effective is not None:
        cell[4] = effective if cell[4] is None else cell[4] + effective
    cell[5] += calls
    cell[6] += blocked


def finish(cell: List[Any], values: Dict[str, Any], dimensions: Dict[str, str], source: str) -> SpendRow:
    """The :class:`SpendRow` of a finished cell; ``values`` holds the kept columns as a row has them."""
    rerouted = values.get("rerouted")
    return make_row(
        {
            "period_start": cell[0],
            "period_end": cell[1],
            "provider": values.get("provider") or "",
            "model": values.get("model") or "",
            "token_type": values.get("token_type") or "",
            "tokens": int(cell[2]),
            "list_cost_usd": cell[3],
            "effective_cost_usd": cell[4],
            "request_model": values.get("request_model") or None,
            "server_address": values.get("server_address") or None,
            "service_tier": values.get("service_tier") or None,
            "cost_status": values.get("cost_status") or None,
            "usage_source": values.get("usage_source") or None,
            "rerouted": None if rerouted is None else bool(rerouted),
            "calls": int(cell[5]),
            "blocked_calls": int(cell[6]),
            "dimensions": dimensions,
            "source": source,
        }
    )


def dimensions_of(text: str, keep: Optional[Sequence[str]]) -> Dict[str, str]:
    """The dimensions stored as ``text`` (the ledger's JSON), restricted to ``keep``."""
    return restrict(json.loads(text), keep)


def chunks(start: float, end: float, granularity: int, span: int = DAY) -> Iterator[Tuple[float, float]]:
    """``[start, end)`` cut at UTC multiples of ``max(span, granularity)``, so each chunk holds whole buckets."""
    step = max(span, granularity)
    lo = start
    while lo < end:
        hi = min(end, (math.floor(lo / step) + 1) * step)
        yield lo, hi
        lo = hi
