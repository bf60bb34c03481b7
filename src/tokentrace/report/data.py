"""What a spend report says, computed from spend rows alone (any source: ledger or Prometheus).

The numbers are sums over :class:`~tokentrace.ledger.SpendRow`; the two that need prices beyond
what the rows carry — what caching saved, and what a reroute changed — re-price the period's
tokens with the same price catalog the calls were priced with (``TOKENTRACE_PRICES`` included),
at the period's end.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..ledger.row import USAGE_SOURCE_ATTEMPT, SpendRow

#: The groupings a report breaks spend down by, in the order it shows them.
DIMENSIONS: Tuple[str, ...] = ("team", "feature", "workflow", "model", "provider", "day")
UNATTRIBUTED = "(none)"
_PRICED = ("priced", "provider_reported")


@dataclass
class Line:
    """Spend of one group: effective and list cost (None when nothing in it was priced), tokens, calls."""

    key: str
    cost: Optional[float] = None
    list_cost: Optional[float] = None
    tokens: int = 0
    calls: int = 0

    def add(self, row: SpendRow) -> None:
        if row.token_type != "reasoning":
            self.tokens += row.tokens
        self.calls += row.calls
        if row.effective_cost_usd is not None:
            self.cost = (self.cost or 0.0) + row.effective_cost_usd
        if row.list_cost_usd is not None:
            self.list_cost = (self.list_cost or 0.0) + row.list_cost_usd


@dataclass
class Mover:
    dimension: str
    key: str
    previous: float
    current: float

    @property
    def change(self) -> float:
        return self.current - self.previous


@dataclass
class Reroute:
    provider: str
    requested: str
    answered: str
    calls: int
    cost: Optional[float]
    #: What the same tokens would have cost at the requested model's price (None: not priced).
    cost_as_requested: Optional[float]


@dataclass
class Unpriced:
    provider: str
    model: str
    status: str
    calls: int
    tokens: int


@dataclass
class ReportData:
    start: float
    end: float
    total: Line
    by: Dict[str, List[Line]]
    movers: List[Mover]
    cache_read_tokens: int
    prompt_tokens: int
    cache_savings: Optional[float]
    reroutes: List[Reroute]
    unpriced: List[Unpriced]
    estimated_calls: int
    estimated_tokens: int
    blocked: List[Line]
    rows: int
    previous_total: Optional[float] = None
    #: (day, team) -> effective cost, for the stacked daily chart.
    by_day_team: Dict[Tuple[str, str], float] = field(default_factory=dict)
    tokens_by_type: Dict[str, int] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    #: Budget use and burn-rate forecasts (see :mod:`.outlook`), when budgets were given.
    budgets: List[Any] = field(default_factory=list)
    #: Hours whose spend was far above the same hour of previous days (see :mod:`.outlook`).
    anomalies: List[Any] = field(default_factory=list)

    @property
    def cache_hit_ratio(self) -> Optional[float]:
        return self.cache_read_tokens / self.prompt_tokens if self.prompt_tokens else None


def day_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")


def _key(row: SpendRow, dimension: str) -> str:
    if dimension == "model":
        return row.model or UNATTRIBUTED
    if dimension == "provider":
        return row.provider or UNATTRIBUTED
    if dimension == "day":
        return day_of(row.period_start)
    return row.dimensions.get(dimension) or UNATTRIBUTED


def build(
    rows: Sequence[SpendRow],
    start: float,
    end: float,
    previous: Optional[Sequence[SpendRow]] = None,
    prices: Any = None,
    top: int = 10,
) -> ReportData:
    """The report of ``rows`` over ``[start, end)``; ``previous`` (the period before) gives the movers."""
    total = Line("total")
    groups: Dict[str, Dict[str, Line]] = {d: {} for d in DIMENSIONS}
    blocked: Dict[str, Line] = {}
    cache_read = prompt = 0
    estimated_calls = estimated_tokens = 0
    unpriced: Dict[Tuple[str, str, str], Unpriced] = {}
    reroute_rows: Dict[Tuple[str, str, str, str], List[SpendRow]] = defaultdict(list)
    cached_rows: Dict[Tuple[str, str, str], List[SpendRow]] = defaultdict(list)
    by_day_team: Dict[Tuple[str, str], float] = defaultdict(float)
    tokens_by_type: Dict[str, int] = defaultdict(int)
    for row in rows:
        if row.usage_source == USAGE_SOURCE_ATTEMPT:  # possibly billed, not counted spend (reconcile's)
            continue
        total.add(row)
        tokens_by_type[row.token_type] += row.tokens
        if row.effective_cost_usd is not None:
            by_day_team[(day_of(row.period_start), row.dimensions.get("team") or UNATTRIBUTED)] += row.effective_cost_usd
        for dimension in DIMENSIONS:
            key = _key(row, dimension)
            line = groups[dimension].get(key)
            if line is None:
                line = groups[dimension][key] = Line(key)
            line.add(row)
        if row.token_type in ("input", "cache_read", "cache_write_5m", "cache_write_1h"):
            prompt += row.tokens
            if row.token_type == "cache_read":
                cache_read += row.tokens
        if row.usage_source == "estimate":
            estimated_calls += row.calls
            estimated_tokens += row.tokens if row.token_type != "reasoning" else 0
        if row.cost_status and row.cost_status not in _PRICED:
            if row.cost_status not in ("no_usage", "deferred") or row.tokens:  # deferred: billed on another row
                item = unpriced.setdefault((row.provider, row.model, row.cost_status), Unpriced(row.provider, row.model, row.cost_status, 0, 0))
                item.calls += row.calls
                item.tokens += row.tokens if row.token_type != "reasoning" else 0
        if row.blocked_calls:
            team = row.dimensions.get("team") or UNATTRIBUTED
            line = blocked.setdefault(team, Line(team))
            line.calls += row.blocked_calls
        if row.rerouted and row.request_model:
            reroute_rows[(row.provider, row.server_address or "", row.request_model, row.model)].append(row)
        if row.effective_cost_usd is not None and row.token_type != "reasoning":
            cached_rows[(row.provider, row.server_address or "", row.model)].append(row)
    by = {d: sorted(groups[d].values(), key=lambda g: (-(g.cost or 0.0), -g.tokens, g.key)) for d in DIMENSIONS}
    by["day"] = sorted(groups["day"].values(), key=lambda g: g.key)
    data = ReportData(
        start=start,
        end=end,
        total=total,
        by=by,
        movers=[],
        cache_read_tokens=cache_read,
        prompt_tokens=prompt,
        cache_savings=None,
        reroutes=[],
        unpriced=sorted(unpriced.values(), key=lambda u: (-u.calls, u.model)),
        estimated_calls=estimated_calls,
        estimated_tokens=estimated_tokens,
        blocked=sorted(blocked.values(), key=lambda g: (-g.calls, g.key)),
        rows=len(rows),
        by_day_team=dict(by_day_team),
        tokens_by_type=dict(tokens_by_type),
    )
    if previous is not None:
        data.movers, data.previous_total = _movers(groups, previous, top)
    if prices is not None:
        data.cache_savings = _cache_savings(cached_rows, prices, end)
        data.reroutes = _reroutes(reroute_rows, prices, end)
    else:
        data.reroutes = _reroutes(reroute_rows, None, end)
    return data


def _movers(groups: Dict[str, Dict[str, Line]], previous: Iterable[SpendRow], top: int) -> Tuple[List[Mover], float]:
    before: Dict[Tuple[str, str], float] = defaultdict(float)
    previous_total = 0.0
    for row in previous:
        if row.effective_cost_usd is None or row.usage_source == USAGE_SOURCE_ATTEMPT:
            continue
        previous_total += row.effective_cost_usd
        for dimension in DIMENSIONS:
            if dimension != "day":
                before[(dimension, _key(row, dimension))] += row.effective_cost_usd
    movers: List[Mover] = []
    seen = set()
    for dimension in DIMENSIONS:
        if dimension == "day":
            continue
        for key, line in groups[dimension].items():
            seen.add((dimension, key))
            movers.append(Mover(dimension, key, before.get((dimension, key), 0.0), line.cost or 0.0))
    for (dimension, key), cost in before.items():
        if (dimension, key) not in seen:
            movers.append(Mover(dimension, key, cost, 0.0))
    movers = [m for m in movers if abs(m.change) > 0 and m.key != UNATTRIBUTED]
    movers.sort(key=lambda m: -abs(m.change))
    return movers[:top], previous_total


def _usage_cost(prices: Any, provider: str, server: str, model: str, tokens: Dict[str, int], at: float, cached: bool) -> Optional[float]:
    """What ``tokens`` cost at ``model``'s price; with ``cached=False`` as if every prompt token were uncached."""
    from ..records.call import CallRecord, Usage

    prompt = tokens.get("input", 0) + tokens.get("cache_read", 0) + tokens.get("cache_write_5m", 0) + tokens.get("cache_write_1h", 0)
    if cached:
        writes = tokens.get("cache_write_5m", 0) + tokens.get("cache_write_1h", 0)
        usage = Usage(
            input_tokens=prompt,
            output_tokens=tokens.get("output", 0),
            cache_read_tokens=tokens.get("cache_read", 0),
            cache_write_tokens=writes,
            cache_write_long_tokens=tokens.get("cache_write_1h", 0),
        )
    else:
        usage = Usage(input_tokens=prompt, output_tokens=tokens.get("output", 0))
    record = CallRecord(provider=provider, operation="chat", request_model=model, response_model=model, server_address=server or None)
    record.usage = usage
    try:
        result = prices.cost(record, at)
        if result.usd is None and record.server_address:
            # rows carry no server.port, which a host's price eligibility may need
            record.server_address = None
            result = prices.cost(record, at)
    except Exception:
        return None
    return result.usd


def _tokens_by_type(rows: Iterable[SpendRow]) -> Dict[str, int]:
    tokens: Dict[str, int] = defaultdict(int)
    for row in rows:
        tokens[row.token_type] += row.tokens
    return tokens


def _cache_savings(groups: Dict[Tuple[str, str, str], List[SpendRow]], prices: Any, at: float) -> Optional[float]:
    """Σ over models of (the prompt billed all uncached) − (as billed, with reads and writes)."""
    saved: List[float] = []
    for (provider, server, model), rows in groups.items():
        tokens = _tokens_by_type(rows)
        if not (tokens.get("cache_read") or tokens.get("cache_write_5m") or tokens.get("cache_write_1h")):
            continue
        uncached = _usage_cost(prices, provider, server, model, tokens, at, cached=False)
        as_billed = _usage_cost(prices, provider, server, model, tokens, at, cached=True)
        if uncached is None or as_billed is None:
            continue
        saved.append(uncached - as_billed)
    return math.fsum(saved) if saved else 0.0


def _reroutes(groups: Dict[Tuple[str, str, str, str], List[SpendRow]], prices: Any, at: float) -> List[Reroute]:
    result: List[Reroute] = []
    for (provider, server, requested, answered), rows in groups.items():
        costs = [r.effective_cost_usd for r in rows if r.effective_cost_usd is not None]
        cost = math.fsum(costs) if costs else None
        as_requested = None
        if prices is not None:
            as_requested = _usage_cost(prices, provider, server, requested, _tokens_by_type(rows), at, cached=True)
        result.append(Reroute(provider, requested, answered, sum(r.calls for r in rows), cost, as_requested))
    result.sort(key=lambda r: -(r.cost or 0.0))
    return result
