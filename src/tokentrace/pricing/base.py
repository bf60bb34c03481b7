"""The price-lookup interface the pipeline calls; the catalog behind it lives in this package."""

from __future__ import annotations

from typing import NamedTuple, Optional, Protocol

from ..core.record import CallRecord


class CostResult(NamedTuple):
    """Cost of one call. ``usd`` is ``None`` whenever it is not known: never a silent 0."""

    usd: Optional[float]
    status: str
    #: The catalog entry the call was priced with (after resolving snapshots, prefixes ...).
    model: Optional[str] = None
    #: ``local`` (computed from the catalog) or ``provider`` (reported by the API or gateway).
    source: Optional[str] = None


class PriceLookup(Protocol):
    def cost(self, record: CallRecord, at: Optional[float] = None) -> CostResult:
        """Price ``record``; ``at`` is the call's Unix time, for prices that changed over time."""
        ...
