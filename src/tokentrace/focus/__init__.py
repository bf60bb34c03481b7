"""FOCUS export: tokentrace's spend as FinOps Open Cost and Usage Specification rows, at token level.

    from tokentrace.focus import export
    export("focus.csv", ledger="spend.sqlite", start=..., end=...)          # newest version (1.4)
    export("focus.parquet", ledger="spend.sqlite", start=..., end=..., version="1.0")

:func:`focus_rows` turns :class:`~tokentrace.ledger.SpendRow` rows (from any source) into FOCUS
records; :func:`export` reads a period and streams it into CSV or Parquet, a day at a time (a
month of a fleet's ledger is never held in memory). See ``build`` for the mapping.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, Optional, Union

from .build import DATA_SOURCE, PRICING_UNIT, focus_rows, iter_focus_rows
from .columns import DEFAULT_VERSION, VERSIONS, columns_for
from .write import FORMATS, format_for, write_csv, write_parquet

__all__ = [
    "DATA_SOURCE", "DEFAULT_VERSION", "FORMATS", "FocusExport", "PRICING_UNIT", "VERSIONS", "columns_for", "export", "focus_rows",
    "iter_focus_rows", "write",
]

_PRICED = ("priced", "provider_reported")
#: The row columns FOCUS rows are built from (the host is not among them: one column less to sum by).
_FOCUS_COLUMNS = ("provider", "service_tier", "request_model", "model", "token_type", "cost_status", "usage_source", "rerouted")


@dataclass
class FocusExport:
    """What :func:`export` wrote: the record count, of which unpriced (cost 0, ``x_CostStatus`` says why)."""

    rows: int
    unpriced_rows: int
    version: str
    format: str


def write(records: Iterable[Dict[str, Any]], path: Union[str, os.PathLike[str]], *, version: str = DEFAULT_VERSION, format: str = "") -> str:
    """Write ``records`` (a list, or a generator that streams) to ``path`` (``-`` for standard output, CSV only); returns the format used."""
    return _write(records, path, version, format)[0]


def _write(records: Iterable[Dict[str, Any]], path: Union[str, os.PathLike[str]], version: str, format: str) -> tuple[str, int]:
    columns = columns_for(version)
    kind = format_for(path, format)
    if kind == "parquet":
        if os.fspath(path) == "-":
            raise ValueError("Parquet cannot be written to standard output; give a file name")
        return kind, write_parquet(records, columns, path)
    if os.fspath(path) == "-":
        return kind, write_csv(records, columns, sys.stdout)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        return kind, write_csv(records, columns, stream)


def export(
    path: Union[str, os.PathLike[str]],
    *,
    start: float,
    end: float,
    ledger: Optional[str] = None,
    prometheus: Optional[str] = None,
    version: str = DEFAULT_VERSION,
    format: str = "",
    billing_account: Optional[str] = None,
    prometheus_selector: str = "",
    progress: Any = None,
) -> FocusExport:
    """Read ``[start, end)`` from the ledger or Prometheus and write it as FOCUS; returns what was written.

    The spend is read as day rows (:func:`~tokentrace.ledger.reader.aggregate_rows`: a FOCUS charge
    period is a day, so nothing finer is needed) and written as it is read, one day at a time.
    """
    from ..ledger.reader import aggregate_rows

    columns_for(version)  # a bad version fails before anything is read
    format_for(path, format)
    if format_for(path, format) == "parquet" and os.fspath(path) == "-":
        raise ValueError("Parquet cannot be written to standard output; give a file name")
    rows = aggregate_rows(
        ledger=ledger, prometheus=prometheus, start=start, end=end, by=_FOCUS_COLUMNS, prometheus_selector=prometheus_selector, progress=progress
    )
    unpriced = [0]

    def counted(records: Iterator[Dict[str, Any]]) -> Iterator[Dict[str, Any]]:
        for record in records:
            if record.get("x_CostStatus") not in _PRICED:
                unpriced[0] += 1
            yield record

    kind, count = _write(counted(iter_focus_rows(rows, version=version, billing_account=billing_account)), path, version, format)
    return FocusExport(rows=count, unpriced_rows=unpriced[0], version=version, format=kind)
