"""Reading spend back: :func:`read_rows` over a ledger file or a Prometheus-API store.

Report, focus and reconcile call only this, so they give the same answers whichever source the
numbers come from.
"""

from __future__ import annotations

import os
from typing import List, Optional, Union

from . import store
from .row import SpendRow

PathLike = Union[str, "os.PathLike[str]"]


def read_rows(
    *,
    ledger: Optional[PathLike] = None,
    prometheus: Optional[str] = None,
    start: float,
    end: float,
) -> List[SpendRow]:
    """The spend rows of ``[start, end)`` (UTC epoch seconds; a row belongs to the period it starts in).

    Give exactly one source: ``ledger`` (a ledger file path) or ``prometheus`` (the base URL of
    a Prometheus-compatible query API scraping tokentrace's counters). Raises
    :class:`~tokentrace.ledger.store.LedgerError` or ``ValueError`` with a message that says what to
    fix.
    """
    if (ledger is None) == (prometheus is None):
        raise ValueError("read_rows: give exactly one source, ledger=FILE or prometheus=URL")
    if end <= start:
        raise ValueError(f"read_rows: the period is empty (start {start} is not before end {end})")
    if prometheus is not None:
        raise NotImplementedError("read_rows(prometheus=...) is not available yet; read a ledger file")
    connection = store.connect(os.fspath(ledger), create=False)  # type: ignore[arg-type]
    try:
        return list(store.select(connection, start, end))
    finally:
        connection.close()
