"""What every vendor source shares: its result, time parsing, and reading tabular export files."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping

from ...ledger.row import SpendRow


class SourceError(Exception):
    """A vendor source could not be read; the message says what is wrong and how to fix it."""


@dataclass
class VendorData:
    """Rows parsed from one vendor source, and what the parser could not use (said, not hidden)."""

    source: str
    rows: List[SpendRow] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    #: Skipped-line reasons -> count (credits, taxes, non-token charges ...).
    skipped: Dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def all_notes(self) -> List[str]:
        return self.notes + [f"{self.source}: skipped {count} line(s): {reason}" for reason, count in sorted(self.skipped.items())]


def parse_time(value: Any, what: str = "time") -> float:
    """Epoch seconds from epoch numbers, ISO 8601 / RFC 3339 text, or CUR's ``YYYY-MM-DD HH:MM:SS``."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value or "").strip()
    if not text:
        raise SourceError(f"missing {what}")
    if text.replace(".", "", 1).isdigit():
        return float(text)
    text = text.replace(" UTC", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    for candidate in (text, text.replace(" ", "T", 1)):
        try:
            parsed = dt.datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)).timestamp()
    for fmt in ("%m/%d/%Y", "%m/%d/%Y %H:%M:%S", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc).timestamp()
        except ValueError:
            continue
    raise SourceError(f"cannot read {what} {value!r}: expected ISO 8601 (2026-11-30T00:00:00Z), a date or epoch seconds")


def number(value: Any, default: float = 0.0) -> float:
    if value is None or value == "":
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise SourceError(f"expected a number, got {value!r}") from None
    if not math.isfinite(result):
        raise SourceError(f"expected a finite number, got {value!r}")
    return result


def unit_multiplier(unit: Any) -> float:
    """Tokens per unit for units like ``1K``, ``1M``, ``1000 Tokens``, ``1000000 Tokens``."""
    text = str(unit or "").strip().lower().replace(",", "")
    if not text:
        return 1.0
    head = text.split()[0]
    if head.endswith("k") and head[:-1] in ("", "1"):
        return 1_000.0
    if head.endswith("m") and head[:-1] in ("", "1"):
        return 1_000_000.0
    if head.isdigit():
        return float(head)
    return 1.0


def read_table(path: Path) -> Iterator[Dict[str, Any]]:
    """Rows of a CSV (``.csv``, ``.csv.gz``), Parquet, JSON array or JSON-lines export file."""
    name = path.name.lower()
    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    if name.endswith(".parquet"):
        yield from _parquet(path)
    elif name.endswith((".json", ".jsonl", ".ndjson")):
        yield from _json(path)
    else:
        yield from _csv(path)


def _csv(path: Path) -> Iterator[Dict[str, Any]]:
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise SourceError(f"{path}: empty CSV file (no header row)")
        yield from reader


def _json(path: Path) -> Iterator[Dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            data = json.loads(text)
            for item in data:
                if isinstance(item, dict):
                    yield item
            return
        for line in text.splitlines():
            if line.strip():
                item = json.loads(line)
                if isinstance(item, dict):
                    yield item
    except ValueError as exc:
        raise SourceError(f"{path}: not valid JSON or JSON lines ({exc})") from None


def _parquet(path: Path) -> Iterator[Dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SourceError(f"{path}: reading Parquet needs pyarrow: pip install 'tokentrace[reconcile]' (or pyarrow)") from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own error types
        raise SourceError(f"{path}: not a readable Parquet file ({exc})") from None
    yield from table.to_pylist()


def mapping(value: Any) -> Dict[str, str]:
    """A tags / map column as a dict: JSON text, a dict, or Parquet's list of (key, value) pairs."""
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        found: Dict[str, str] = {}
        for item in value:
            if isinstance(item, (list, tuple)) and len(item) == 2:
                found[str(item[0])] = str(item[1])
            elif isinstance(item, Mapping) and "key" in item:
                found[str(item["key"])] = str(item.get("value"))
        return found
    if isinstance(value, str):
        try:
            return mapping(json.loads(value))
        except ValueError:
            return {}
    return {}


def pick(row: Mapping[str, Any], *names: str) -> Any:
    """The first column of ``names`` present in ``row`` (exports vary in spelling and nesting)."""
    for name in names:
        if name in row and row[name] not in (None, ""):
            return row[name]
        if "." in name:
            head, _, rest = name.partition(".")
            inner = row.get(head)
            if isinstance(inner, Mapping) and inner.get(rest) not in (None, ""):
                return inner[rest]
    return None
