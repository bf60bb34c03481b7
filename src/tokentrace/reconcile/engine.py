"""Compare a vendor's usage and cost with tokentrace's, cell by cell, and explain the gaps."""

from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Set

from ..ledger.row import SpendRow
from .cells import Side, build
from .explain import explain
from .identity import ModelIdentity
from .result import Cell, Reconciliation, Totals

DEFAULT_TOLERANCE = 0.01


def reconcile(
    vendor: Iterable[SpendRow],
    ours: Iterable[SpendRow],
    *,
    source: str,
    start: float,
    end: float,
    tolerance: float = DEFAULT_TOLERANCE,
    identity: Optional[ModelIdentity] = None,
    scope: Optional[Mapping[str, Set[str]]] = None,
) -> Reconciliation:
    """Reconcile ``vendor`` rows (a vendor source's) with ``ours`` (the ledger's or Prometheus').

    Only rows inside [start, end) count on either side, so a vendor page that reaches past the
    window cannot create a delta. ``tolerance`` is relative (0.01 = 1 %): a cell whose
    *unexplained* delta is larger, or a total capture further from 100 %, makes
    :attr:`Reconciliation.within_tolerance` false. ``scope`` optionally declares which vendor
    projects / workspaces / API keys tokentrace instruments (``{"project_id": {"proj_a"}}``).
    """
    identity = identity or ModelIdentity()
    vendor_rows = [row for row in vendor if start <= row.period_start < end]
    our_rows = [row for row in ours if start <= row.period_start < end]
    built = build(vendor_rows, our_rows, identity)
    cells: List[Cell] = []
    for key in built.keys():
        cell = Cell(key, built.vendor.get(key) or Side(), built.ours.get(key) or Side())
        cell.vendor_names = sorted(n for n in cell.vendor.spellings if n != key.model)
        cell.our_names = sorted(n for n in cell.ours.spellings if n != key.model)
        cells.append(cell)
    notes = explain(cells, built, tolerance, scope)
    notes += _name_notes(built.vendor_names, built.our_names)
    totals = _totals(cells)
    blocked = totals.blocked_calls
    if blocked:
        notes.append(f"{blocked} call(s) were blocked by tokentrace budgets before being sent: never billed, and rightly absent from the vendor's data")
    failures = [cell for cell in cells if _past(cell, tolerance)]
    cells.sort(key=lambda c: (-abs(c.unexplained_cost_usd or 0.0), -abs(c.unexplained_tokens), -abs(c.delta_cost_usd or 0.0), -abs(c.delta_tokens), c.key))
    failures.sort(key=cells.index)
    return Reconciliation(source, start, end, tolerance, cells, totals, notes, failures)


def _past(cell: Cell, tolerance: float) -> bool:
    base_tokens = max(cell.vendor.tokens, cell.ours.tokens, 1)
    if abs(cell.unexplained_tokens) > tolerance * base_tokens:
        return True
    unexplained_cost = cell.unexplained_cost_usd
    if unexplained_cost is not None and cell.ours.has_cost:
        base_cost = max(cell.vendor.cost_usd, cell.ours.cost_usd)
        return abs(unexplained_cost) > tolerance * base_cost + 1e-12
    return False


def _totals(cells: Iterable[Cell]) -> Totals:
    totals = Totals()
    for cell in cells:
        totals.add(cell)
    return totals


def _name_notes(vendor_names: Mapping[tuple, tuple], our_names: Mapping[tuple, tuple]) -> List[str]:
    """Say which spellings were matched through the catalog, and which the catalog does not know."""
    notes: List[str] = []
    ours_by_name: Dict[tuple, Set[str]] = {}
    for (provider, spelling), (name, _known) in our_names.items():
        ours_by_name.setdefault((provider, name), set()).add(spelling)
    for (provider, spelling), (name, known) in sorted(vendor_names.items()):
        theirs = ours_by_name.get((provider, name), set()) - {spelling}
        if theirs:
            notes.append(f"{provider}: vendor {spelling!r} matched tokentrace's {', '.join(repr(s) for s in sorted(theirs))} as {name!r}")
        elif not known:
            notes.append(f"{provider}: the vendor's model {spelling!r} is not in the price catalog; compared by its name only")
    return notes
