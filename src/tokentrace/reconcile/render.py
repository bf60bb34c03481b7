"""The reconciliation as a terminal table: totals, then the largest unexplained deltas first."""

from __future__ import annotations

import datetime as dt
from typing import List, Optional

from .result import Cell, Reconciliation

_HEADER = ("day", "model", "type", "scope", "vendor tok", "tokentrace tok", "Δ tok", "capture", "vendor $", "tokentrace $", "Δ $", "explained by")


def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _usd(value: Optional[float], has: bool = True) -> str:
    return "-" if value is None or not has else f"{value:.6f}"


def _date(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def _row(cell: Cell) -> List[str]:
    key = cell.key
    model = key.model + (f" (billed as {', '.join(cell.vendor_names)})" if cell.vendor_names else "")
    causes = ", ".join(dict.fromkeys(c.kind for c in cell.causes)) or ("-" if not cell.delta_tokens else "UNEXPLAINED")
    if cell.causes and (cell.unexplained_tokens or abs(cell.unexplained_cost_usd or 0.0) > 1e-9):
        causes += " + unexplained"
    capture = cell.cost_capture if cell.cost_capture is not None else cell.token_capture
    return [
        key.day,
        model,
        key.token_type,
        ",".join(f"{k}={v}" for k, v in key.scope) or "-",
        f"{cell.vendor.tokens:,}",
        f"{cell.ours.tokens:,}",
        f"{cell.delta_tokens:+,}",
        _pct(capture),
        _usd(cell.vendor.cost_usd, cell.vendor.has_cost),
        _usd(cell.ours.cost_usd, cell.ours.has_cost) + ("*" if cell.ours.unpriced_tokens else ""),
        "-" if cell.delta_cost_usd is None else f"{cell.delta_cost_usd:+.6f}",
        causes,
    ]


def render(result: Reconciliation, limit: int = 30) -> str:
    totals = result.totals
    lines = [
        f"tokentrace reconcile: {result.source}, {_date(result.start)} to {_date(result.end)} UTC",
        "",
        f"  vendor:     {totals.vendor_tokens:>14,} tokens   " + (f"${totals.vendor_cost_usd:,.6f}" if totals.vendor_has_cost else "(no cost data)"),
        f"  tokentrace: {totals.tokentrace_tokens:>14,} tokens   ${totals.tokentrace_cost_usd:,.6f}",
        f"  capture:    tokens {_pct(totals.token_capture)}   cost {_pct(totals.cost_capture)}",
        f"  unexplained: {totals.unexplained_tokens:+,} tokens   ${totals.unexplained_cost_usd:+,.6f}",
    ]
    if totals.possibly_billed_tokens:
        lines.append(f"  possibly billed attempts (not counted as captured): {totals.possibly_billed_tokens:,} tokens, ${totals.possibly_billed_cost_usd:.6f}")
    verdict = "within" if result.within_tolerance else "OUTSIDE"
    lines += [f"  {verdict} tolerance of {result.tolerance * 100:g}%" + (f" ({len(result.failures)} cell(s) past it)" if result.failures else ""), ""]
    shown = [c for c in result.cells if c.delta_tokens or (c.delta_cost_usd or 0.0) > 1e-12 or abs(c.delta_cost_usd or 0.0) > 1e-12][:limit]
    table = [list(_HEADER)] + [_row(c) for c in (shown or result.cells[:limit])]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADER))]
    numeric = {4, 5, 6, 7, 8, 9, 10}
    for index, row in enumerate(table):
        lines.append("  ".join(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    hidden = len(result.cells) - len(shown or result.cells[:limit])
    if hidden > 0:
        lines.append(f"  … {hidden} more cell(s) (use --limit or --json to see all)")
    explained = [c for c in shown if c.causes]
    if explained:
        lines += ["", "Why:"]
        for cell in explained:
            for cause in cell.causes:
                cost = "" if cause.cost_usd is None else f", ${cause.cost_usd:+.6f}"
                lines.append(f"  {cell.key.day} {cell.key.model} {cell.key.token_type}: {cause.tokens:+,} tokens{cost}: {cause.detail}")
    if any(c.ours.unpriced_tokens for c in shown):
        lines.append("  * tokentrace has no price for part of these tokens: their cost is unknown, not $0")
    if result.notes:
        lines += ["", "Notes:"] + [f"  - {note}" for note in result.notes]
    return "\n".join(lines) + "\n"
