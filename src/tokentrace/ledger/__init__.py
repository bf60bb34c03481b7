"""The spend ledger: completed calls summed into :class:`SpendRow` rows, in a local SQLite file.

``instrument(ledger="spend.sqlite")`` (or ``TOKENTRACE_LEDGER``) records every completed call;
``tokentrace run`` and ``tokentrace demo`` write :func:`default_path` unless told otherwise.
:func:`read_rows` (``tokentrace.ledger.reader``) reads a period back, from the file or from the
Prometheus counters of a fleet. The file's schema is documented in ``tokentrace.ledger.store``.
"""

from __future__ import annotations

from typing import Any, List

from .row import BILLED_TOKEN_TYPES, TOKEN_TYPES, SpendRow
from .store import SCHEMA_VERSION, LedgerError, default_path

__all__ = [
    "BILLED_TOKEN_TYPES",
    "LedgerError",
    "SCHEMA_VERSION",
    "SpendRow",
    "TOKEN_TYPES",
    "default_path",
    "read_rows",
    "setup",
]


def setup(config: Any, prices: Any) -> List[Any]:
    """The ledger writer for one ``instrument()``, when a ledger file is configured."""
    path = getattr(config, "ledger", None)
    if not path:
        return []
    from .writer import LedgerWriter

    return [LedgerWriter(path, prices, bucket_s=getattr(config, "ledger_bucket", 60))]


def read_rows(**options: Any) -> List[SpendRow]:
    """See :func:`tokentrace.ledger.reader.read_rows`."""
    from .reader import read_rows as _read_rows

    return _read_rows(**options)
