"""Reading spend back: :func:`read_rows` over a ledger file or a Prometheus-API store.

Report, focus and reconcile call only this, so they give the same answers whichever source the
numbers come from.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator, List, Optional, Sequence, Union

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


def aggregate_rows(
    *,
    ledger: Optional[PathLike] = None,
    prometheus: Optional[str] = None,
    start: float,
    end: float,
    granularity: int = 86400,
    by: Optional[Sequence[str]] = None,
    dimensions: Optional[Sequence[str]] = None,
    prometheus_selector: str = "",
    bucket: int = 60,
    prices: Any = None,
    progress: Optional[Callable[[str], None]] = None,
) -> Iterator[SpendRow]:
    """The spend of ``[start, end)`` summed into coarser :class:`SpendRow` rows, in bucket order.

    One row per UTC bucket of ``granularity`` seconds (a day by default; it must divide a day) ×
    the ``by`` columns (default: all of ``provider``, ``server_address``, ``service_tier``,
    ``request_model``, ``model``, ``token_type``, ``cost_status``, ``usage_source``,
    ``rerouted``) × the ``dimensions`` keys (default: all). Sums are exactly those of
    :func:`read_rows` (see :mod:`tokentrace.ledger.aggregate`); report and focus read through
    this, so a million-row ledger costs them one pass and tens of thousands of rows. A ledger
    file is read a day at a time (memory holds one day's cells); Prometheus rows are read, then
    summed. Sources and errors as for :func:`read_rows`.
    """
    from .aggregate import aggregate, check

    check(granularity, by)
    if (ledger is None) == (prometheus is None):
        raise ValueError("aggregate_rows: give exactly one source, ledger=FILE or prometheus=URL")
    if end <= start:
        raise ValueError(f"aggregate_rows: the period is empty (start {start} is not before end {end})")
    if prometheus is not None:
        rows = read_rows(prometheus=prometheus, start=start, end=end, prometheus_selector=prometheus_selector, bucket=bucket, prices=prices, progress=progress)
        return iter(aggregate(rows, granularity, by=by, dimensions=dimensions))
    if progress:
        progress(f"reading {os.fspath(ledger)}")  # type: ignore[arg-type]
    connection = store.connect(os.fspath(ledger), create=False)  # type: ignore[arg-type]
    return _closing(connection, store.aggregate(connection, start, end, granularity, by=by, dimensions=dimensions))


def _closing(connection: Any, rows: Iterator[SpendRow]) -> Iterator[SpendRow]:
    """Yield ``rows`` and close ``connection`` when done (or when the consumer stops early)."""
    try:
        yield from rows
    finally:
        connection.close()
