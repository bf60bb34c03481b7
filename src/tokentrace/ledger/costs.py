"""Splitting a call's (or a series') cost over its token types, so the parts add up exactly."""

from __future__ import annotations

import math
from typing import Optional, Tuple

from ..pricing.base import CostParts


def apportion(total: float, weights: Tuple[float, ...]) -> Tuple[float, ...]:
    """Split ``total`` in proportion to ``weights`` so that the parts add up to ``total``."""
    weight = math.fsum(weights)
    if weight <= 0:
        return (total,) + (0.0,) * (len(weights) - 1)
    parts = [total * w / weight for w in weights]
    largest = max(range(len(parts)), key=lambda i: parts[i])
    parts[largest] += total - math.fsum(parts)
    return tuple(parts)


def split(total: float, parts: Optional[CostParts], tokens: Tuple[int, ...]) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """(list, effective) per billed token type for a cost of ``total`` USD.

    The effective parts follow the catalog's effective rates (``parts``) and add up to
    ``total``; list parts are the catalog's list prices scaled by the same factor (1 for a call
    tokentrace priced itself; the reported/catalog ratio for a price a gateway reported). Without
    a catalog entry the cost is split by tokens and list equals effective.
    """
    weight = math.fsum(parts.effective) if parts is not None else 0.0
    if parts is not None and weight > 0:
        return tuple(p * total / weight for p in parts.list), apportion(total, parts.effective)
    effective = apportion(total, tuple(float(t) for t in tokens))
    return effective, effective
