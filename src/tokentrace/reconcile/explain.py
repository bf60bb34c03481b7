"""Attribute each cell's delta (vendor minus tokentrace) to the causes that explain it.

Explainers run in a fixed order, each taking the part of a cell's delta still unexplained:

1. a day one side has no data for at all (tokentrace not running / ledger not kept, or the
   vendor not having reported the day yet);
2. attempts tokentrace recorded as possibly billed (SDK retries after timeouts, dropped
   connections or streams): facts tokentrace recorded, so they come before any inference;
3. traffic from a project, workspace or API key tokentrace never saw (declared with ``scope``,
   known from both sides' dimensions, or inferred when that scope's traffic is exactly the gap);
4. one model under two names the catalog does not unite (same tokens, other spelling), then
   requests the vendor counted beyond those tokentrace saw answered;
5. usage tokentrace estimated because the provider reported none;
6. unpriced calls (tokens match, tokentrace has no cost);
7. a rate difference (tokens match, costs do not).

Whatever is left is *unexplained*, and what the tolerance and the exit code judge.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from . import result as r
from .cells import SCOPE_KEYS, Cells
from .result import Cause, Cell

#: Relative slack when comparing token counts that should be "the same".
MATCH_SLACK = 0.005


def explain(cells: List[Cell], built: Cells, tolerance: float, scope: Optional[Mapping[str, Set[str]]] = None) -> List[str]:
    """Attach causes to ``cells`` in place; returns report-wide notes."""
    notes: List[str] = []
    _days(cells, notes)
    _possibly_billed(cells)
    _scopes(cells, built, tolerance, scope or {}, notes)
    _model_names(cells, notes)
    _extra_requests(cells, built)
    _estimated(cells)
    _unpriced(cells)
    _rates(cells, tolerance)
    return notes


def _add(cell: Cell, kind: str, detail: str, tokens: int, cost: Optional[float] = None) -> None:
    """Add a cause; ``cost`` defaults to the same share of the unexplained cost as ``tokens``."""
    if cost is None:
        remaining_cost = cell.unexplained_cost_usd
        remaining = cell.unexplained_tokens
        if remaining_cost is not None:
            cost = remaining_cost * (tokens / remaining) if remaining else 0.0
    cell.causes.append(Cause(kind, detail, tokens, cost))


def _close(a: float, b: float, slack: float = MATCH_SLACK) -> bool:
    return abs(a - b) <= slack * max(abs(a), abs(b), 1.0)


# -- 1. days with no data on one side -----------------------------------------------------------------


def _days(cells: Sequence[Cell], notes: List[str]) -> None:
    vendor_days: Dict[str, Set[str]] = defaultdict(set)
    our_days: Dict[str, Set[str]] = defaultdict(set)
    for cell in cells:
        if cell.vendor.tokens or cell.vendor.cost_usd:
            vendor_days[cell.key.provider].add(cell.key.day)
        if cell.ours.tokens or cell.ours.possibly_billed_tokens or cell.ours.cost_usd:
            our_days[cell.key.provider].add(cell.key.day)
    missing: Dict[Tuple[str, str], int] = defaultdict(int)
    lagging: Dict[Tuple[str, str], int] = defaultdict(int)
    for cell in cells:
        provider, day = cell.key.provider, cell.key.day
        if cell.unexplained_tokens > 0 and day not in our_days[provider]:
            missing[(provider, day)] += cell.unexplained_tokens
            _add(cell, r.MISSING_DAY, f"tokentrace recorded no {provider} traffic at all on {day} (app not instrumented, ledger not written or not read for that day)", cell.unexplained_tokens)
        elif cell.unexplained_tokens < 0 and day not in vendor_days[provider]:
            lagging[(provider, day)] += -cell.unexplained_tokens
            _add(cell, r.VENDOR_LAG, f"the vendor reports no {provider} usage on {day} yet (usage and cost exports lag by hours to days)", cell.unexplained_tokens)
    for (provider, day), tokens in sorted(missing.items()):
        notes.append(f"{day}: {provider} billed {tokens:,} tokens on a day tokentrace has no record of")
    for (provider, day), tokens in sorted(lagging.items()):
        notes.append(f"{day}: tokentrace counted {tokens:,} {provider} tokens the vendor has not reported")


# -- 2. projects, workspaces, keys tokentrace never saw ------------------------------------------------


def _scopes(cells: Sequence[Cell], built: Cells, tolerance: float, declared: Mapping[str, Set[str]], notes: List[str]) -> None:
    for key in SCOPE_KEYS:
        values: Dict[str, List[Cell]] = defaultdict(list)
        for cell in cells:
            for (scope_key, value), tokens in cell.vendor.by_scope.items():
                if scope_key == key and tokens:
                    values[value].append(cell)
        if not values:
            continue
        seen_by_us = {v for c in cells for (k, v) in c.ours.by_scope if k == key}
        for value in sorted(values):
            if key in declared:
                unseen = value not in declared[key]
                how = f"not among the {key}s tokentrace covers ({', '.join(sorted(declared[key])) or 'none'})"
            elif key in built.scope_keys or seen_by_us:
                unseen = value not in seen_by_us
                how = "tokentrace has no call from it"
            else:
                unseen = len(values) > 1 and _is_the_gap(values[value], key, value, tolerance)
                how = "its traffic is exactly the part tokentrace is missing"
            if not unseen:
                continue
            total_tokens = 0
            total_cost = 0.0
            for cell in values[value]:
                tokens = cell.vendor.by_scope[(key, value)]
                # Cost reports may not break down by this key (OpenAI's by API key): then its share.
                cost = cell.vendor.cost_by_scope.get((key, value)) or None if cell.vendor.has_cost else None
                part = min(tokens, cell.unexplained_tokens) if cell.unexplained_tokens > 0 else 0
                if part <= 0:
                    continue
                share = None if cost is None else cost * part / tokens  # None: proportional (see _add)
                _add(cell, r.UNSEEN_SCOPE, f"traffic from {key} {value}, which tokentrace never saw ({how})", part, share)
                total_tokens += part
                total_cost += cell.causes[-1].cost_usd or 0.0
            if total_tokens:
                notes.append(f"{key} {value}: {total_tokens:,} tokens (${total_cost:.6f}) billed to {_article(key.replace('_id', '').replace('_', ' '))} tokentrace never saw; {how}")


def _article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _is_the_gap(cells: Iterable[Cell], key: str, value: str, tolerance: float) -> bool:
    cells = list(cells)
    for cell in cells:
        tokens = cell.vendor.by_scope[(key, value)]
        if cell.unexplained_tokens < tokens * (1 - MATCH_SLACK):
            return False
        # The rest of the cell must then match: the scope is the gap, not just part of it.
        if abs(cell.unexplained_tokens - tokens) > max(tolerance * cell.vendor.tokens, MATCH_SLACK * tokens, 0):
            return False
    return bool(cells)


# -- 3. one model, two names ---------------------------------------------------------------------------


def _model_names(cells: Sequence[Cell], notes: List[str]) -> None:
    vendor_only: Dict[Tuple[str, str, tuple], Dict[str, Dict[str, Cell]]] = defaultdict(lambda: defaultdict(dict))
    ours_only: Dict[Tuple[str, str, tuple], Dict[str, Dict[str, Cell]]] = defaultdict(lambda: defaultdict(dict))
    for cell in cells:
        group = (cell.key.day, cell.key.provider, cell.key.scope)
        if cell.unexplained_tokens > 0 and cell.ours.tokens == 0:
            vendor_only[group][cell.key.model][cell.key.token_type] = cell
        elif cell.unexplained_tokens < 0 and cell.vendor.tokens == 0:
            ours_only[group][cell.key.model][cell.key.token_type] = cell
    reported: Set[Tuple[str, str]] = set()
    for group, vendor_models in vendor_only.items():
        candidates = ours_only.get(group, {})
        for vendor_model, vendor_cells in vendor_models.items():
            for our_model, our_cells in list(candidates.items()):
                if set(vendor_cells) != set(our_cells):
                    continue
                if not all(_close(vendor_cells[t].unexplained_tokens, -our_cells[t].unexplained_tokens) for t in vendor_cells):
                    continue
                for token_type, cell in vendor_cells.items():
                    _add(cell, r.MODEL_NAME, f"billed as {_names(cell.vendor_names, vendor_model)}; tokentrace counted the same tokens as {_names(our_cells[token_type].our_names, our_model)}", cell.unexplained_tokens)
                for token_type, cell in our_cells.items():
                    _add(cell, r.MODEL_NAME, f"tokentrace's {_names(cell.our_names, our_model)} is what the vendor billed as {_names(vendor_cells[token_type].vendor_names, vendor_model)}", cell.unexplained_tokens)
                del candidates[our_model]
                if (vendor_model, our_model) not in reported:
                    reported.add((vendor_model, our_model))
                    notes.append(
                        f"model {vendor_model!r} (vendor) and {our_model!r} (tokentrace) are one model the price catalog does not unite: "
                        "add the other name as an alias in a prices file (TOKENTRACE_PRICES) to reconcile them as one"
                    )
                break


def _names(spellings: Sequence[str], fallback: str) -> str:
    return " / ".join(repr(s) for s in spellings) if spellings else repr(fallback)


# -- 4. attempts the vendor may bill ----------------------------------------------------------------------


def _possibly_billed(cells: Sequence[Cell]) -> None:
    for cell in cells:
        pb = cell.ours.possibly_billed_tokens
        remaining = cell.unexplained_tokens
        if pb and remaining > 0:
            part = min(pb, remaining)
            _add(
                cell,
                r.POSSIBLY_BILLED,
                f"attempt(s) tokentrace saw sent but never answered (SDK retries after timeouts or dropped connections, streams cut before their end): "
                f"{pb:,} estimated {cell.key.token_type} tokens, possibly billed"
                + (" (for answers that never arrived, at most the request's max_tokens)" if cell.key.token_type == "output" else ""),
                part,
            )


def _extra_requests(cells: Sequence[Cell], built: Cells) -> None:
    by_call: Dict[tuple, List[Cell]] = defaultdict(list)
    for cell in cells:
        by_call[cell.key.call_key].append(cell)
    for call_key, group in by_call.items():
        billed = built.vendor_requests.get(call_key)
        answered = built.our_requests.get(call_key, 0)
        if billed is None or billed <= answered or answered == 0:
            continue
        extra = billed - answered
        for cell in group:
            remaining = cell.unexplained_tokens
            if remaining <= 0:
                continue
            per_request = cell.vendor.tokens / billed
            if remaining > per_request * extra * 2 + 1:
                continue
            _add(
                cell,
                r.EXTRA_REQUESTS,
                f"the vendor counted {billed} requests where tokentrace saw {answered} answered: {extra} more billed, "
                "most likely SDK retries of calls that timed out (the first attempt was processed and billed)",
                remaining,
            )


# -- 5-7. estimates, prices, rates ------------------------------------------------------------------------


def _estimated(cells: Sequence[Cell]) -> None:
    for cell in cells:
        estimated = cell.ours.estimated_tokens
        remaining = cell.unexplained_tokens
        if estimated and remaining and abs(remaining) <= estimated:
            _add(cell, r.ESTIMATED, f"{estimated:,} of tokentrace's tokens were estimated locally (the provider reported no usage); the vendor's count differs", remaining)


def _unpriced(cells: Sequence[Cell]) -> None:
    for cell in cells:
        unpriced = cell.ours.unpriced_tokens
        remaining_cost = cell.unexplained_cost_usd
        if not unpriced or remaining_cost is None or remaining_cost <= 0 or not cell.vendor.tokens:
            continue
        vendor_share = cell.vendor.cost_usd * min(1.0, unpriced / cell.vendor.tokens)
        part = min(remaining_cost, vendor_share)
        models = ", ".join(repr(m) for m in sorted(cell.ours.unpriced_models))
        cell.causes.append(Cause(r.UNPRICED, f"tokentrace has no price for {models} ({unpriced:,} tokens, cost unknown, not $0); the vendor charged about ${part:.6f}", 0, part))


def _rates(cells: Sequence[Cell], tolerance: float) -> None:
    for cell in cells:
        remaining_cost = cell.unexplained_cost_usd
        if remaining_cost is None or not cell.vendor.cost_usd or not cell.ours.priced_tokens:
            continue
        if abs(remaining_cost) <= max(tolerance, 1e-9) * cell.vendor.cost_usd:
            continue
        if not _close(cell.unexplained_tokens, 0, tolerance) and abs(cell.unexplained_tokens) > tolerance * max(cell.vendor.tokens, 1):
            continue
        vendor_rate = cell.vendor.cost_usd / cell.vendor.tokens * 1e6 if cell.vendor.tokens else 0.0
        our_rate = cell.ours.cost_usd / cell.ours.priced_tokens * 1e6
        cell.causes.append(
            Cause(
                r.RATE,
                f"same tokens, other price: the vendor charged ${vendor_rate:.4f}/1M {cell.key.token_type} tokens, tokentrace priced ${our_rate:.4f}/1M "
                "(a negotiated rate, a price change, or a tier missing from the catalog: fix with a prices file)",
                0,
                remaining_cost,
            )
        )
