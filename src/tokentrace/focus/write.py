"""Writing FOCUS records as CSV or Parquet (the two formats FinOps tools ingest)."""

from __future__ import annotations

import csv
import os
from datetime import datetime
from typing import Any, Dict, Iterable, List, Sequence, TextIO, Union

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


#: Records per Parquet row group written at once: memory holds one batch, not the whole file.
PARQUET_BATCH = 50_000


def write_csv(records: Iterable[Dict[str, Any]], columns: Sequence[str], stream: TextIO) -> int:
    """Write ``records`` as they come (a generator streams); returns how many were written.

    Most values are text already and pass through; the few datetimes of a file (a charge period
    and a billing period per day) are formatted once each.
    """
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    moments: Dict[datetime, str] = {}
    count = 0
    for record in records:
        line = []
        for column in columns:
            value = record.get(column)
            if value.__class__ is str:
                line.append(value)
            elif value is None:
                line.append("")
            elif value.__class__ is datetime:
                text = moments.get(value)
                if text is None:
                    text = moments[value] = _text(column, value)
                line.append(text)
            else:
                line.append(_text(column, value))
        writer.writerow(line)
        count += 1
    return count


def write_parquet(records: Iterable[Dict[str, Any]], columns: Sequence[str], path: PathLike) -> int:
    """Typed Parquet: decimals as float64, counts as int64, datetimes as UTC timestamps, the rest strings.

    Written in row groups of :data:`PARQUET_BATCH` records, so a generator streams; returns the count.
    """
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
    count = 0
    with pq.ParquetWriter(os.fspath(path), schema) as writer:
        batch: List[Dict[str, Any]] = []
        for record in records:
            batch.append(record)
            if len(batch) >= PARQUET_BATCH:
                writer.write_table(_table(pa, batch, columns, schema))
                count += len(batch)
                batch = []
        if batch or count == 0:
            writer.write_table(_table(pa, batch, columns, schema))
            count += len(batch)
    return count


def _table(pa: Any, batch: List[Dict[str, Any]], columns: Sequence[str], schema: Any) -> Any:
    return pa.Table.from_pydict({column: [record.get(column) for record in batch] for column in columns}, schema=schema)
