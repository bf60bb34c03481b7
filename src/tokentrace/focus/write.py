"""Writing FOCUS records as CSV or Parquet (the two formats FinOps tools ingest)."""

from __future__ import annotations

import csv
import os
from datetime import datetime
from typing import Any, Dict, List, Sequence, TextIO, Union

from .columns import DATETIME_COLUMNS, DECIMAL_COLUMNS, INTEGER_COLUMNS

PathLike = Union[str, "os.PathLike[str]"]
FORMATS = ("csv", "parquet")


def format_for(path: PathLike, requested: str = "") -> str:
    """The output format: ``requested`` if given, else from the file's extension (CSV by default)."""
    if requested:
        if requested not in FORMATS:
            raise ValueError(f"unknown FOCUS output format {requested!r}; choose csv or parquet")
        return requested
    return "parquet" if os.fspath(path).lower().endswith((".parquet", ".pq")) else "csv"


def _text(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(records: Sequence[Dict[str, Any]], columns: Sequence[str], stream: TextIO) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_text(column, record.get(column)) for column in columns])


def write_parquet(records: Sequence[Dict[str, Any]], columns: Sequence[str], path: PathLike) -> None:
    """Typed Parquet: decimals as float64, counts as int64, datetimes as UTC timestamps, the rest strings."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise RuntimeError("Parquet output needs pyarrow: pip install 'tokentrace[focus]' (or write CSV)") from None
    fields: List[Any] = []
    for column in columns:
        if column in DECIMAL_COLUMNS:
            kind = pa.float64()
        elif column in INTEGER_COLUMNS:
            kind = pa.int64()
        elif column in DATETIME_COLUMNS:
            kind = pa.timestamp("s", tz="UTC")
        elif column == "x_Rerouted":
            kind = pa.bool_()
        else:
            kind = pa.string()
        fields.append(pa.field(column, kind, nullable=True))
    schema = pa.schema(fields)
    data = {column: [record.get(column) for record in records] for column in columns}
    table = pa.Table.from_pydict(data, schema=schema)
    pq.write_table(table, os.fspath(path))
