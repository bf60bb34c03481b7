"""One spend row: the unit every FinOps consumer reads (report, focus, reconcile).

The ledger writer, the ledger and Prometheus readers, and the vendor usage/cost parsers all
produce this same row, so that a report or a reconciliation never needs to know where its
numbers came from. A row is one (period, provider, model, token type, dimensions) cell with the
tokens and costs summed over it. It is pure data: no imports from above ``core``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

#: Token types of a spend row. ``reasoning`` is part of ``output`` (informational: a row of
#: ``reasoning`` tokens is never added to ``output`` again when totals are computed);
#: ``input`` means *uncached* input, so input + cache_read + cache_write_5m + cache_write_1h
#: is the whole prompt.
TOKEN_TYPES: Tuple[str, ...] = (
    "input",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "output",
    "reasoning",
)

#: Token types whose counts add up to the billed total (``reasoning`` is inside ``output``).
BILLED_TOKEN_TYPES: Tuple[str, ...] = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output")


#: ``usage_source`` of rows that estimate attempts a provider may have billed but the app never saw
#: answered (SDK retries after a timeout or a dropped connection). They are not spend tokentrace
#: counted: totals, reports and FOCUS rows leave them out; reconcile uses them to explain a gap.
USAGE_SOURCE_ATTEMPT = "attempt"


@dataclass(frozen=True)
class SpendRow:
    """Tokens and cost of one cell of spend.

    ``period_start``/``period_end`` are UTC epoch seconds (end exclusive). ``dimensions`` holds
    attribution (``team``, ``feature``, ``workflow`` ...), tags (``tag.<key>``) and vendor-side
    keys (``project_id``, ``workspace_id``, ``api_key_id``) as plain strings; a key missing from
    the mapping means "not known on this side", which reconcile treats differently from "".
    Costs are USD; ``None`` means unpriced, never zero.
    """

    period_start: float
    period_end: float
    provider: str
    model: str
    token_type: str
    tokens: int
    list_cost_usd: Optional[float] = None
    effective_cost_usd: Optional[float] = None
    request_model: Optional[str] = None
    server_address: Optional[str] = None
    service_tier: Optional[str] = None
    cost_status: Optional[str] = None
    usage_source: Optional[str] = None
    rerouted: Optional[bool] = None
    calls: int = 0
    blocked_calls: int = 0
    dimensions: Dict[str, str] = field(default_factory=dict)
    #: Where the row came from: ``ledger``, ``prometheus``, ``openai``, ``anthropic``, ``cur`` ...
    source: str = "ledger"
