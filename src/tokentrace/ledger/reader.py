"""Reading spend back: :func:`read_rows` over a ledger file or a Prometheus-API store.

Report, focus and reconcile call only this, so they give the same answers whichever source the
numbers come from.
"""

from __future__ import annotations

import os
from typing import Any, Callable, List, Optional, Union

from . import store
from .row import SpendRow

PathLike = Union[str, "os.PathLike[str]"]


def read_rows(
    *,
    ledger: Optional[PathLike] = None,
    prometheus: Optional[str] = None,
    start: float,
    end: float,
    prometheus_selector: str = "",
    bucket: int = 60,
    prices: Any = None,
    progress: Optional[Callable[[str], None]] = None,
) -> List[SpendRow]:
    """The spend rows of ``[start, end)`` (UTC epoch seconds; a row belongs to the period it starts in).

    Give exactly one source: ``ledger`` (a ledger file path) or ``prometheus`` (the base URL of
    a Prometheus-compatible query API scraping tokentrace's counters). Raises
    :class:`~tokentrace.ledger.store.LedgerError` or ``ValueError`` with a message that says what to
    fix.

    Prometheus only: ``prometheus_selector`` narrows the series (``{job="checkout"}``), ``bucket``
    is the finest time step in seconds, ``prices`` the catalog that splits costs over token types
    (see :mod:`tokentrace.ledger.prometheus`); ``progress`` is told what is being read.
    """
    if (ledger is None) == (prometheus is None):
        raise ValueError("read_rows: give exactly one source, ledger=FILE or prometheus=URL")
    if end <= start:
        raise ValueError(f"read_rows: the period is empty (start {start} is not before end {end})")
    if prometheus is not None:
        from .prometheus import read_prometheus

        return read_prometheus(prometheus, start, end, bucket=bucket, selector=prometheus_selector, prices=prices, progress=progress)
    if progress:
        progress(f"reading {os.fspath(ledger)}")  # type: ignore[arg-type]
    connection = store.connect(os.fspath(ledger), create=False)  # type: ignore[arg-type]
    try:
        return list(store.select(connection, start, end))
    finally:
        connection.close()
