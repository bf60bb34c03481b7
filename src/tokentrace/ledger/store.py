"""The SQLite ledger file: its schema, and adding to and reading from it.

One table, ``spend``, holds one row per (time bucket, provider, host, service tier, requested
model, answering model, token type, cost status, usage source, rerouted, dimensions) with the
tokens, list and effective cost, calls and budget-blocked calls summed over it. Writers add to
rows with ``INSERT ... ON CONFLICT DO UPDATE`` inside short transactions, so any number of
processes can write the same file at once: SQLite serialises the writers (WAL mode, a busy
timeout) and the sums stay exact. The ``meta`` table records the schema version; a file written
by a newer tokentrace is refused with a message instead of being misread.

Schema version 1 (``spend`` columns; text columns hold ``''`` for "not known", because SQLite
treats NULLs in a unique key as all different):

=====================  =======  ==============================================================
column                 type     meaning
=====================  =======  ==============================================================
period_start           REAL     bucket start, UTC epoch seconds (inclusive)
period_end             REAL     bucket end, UTC epoch seconds (exclusive)
provider               TEXT     ``gen_ai.provider.name`` (``openai``, ``aws.bedrock`` ...)
server_address         TEXT     host the call went to
service_tier           TEXT     service tier the response reported
request_model          TEXT     model the application asked for
model                  TEXT     model that answered (the requested one when none reported)
token_type             TEXT     ``input`` (uncached), ``cache_read``, ``cache_write_5m``,
                                ``cache_write_1h``, ``output``, ``reasoning`` (inside output)
cost_status            TEXT     ``priced``, ``unknown_model``, ``no_usage`` ...
usage_source           TEXT     ``provider`` or ``estimate``; ``attempt`` for estimates of attempts the
                                provider may have billed without an answer (not counted spend)
rerouted               INTEGER  1 when the answering model is not the requested one
dimensions             TEXT     JSON object, sorted keys: ``team``, ``feature``, ``workflow``
                                (the keys allowed on metrics) and ``tag.<key>`` tags
tokens                 INTEGER  tokens of this type
list_cost_usd          REAL     public list price of those tokens; NULL when unpriced
effective_cost_usd     REAL     after the user's price overrides and discounts; NULL when unpriced
calls                  INTEGER  calls, counted once per call on its ``input`` row
blocked_calls          INTEGER  calls a budget blocked, counted like ``calls``
=====================  =======  ==============================================================

A ``reasoning`` row's costs are 0.0 for priced calls: reasoning is billed inside ``output``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from .row import SpendRow

SCHEMA_VERSION = 1

#: The columns that identify a row, in key order.
KEY_COLUMNS: Tuple[str, ...] = (
    "period_start",
    "period_end",
    "provider",
    "server_address",
    "service_tier",
    "request_model",
    "model",
    "token_type",
    "cost_status",
    "usage_source",
    "rerouted",
    "dimensions",
)
VALUE_COLUMNS: Tuple[str, ...] = ("tokens", "list_cost_usd", "effective_cost_usd", "calls", "blocked_calls")

#: A row's key: the KEY_COLUMNS values as stored.
Key = Tuple[float, float, str, str, str, str, str, str, str, str, int, str]

_DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spend (
    period_start REAL NOT NULL,
    period_end REAL NOT NULL,
    provider TEXT NOT NULL,
    server_address TEXT NOT NULL,
    service_tier TEXT NOT NULL,
    request_model TEXT NOT NULL,
    model TEXT NOT NULL,
    token_type TEXT NOT NULL,
    cost_status TEXT NOT NULL,
    usage_source TEXT NOT NULL,
    rerouted INTEGER NOT NULL,
    dimensions TEXT NOT NULL,
    tokens INTEGER NOT NULL DEFAULT 0,
    list_cost_usd REAL,
    effective_cost_usd REAL,
    calls INTEGER NOT NULL DEFAULT 0,
    blocked_calls INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY ({", ".join(KEY_COLUMNS)})
);
CREATE INDEX IF NOT EXISTS spend_period ON spend (period_start);
"""

_UPSERT = f"""
INSERT INTO spend ({", ".join(KEY_COLUMNS + VALUE_COLUMNS)})
VALUES ({", ".join("?" for _ in KEY_COLUMNS + VALUE_COLUMNS)})
ON CONFLICT ({", ".join(KEY_COLUMNS)}) DO UPDATE SET
    tokens = tokens + excluded.tokens,
    list_cost_usd = CASE WHEN excluded.list_cost_usd IS NULL THEN list_cost_usd
                         ELSE coalesce(list_cost_usd, 0) + excluded.list_cost_usd END,
    effective_cost_usd = CASE WHEN excluded.effective_cost_usd IS NULL THEN effective_cost_usd
                              ELSE coalesce(effective_cost_usd, 0) + excluded.effective_cost_usd END,
    calls = calls + excluded.calls,
    blocked_calls = blocked_calls + excluded.blocked_calls
"""

#: Seconds a writer waits for another process's transaction before giving up on this attempt.
BUSY_TIMEOUT_S = 10.0


class LedgerError(Exception):
    """A ledger file tokentrace cannot use; the message says which file and why."""


def default_path() -> Path:
    """Where ``tokentrace run`` / ``demo`` write and ``report`` / ``focus`` read by default."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "tokentrace" / "ledger.sqlite"


def connect(path: os.PathLike[str] | str, *, create: bool = True) -> sqlite3.Connection:
    """Open (and with ``create``, initialise) a ledger file; raises :class:`LedgerError` in words."""
    target = Path(path).expanduser()
    if not create and not target.exists():
        raise LedgerError(
            f"no ledger file at {target}: run your program under `tokentrace run`, or set TOKENTRACE_LEDGER "
            "(or instrument(ledger=...)) to record one, or pass --ledger FILE"
        )
    if create:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(str(target), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if create:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(_DDL)
            connection.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        _check_version(connection, target)
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"{target} is not a usable tokentrace ledger (SQLite said: {exc})") from exc
    return connection


def _check_version(connection: sqlite3.Connection, target: Path) -> None:
    try:
        found = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        found = None
    if found is None:
        raise LedgerError(f"{target} is an SQLite file but not a tokentrace ledger (no schema version)")
    if int(found[0]) > SCHEMA_VERSION:
        raise LedgerError(
            f"{target} has ledger schema version {found[0]}, newer than this tokentrace understands "
            f"({SCHEMA_VERSION}); upgrade tokentrace to read it"
        )


def add(connection: sqlite3.Connection, cells: Iterable[Tuple[Key, Sequence[Any]]]) -> None:
    """Add ``(key, values)`` cells to the file in one transaction (summing into existing rows)."""
    rows = [tuple(key) + tuple(values) for key, values in cells]
    if not rows:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.executemany(_UPSERT, rows)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def dimensions_text(dimensions: Dict[str, str]) -> str:
    return json.dumps(dimensions, sort_keys=True, separators=(",", ":"), ensure_ascii=False) if dimensions else "{}"


def select(connection: sqlite3.Connection, start: float, end: float) -> Iterator[SpendRow]:
    """Rows whose bucket starts in ``[start, end)``, as :class:`SpendRow`."""
    cursor = connection.execute(
        f"SELECT {', '.join(KEY_COLUMNS + VALUE_COLUMNS)} FROM spend WHERE period_start >= ? AND period_start < ?",
        (start, end),
    )
    dims_cache: Dict[str, Dict[str, str]] = {}
    for (
        period_start,
        period_end,
        provider,
        server_address,
        service_tier,
        request_model,
        model,
        token_type,
        cost_status,
        usage_source,
        rerouted,
        dimensions,
        tokens,
        list_cost,
        effective_cost,
        calls,
        blocked,
    ) in cursor:
        dims = dims_cache.get(dimensions)
        if dims is None:
            dims = dims_cache[dimensions] = json.loads(dimensions)
        yield SpendRow(
            period_start=period_start,
            period_end=period_end,
            provider=provider,
            model=model,
            token_type=token_type,
            tokens=int(tokens),
            list_cost_usd=list_cost,
            effective_cost_usd=effective_cost,
            request_model=request_model or None,
            server_address=server_address or None,
            service_tier=service_tier or None,
            cost_status=cost_status or None,
            usage_source=usage_source or None,
            rerouted=bool(rerouted),
            calls=int(calls),
            blocked_calls=int(blocked),
            dimensions=dict(dims),
            source="ledger",
        )


def aggregate(
    connection: sqlite3.Connection,
    start: float,
    end: float,
    granularity: int = 86400,
    *,
    by: Optional[Sequence[str]] = None,
    dimensions: Optional[Sequence[str]] = None,
) -> Iterator[SpendRow]:
    """Rows of ``[start, end)`` summed per UTC bucket of ``granularity`` s × ``by`` columns × ``dimensions`` keys.

    The same sums as :func:`tokentrace.ledger.aggregate.aggregate` over :func:`select`, but
    SQLite does them (``GROUP BY``), one UTC day (or bucket, if longer) at a time through the
    ``spend_period`` index: a day's rows sort in memory where a month's would not (measured: a
    month at once is slower than summing in Python, a day at a time is twice as fast), only the
    kept columns are read, memory holds one day's cells, and rows come out in bucket order, ready
    to stream. Keys left out of ``dimensions`` are merged afterwards, over the few summed rows.
    """
    from . import aggregate as agg

    kept = agg.check(granularity, by)
    group = ", ".join(("bucket",) + kept + ("dimensions",))
    sql = (
        f"SELECT CAST(period_start / {int(granularity)} AS INTEGER) AS bucket, {', '.join(kept + ('dimensions',))}, "
        "min(period_start), max(period_end), sum(tokens), sum(list_cost_usd), sum(effective_cost_usd), sum(calls), sum(blocked_calls) "
        f"FROM spend WHERE period_start >= ? AND period_start < ? GROUP BY {group}"
    )
    width = len(kept) + 2  # bucket, kept columns, dimensions
    dims_cache: Dict[str, Tuple[Tuple[str, str], ...]] = {}
    finish, add_to = agg.finish, agg.add
    first, last = connection.execute("SELECT min(period_start), max(period_start) FROM spend").fetchone()
    if first is None:
        return
    start, end = max(start, first), min(end, last + 1)  # no empty day queries before or after the data
    for lo, hi in agg.chunks(start, end, granularity):
        found = connection.execute(sql, (lo, hi)).fetchall()
        if dimensions is None:
            for row in found:
                yield finish(list(row[width:]), dict(zip(kept, row[1 : width - 1], strict=True)), _dims(dims_cache, row[width - 1]), "ledger")
            continue
        merged: Dict[Tuple[Any, ...], List[Any]] = {}  # cells that differ only in the keys left out
        for row in found:
            text = row[width - 1]
            short = dims_cache.get(text)
            if short is None:
                short = dims_cache[text] = tuple(sorted(agg.dimensions_of(text, dimensions).items()))  # type: ignore[assignment]
            key = row[: width - 1] + (short,)
            into = merged.get(key)
            if into is None:
                merged[key] = list(row[width:])
            else:
                add_to(into, *row[width:])
        for key, cell in merged.items():
            yield finish(cell, dict(zip(kept, key[1:-1], strict=True)), dict(key[-1]), "ledger")


def _dims(cache: Dict[str, Any], text: str) -> Dict[str, str]:
    parsed = cache.get(text)
    if parsed is None:
        parsed = cache[text] = json.loads(text)
    return dict(parsed)


def schema_version(connection: sqlite3.Connection) -> int:
    found = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(found[0]) if found else 0

