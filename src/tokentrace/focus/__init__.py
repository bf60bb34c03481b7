"""FOCUS export: tokentrace's spend as FinOps Open Cost and Usage Specification rows, at token level.

    from tokentrace.focus import export
    export("focus.csv", ledger="spend.sqlite", start=..., end=...)          # newest version (1.3)
    export("focus.parquet", ledger="spend.sqlite", start=..., end=..., version="1.0")

:func:`focus_rows` turns :class:`~tokentrace.ledger.SpendRow` rows (from any source) into FOCUS
records; :func:`export` reads a period and writes CSV or Parquet. See ``build`` for the mapping.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Union

from .build import DATA_SOURCE, PRICING_UNIT, focus_rows
from .columns import DEFAULT_VERSION, VERSIONS, columns_for
from .write import FORMATS, format_for, write_csv, write_parquet

__all__ = ["DATA_SOURCE", "DEFAULT_VERSION", "FORMATS", "PRICING_UNIT", "VERSIONS", "columns_for", "export", "focus_rows", "write"]


def write(records: Sequence[Dict[str, Any]], path: Union[str, os.PathLike[str]], *, version: str = DEFAULT_VERSION, format: str = "") -> str:
    """Write ``records`` to ``path`` (``-`` for standard output, CSV only); returns the format used."""
    columns = columns_for(version)
    kind = format_for(path, format)
    if kind == "parquet":
        if os.fspath(path) == "-":
            raise ValueError("Parquet cannot be written to standard output; give a file name")
        write_parquet(records, columns, path)
    elif os.fspath(path) == "-":
        write_csv(records, columns, sys.stdout)
    else:
        with open(path, "w", newline="", encoding="utf-8") as stream:
            write_csv(records, columns, stream)
    return kind


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
) -> List[Dict[str, Any]]:
    """Read ``[start, end)`` from the ledger or Prometheus and write it as FOCUS; returns the records."""
    from ..ledger.reader import read_rows

    columns_for(version)  # a bad version fails before anything is read
    rows = read_rows(ledger=ledger, prometheus=prometheus, start=start, end=end, prometheus_selector=prometheus_selector, progress=progress)
    records = focus_rows(rows, version=version, billing_account=billing_account)
    write(records, path, version=version, format=format)
    return records
