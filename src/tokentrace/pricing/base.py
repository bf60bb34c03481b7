"""The price-lookup interface the pipeline calls; the catalog behind it lives in this package."""

from __future__ import annotations

from typing import NamedTuple, Optional, Protocol, Tuple

from ..records.call import CallRecord


class CostResult(NamedTuple):
    """Cost of one call. ``usd`` is ``None`` whenever it is not known: never a silent 0."""

    usd: Optional[float]
    status: str
    #: The catalog entry the call was priced with (after resolving snapshots, prefixes ...).
    model: Optional[str] = None
    #: ``local`` (computed from the catalog) or ``provider`` (reported by the API or gateway).
    source: Optional[str] = None


class CostParts(NamedTuple):
    """USD of one call per billed token type, in the order of :data:`PART_TOKEN_TYPES`.

    ``list`` is the public (built-in catalog) price, ``effective`` the price after the user's
    overrides and discounts: what ``CostResult.usd`` charges, split by token type.
    """

    list: Tuple[float, float, float, float, float]
    effective: Tuple[float, float, float, float, float]


#: Token types of :class:`CostParts` (the spend ledger's billed token types).
PART_TOKEN_TYPES: Tuple[str, ...] = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")


class PriceLookup(Protocol):
    def cost(self, record: CallRecord, at: Optional[float] = None) -> CostResult:
        """Price ``record``; ``at`` is the call's Unix time, for prices that changed over time."""
        ...
