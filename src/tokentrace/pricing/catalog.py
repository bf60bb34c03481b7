"""Placeholder catalog (replaced by the full catalog of issue #3): a few OpenAI rates per 1M tokens."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ..core import semconv as sc
from ..core.record import CallRecord
from ..core.rerouting import canonical_model
from .base import CostResult

_RATES: Dict[str, Tuple[float, float, float]] = {
    "gpt-4o": (2.5, 1.25, 10.0),
    "gpt-4o-mini": (0.15, 0.075, 0.6),
    "gpt-5": (1.25, 0.125, 10.0),
    "gpt-5-mini": (0.25, 0.025, 2.0),
    "text-embedding-3-small": (0.02, 0.02, 0.0),
}


class Catalog:
    def cost(self, record: CallRecord, at: Optional[float] = None) -> CostResult:
        model = record.model
        usage = record.usage
        if usage is None:
            return CostResult(None, sc.COST_NO_USAGE)
        key = canonical_model(model) if model else None
        rates = _RATES.get(key or "")
        if rates is None:
            return CostResult(None, sc.COST_UNKNOWN_MODEL)
        inp, cached, out = rates
        usd = (usage.uncached_input_tokens * inp + usage.cache_read_tokens * cached + usage.output_tokens * out) / 1e6
        return CostResult(usd, sc.COST_PRICED, key, "local")


def load_catalog(config: Any) -> Catalog:
    return Catalog()
