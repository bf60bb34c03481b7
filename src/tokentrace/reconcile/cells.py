"""Both sides of a reconciliation summed into the same cells: day x provider x model x token type.

A cell is the finest grain at which a vendor's bill and tokentrace's ledger can be compared:
the vendor reports per day (or finer) and per token type; tokentrace's rows are per minute.
Dimensions (project, workspace, API key) split a cell only when *both* sides carry them, since
a key one side does not know cannot be compared. Rows tokentrace recorded for attempts it never
saw answered (``usage_source`` ``attempt``) are kept apart: they are not counted as captured,
they are what may explain the vendor billing more.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from ..ledger.row import BILLED_TOKEN_TYPES, USAGE_SOURCE_ATTEMPT, SpendRow
from .identity import ModelIdentity, provider_family

#: ``usage_source`` of rows that estimate attempts the vendor may bill but the app never saw
#: answered: the SDK's own retries after a timeout or dropped connection, calls that timed out,
#: streams cancelled or cut before their usage arrived.
USAGE_POSSIBLY_BILLED = USAGE_SOURCE_ATTEMPT
USAGE_ESTIMATE = "estimate"
#: Vendor-side keys that name who sent the traffic.
SCOPE_KEYS = ("project_id", "workspace_id", "api_key_id", "account_id")
DAY = 86400


def scope_value(row: SpendRow, key: str) -> Optional[str]:
    """A vendor-side key of a row; on tokentrace's side also the tag of that name, so calls tagged
    ``tokentrace.attribute(project_id="proj_app")`` reconcile per project."""
    value = row.dimensions.get(key)
    if value is None:
        value = row.dimensions.get(f"tag.{key}")
    return value


def day_of(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch // DAY) * DAY, dt.timezone.utc).strftime("%Y-%m-%d")


class CellKey(NamedTuple):
    day: str
    provider: str
    model: str
    token_type: str
    scope: Tuple[Tuple[str, str], ...] = ()

    @property
    def call_key(self) -> Tuple[str, str, str, Tuple[Tuple[str, str], ...]]:
        return (self.day, self.provider, self.model, self.scope)


@dataclass
class Side:
    """One side's sums in one cell."""

    tokens: int = 0
    cost_usd: float = 0.0
    #: Tokens whose cost is known; ``cost_usd`` covers exactly these.
    priced_tokens: int = 0
    unpriced_tokens: int = 0
    has_cost: bool = False
    estimated_tokens: int = 0
    possibly_billed_tokens: int = 0
    possibly_billed_cost_usd: float = 0.0
    possibly_billed_calls: int = 0
    blocked_calls: int = 0
    #: Model spellings seen in this cell, with tokens (shown as "billed as ...").
    spellings: Counter = field(default_factory=Counter)
    #: Tokens per vendor-side scope value, e.g. {("project_id", "proj_x"): 1200}.
    by_scope: Counter = field(default_factory=Counter)
    cost_by_scope: Dict[Tuple[str, str], float] = field(default_factory=dict)
    unpriced_models: Counter = field(default_factory=Counter)
    cost_statuses: Counter = field(default_factory=Counter)

    def absorb(self, other: Side) -> None:
        """Add another cell's sums into this one (the totals of a reconciliation)."""
        self.tokens += other.tokens
        self.cost_usd += other.cost_usd
        self.priced_tokens += other.priced_tokens
        self.unpriced_tokens += other.unpriced_tokens
        self.has_cost = self.has_cost or other.has_cost
        self.estimated_tokens += other.estimated_tokens
        self.possibly_billed_tokens += other.possibly_billed_tokens
        self.possibly_billed_cost_usd += other.possibly_billed_cost_usd
        self.possibly_billed_calls += other.possibly_billed_calls
        self.blocked_calls += other.blocked_calls
        for mine, theirs in ((self.spellings, other.spellings), (self.by_scope, other.by_scope), (self.unpriced_models, other.unpriced_models), (self.cost_statuses, other.cost_statuses)):
            mine.update(theirs)
        for key, cost in other.cost_by_scope.items():
            self.cost_by_scope[key] = self.cost_by_scope.get(key, 0.0) + cost

    def add(self, row: SpendRow, cost: Optional[float]) -> None:
        self.spellings[row.model] += row.tokens
        if row.usage_source == USAGE_POSSIBLY_BILLED:
            self.possibly_billed_tokens += row.tokens
            self.possibly_billed_cost_usd += cost or 0.0
            self.possibly_billed_calls += row.calls
            return
        self.tokens += row.tokens
        self.blocked_calls += row.blocked_calls
        if row.usage_source == USAGE_ESTIMATE:
            self.estimated_tokens += row.tokens
        if row.cost_status:
            self.cost_statuses[row.cost_status] += row.tokens
        if cost is None:
            if row.tokens:
                self.unpriced_tokens += row.tokens
                self.unpriced_models[row.model] += row.tokens
        else:
            self.has_cost = True
            self.cost_usd += cost
            self.priced_tokens += row.tokens
        for key in SCOPE_KEYS:
            value = scope_value(row, key)
            if value is not None:
                self.by_scope[(key, value)] += row.tokens
                self.cost_by_scope[(key, value)] = self.cost_by_scope.get((key, value), 0.0) + (cost or 0.0)


def row_cost(row: SpendRow) -> Optional[float]:
    """What the row says was (or would be) paid: effective cost, else list cost."""
    return row.effective_cost_usd if row.effective_cost_usd is not None else row.list_cost_usd


@dataclass
class Cells:
    vendor: Dict[CellKey, Side]
    ours: Dict[CellKey, Side]
    #: Keys of ``scope`` both sides carry (cells are split by them).
    scope_keys: Tuple[str, ...]
    #: (provider, vendor spelling) -> compared name, for the "matched as" notes.
    vendor_names: Dict[Tuple[str, str], Tuple[str, bool]]
    our_names: Dict[Tuple[str, str], Tuple[str, bool]]
    #: Vendor-side requests per (day, provider, model, scope) where the vendor reports them.
    vendor_requests: Dict[Tuple[str, str, str, Tuple[Tuple[str, str], ...]], int]
    our_requests: Dict[Tuple[str, str, str, Tuple[Tuple[str, str], ...]], int]

    def keys(self) -> List[CellKey]:
        return sorted(set(self.vendor) | set(self.ours))


def shared_scope_keys(vendor: Sequence[SpendRow], ours: Sequence[SpendRow]) -> Tuple[str, ...]:
    """Scope keys present on every row of both sides (a key on some rows only cannot split)."""
    def present(rows: Sequence[SpendRow]) -> set:
        keys = set(SCOPE_KEYS)
        for row in rows:
            keys &= {k for k in SCOPE_KEYS if scope_value(row, k) not in (None, "")}
            if not keys:
                break
        return keys if rows else set()

    return tuple(k for k in SCOPE_KEYS if k in (present(vendor) & present(ours)))


def build(vendor: Iterable[SpendRow], ours: Iterable[SpendRow], identity: ModelIdentity) -> Cells:
    vendor_rows = [r for r in vendor if r.token_type in BILLED_TOKEN_TYPES]
    our_rows = [r for r in ours if r.token_type in BILLED_TOKEN_TYPES]
    scope_keys = shared_scope_keys(vendor_rows, [r for r in our_rows if r.usage_source != USAGE_POSSIBLY_BILLED])
    cells = Cells({}, {}, scope_keys, {}, {}, {}, {})
    _sum(vendor_rows, cells.vendor, cells.vendor_names, cells.vendor_requests, scope_keys, identity)
    _sum(our_rows, cells.ours, cells.our_names, cells.our_requests, scope_keys, identity)
    return cells


def _sum(
    rows: Sequence[SpendRow],
    into: Dict[CellKey, Side],
    names: Dict[Tuple[str, str], Tuple[str, bool]],
    requests: Dict[Tuple[str, str, str, Tuple[Tuple[str, str], ...]], int],
    scope_keys: Tuple[str, ...],
    identity: ModelIdentity,
) -> None:
    # A bucket's rows (one per token type) may each carry the bucket's request count, or only
    # one of them does: the count of a bucket is the largest, and buckets add up.
    bucket_calls: Dict[Tuple[object, ...], Tuple[Tuple[str, str, str, Tuple[Tuple[str, str], ...]], int]] = {}
    for row in rows:
        family = provider_family(row.provider)
        compared = identity.resolve_row(row.provider, row.model, row.request_model)
        names[(family, row.model)] = compared
        scope = tuple((k, scope_value(row, k) or "") for k in scope_keys)
        key = CellKey(day_of(row.period_start), family, compared[0], row.token_type, scope)
        side = into.get(key)
        if side is None:
            side = into[key] = Side()
        side.add(row, row_cost(row))
        if row.usage_source != USAGE_POSSIBLY_BILLED and row.calls:
            bucket = _bucket(row)
            previous = bucket_calls.get(bucket)
            if previous is None or previous[1] < row.calls:
                bucket_calls[bucket] = (key.call_key, row.calls)
    for call_key, calls in bucket_calls.values():
        requests[call_key] = requests.get(call_key, 0) + calls


def _bucket(row: SpendRow) -> Tuple[object, ...]:
    return (
        row.period_start,
        row.period_end,
        row.provider,
        row.model,
        row.request_model,
        row.server_address,
        row.service_tier,
        row.cost_status,
        row.usage_source,
        row.rerouted,
        row.source,
        tuple(sorted(row.dimensions.items())),
    )
