"""``tokentrace.reconcile.capture_ratio``: what share of the vendor's bill tokentrace saw, as a metric.

A reconciliation run from cron records one gauge point per (source, provider, basis): the
share of the vendor's cost (``basis=cost``) and tokens (``basis=tokens``) that tokentrace
counted. The shipped alert ``TokentraceReconcileCaptureLow`` fires below 95 %. Through the
Python SDK's Prometheus exporter the series is ``tokentrace_reconcile_capture_ratio``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, Optional, Tuple

from .result import Reconciliation

METRIC = "tokentrace.reconcile.capture_ratio"
ATTR_SOURCE = "tokentrace.reconcile.source"
ATTR_BASIS = "tokentrace.reconcile.basis"
ATTR_PROVIDER = "gen_ai.provider.name"


def capture_by_provider(result: Reconciliation) -> Dict[Tuple[str, str], float]:
    """(provider, basis) -> capture ratio over the whole period (only where the vendor billed)."""
    sums: Dict[str, list] = defaultdict(lambda: [0, 0, 0.0, 0.0, False])
    for cell in result.cells:
        entry = sums[cell.key.provider]
        entry[0] += cell.vendor.tokens
        entry[1] += cell.ours.tokens
        entry[2] += cell.vendor.cost_usd
        entry[3] += cell.ours.cost_usd
        entry[4] = entry[4] or cell.vendor.has_cost
    ratios: Dict[Tuple[str, str], float] = {}
    for provider, (vendor_tokens, our_tokens, vendor_cost, our_cost, has_cost) in sums.items():
        if vendor_tokens:
            ratios[(provider, "tokens")] = our_tokens / vendor_tokens
        if has_cost and vendor_cost:
            ratios[(provider, "cost")] = our_cost / vendor_cost
    return ratios


def record_capture(result: Reconciliation, meter_provider: Optional[Any] = None) -> Dict[Tuple[str, str], float]:
    """Record the capture ratios on ``meter_provider`` (the global one by default); returns them."""
    from opentelemetry import metrics

    from .._version import __version__

    provider = meter_provider or metrics.get_meter_provider()
    meter = provider.get_meter("tokentrace.reconcile", __version__)
    gauge = meter.create_gauge(METRIC, unit="1", description="Share of the vendor's billed cost or tokens that tokentrace counted")
    ratios = capture_by_provider(result)
    for (provider_name, basis), value in ratios.items():
        gauge.set(value, {ATTR_SOURCE: result.source, ATTR_PROVIDER: provider_name, ATTR_BASIS: basis})
    return ratios
