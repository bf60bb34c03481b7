"""Price catalog and cost engine."""

from __future__ import annotations

from .base import CostResult, PriceLookup
from .catalog import load_catalog

__all__ = ["CostResult", "PriceLookup", "load_catalog"]
