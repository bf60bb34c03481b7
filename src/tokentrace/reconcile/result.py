"""What a reconciliation found: cells with both sides, deltas, capture rates and their causes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .cells import CellKey, Side

# Causes a delta is attributed to (``Cause.kind``).
MISSING_DAY = "missing_day"
VENDOR_LAG = "vendor_not_reported"
UNSEEN_SCOPE = "unseen_scope"
MODEL_NAME = "model_named_differently"
POSSIBLY_BILLED = "possibly_billed_attempts"
EXTRA_REQUESTS = "extra_billed_requests"
ESTIMATED = "estimated_usage"
UNPRICED = "unpriced"
RATE = "rate_difference"
CAUSES = (MISSING_DAY, VENDOR_LAG, UNSEEN_SCOPE, MODEL_NAME, POSSIBLY_BILLED, EXTRA_REQUESTS, ESTIMATED, UNPRICED, RATE)


@dataclass
class Cause:
    """One reason for (part of) a cell's delta; ``tokens``/``cost_usd`` are the part it explains,
    signed like the delta (vendor minus tokentrace)."""

    kind: str
    detail: str
    tokens: int = 0
    cost_usd: Optional[float] = None

    def as_dict(self) -> Dict[str, Any]:
        return {"kind": self.kind, "detail": self.detail, "tokens": self.tokens, "cost_usd": _round(self.cost_usd)}


class _Compared:
    """Both sides' sums (``vendor``, ``ours``) and what follows from them, for one cell and for
    the whole reconciliation alike."""

    vendor: Side
    ours: Side

    @property
    def delta_tokens(self) -> int:
        return self.vendor.tokens - self.ours.tokens

    @property
    def delta_cost_usd(self) -> Optional[float]:
        if not self.vendor.has_cost:
            return None
        return self.vendor.cost_usd - self.ours.cost_usd

    @property
    def token_capture(self) -> Optional[float]:
        return self.ours.tokens / self.vendor.tokens if self.vendor.tokens else None

    @property
    def cost_capture(self) -> Optional[float]:
        return self.ours.cost_usd / self.vendor.cost_usd if self.vendor.has_cost and self.vendor.cost_usd else None


@dataclass
class Cell(_Compared):
    key: CellKey
    vendor: Side
    ours: Side
    causes: List[Cause] = field(default_factory=list)
    #: Vendor spelling(s) when they differ from the compared name ("billed as").
    vendor_names: List[str] = field(default_factory=list)
    our_names: List[str] = field(default_factory=list)

    @property
    def explained_tokens(self) -> int:
        return sum(c.tokens for c in self.causes)

    @property
    def explained_cost_usd(self) -> float:
        return sum(c.cost_usd or 0.0 for c in self.causes)

    @property
    def unexplained_tokens(self) -> int:
        return self.delta_tokens - self.explained_tokens

    @property
    def unexplained_cost_usd(self) -> Optional[float]:
        delta = self.delta_cost_usd
        return None if delta is None else delta - self.explained_cost_usd

    def as_dict(self) -> Dict[str, Any]:
        key = self.key
        return {
            "day": key.day,
            "provider": key.provider,
            "model": key.model,
            "token_type": key.token_type,
            "scope": dict(key.scope),
            "vendor_model_names": self.vendor_names,
            "tokentrace_model_names": self.our_names,
            "vendor_tokens": self.vendor.tokens,
            "tokentrace_tokens": self.ours.tokens,
            "delta_tokens": self.delta_tokens,
            "token_capture": _round(self.token_capture, 6),
            "vendor_cost_usd": _round(self.vendor.cost_usd) if self.vendor.has_cost else None,
            "tokentrace_cost_usd": _round(self.ours.cost_usd) if self.ours.has_cost else None,
            "delta_cost_usd": _round(self.delta_cost_usd),
            "cost_capture": _round(self.cost_capture, 6),
            "tokentrace_unpriced_tokens": self.ours.unpriced_tokens,
            "tokentrace_estimated_tokens": self.ours.estimated_tokens,
            "possibly_billed_tokens": self.ours.possibly_billed_tokens,
            "unexplained_tokens": self.unexplained_tokens,
            "unexplained_cost_usd": _round(self.unexplained_cost_usd),
            "causes": [c.as_dict() for c in self.causes],
        }


@dataclass
class Totals(_Compared):
    """The sums of every cell; the flat names (``vendor_tokens`` ...) read the two sides."""

    vendor: Side = field(default_factory=Side)
    ours: Side = field(default_factory=Side)
    unexplained_tokens: int = 0
    unexplained_cost_usd: float = 0.0

    def add(self, cell: Cell) -> None:
        self.vendor.absorb(cell.vendor)
        self.ours.absorb(cell.ours)
        self.unexplained_tokens += cell.unexplained_tokens
        self.unexplained_cost_usd += cell.unexplained_cost_usd or 0.0

    vendor_tokens = property(lambda self: self.vendor.tokens)
    tokentrace_tokens = property(lambda self: self.ours.tokens)
    vendor_cost_usd = property(lambda self: self.vendor.cost_usd)
    tokentrace_cost_usd = property(lambda self: self.ours.cost_usd)
    vendor_has_cost = property(lambda self: self.vendor.has_cost)
    possibly_billed_tokens = property(lambda self: self.ours.possibly_billed_tokens)
    possibly_billed_cost_usd = property(lambda self: self.ours.possibly_billed_cost_usd)
    blocked_calls = property(lambda self: self.ours.blocked_calls)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "vendor_tokens": self.vendor_tokens,
            "tokentrace_tokens": self.tokentrace_tokens,
            "delta_tokens": self.delta_tokens,
            "token_capture": _round(self.token_capture, 6),
            "vendor_cost_usd": _round(self.vendor_cost_usd) if self.vendor_has_cost else None,
            "tokentrace_cost_usd": _round(self.tokentrace_cost_usd),
            "delta_cost_usd": _round(self.delta_cost_usd),
            "cost_capture": _round(self.cost_capture, 6),
            "unexplained_tokens": self.unexplained_tokens,
            "unexplained_cost_usd": _round(self.unexplained_cost_usd),
            "possibly_billed_tokens": self.possibly_billed_tokens,
            "possibly_billed_cost_usd": _round(self.possibly_billed_cost_usd),
            "budget_blocked_calls": self.blocked_calls,
        }


@dataclass
class Reconciliation:
    source: str
    start: float
    end: float
    tolerance: float
    cells: List[Cell]
    totals: Totals
    #: Findings that are not one cell's: unseen projects, name matches, blocked calls.
    notes: List[str] = field(default_factory=list)
    #: Cells whose unexplained delta exceeds the tolerance.
    failures: List[Cell] = field(default_factory=list)

    @property
    def within_tolerance(self) -> bool:
        return not self.failures and _within(self.totals.token_capture, self.tolerance) and _within(self.totals.cost_capture, self.tolerance)

    def causes(self) -> Dict[str, int]:
        """Cause kind -> how many cells it explains (part of)."""
        counts: Dict[str, int] = {}
        for cell in self.cells:
            for cause in cell.causes:
                counts[cause.kind] = counts.get(cause.kind, 0) + 1
        return counts

    def as_dict(self) -> Dict[str, Any]:
        return {
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "tolerance": self.tolerance,
            "within_tolerance": self.within_tolerance,
            "totals": self.totals.as_dict(),
            "causes": self.causes(),
            "notes": self.notes,
            "cells": [c.as_dict() for c in self.cells],
        }


def _within(capture: Optional[float], tolerance: float) -> bool:
    return capture is None or abs(1.0 - capture) <= tolerance + 1e-12


def _round(value: Optional[float], digits: int = 9) -> Optional[float]:
    return None if value is None else round(value, digits)
