"""The report as terminal tables."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from .data import DIMENSIONS, Line, ReportData, day_of

_TITLES = {"team": "By team", "feature": "By feature", "workflow": "By workflow", "model": "By model", "provider": "By provider", "day": "By day"}


def usd(value: Optional[float]) -> str:
    """Dollars readable at a glance; small amounts keep enough digits to mean something."""
    if value is None:
        return "unpriced"
    if abs(value) >= 100:
        return f"${value:,.2f}"
    if abs(value) >= 1:
        return f"${value:,.4f}"
    return f"${value:,.6f}"


def signed_usd(value: float) -> str:
    return ("+" if value > 0 else "-" if value < 0 else "") + usd(abs(value))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def budget_cells(b: Any) -> List[str]:
    """One budget outlook as table cells (shared by the terminal and HTML reports)."""
    if b.limit_usd is not None:
        spent, limit = usd(b.spent_usd), usd(b.limit_usd)
    else:
        spent, limit = f"{b.spent_tokens:,} tokens", f"{b.limit_tokens:,} tokens"
    forecast = "" if b.forecast_utilization is None else f"{100 * b.forecast_utilization:,.0f}%"
    runs_out = b.exhausted_at.strftime("%Y-%m-%d %H:%M") if b.exhausted_at else ""
    scope = b.scope if b.scope == "global" else f"{b.scope}={b.scope_value}"
    return [b.budget, scope, b.window, spent, limit, f"{100 * b.utilization:.0f}%", forecast, runs_out]


def anomaly_cells(a: Any) -> List[str]:
    return [
        a.hour_start.strftime("%Y-%m-%d %H:00"),
        f"{a.dimension}={a.value}",
        usd(a.spent_usd),
        usd(a.baseline_usd),
        f"{a.ratio:.1f}x",
        a.top_workflow or "",
        a.top_model or "",
    ]


def _share(line: Line, total: Optional[float]) -> str:
    if line.cost is None or not total:
        return ""
    return f"{100 * line.cost / total:.1f}%"


def render(data: ReportData, top: int = 10) -> str:
    out: List[str] = []
    title = f"tokentrace spend report {day_of(data.start)} .. {day_of(data.end - 1)} (UTC)"
    out += [title, "=" * len(title)]
    total = data.total
    summary = f"spend: {usd(total.cost)}"
    if total.list_cost is not None and total.cost is not None and abs(total.list_cost - total.cost) > 1e-9:
        summary += f" (list {usd(total.list_cost)}, saved {usd(total.list_cost - total.cost)} by your prices and discounts)"
    summary += f"  calls: {total.calls:,}  tokens: {total.tokens:,}"
    out.append(summary)
    if data.previous_total is not None:
        out.append(f"previous period: {usd(data.previous_total)} ({signed_usd((total.cost or 0.0) - data.previous_total)})")
    if data.rows == 0:
        out += ["", "No spend recorded in this period."]
        return "\n".join(out)
    for dimension in DIMENSIONS:
        lines = data.by[dimension]
        if dimension in ("team", "feature", "workflow") and all(g.key == "(none)" for g in lines):
            continue
        shown = lines if dimension == "day" else lines[:top]
        out += ["", _TITLES[dimension]]
        out += table([dimension, "cost", "share", "tokens", "calls"], [[g.key, usd(g.cost), _share(g, total.cost), f"{g.tokens:,}", f"{g.calls:,}"] for g in shown])
        if len(lines) > len(shown):
            out.append(f"... and {len(lines) - len(shown)} more")
    if data.movers:
        out += ["", "Top movers against the previous period"]
        out += table(["group", "previous", "now", "change"], [[f"{m.dimension}={m.key}", usd(m.previous), usd(m.current), signed_usd(m.change)] for m in data.movers])
    out += ["", "Caching"]
    ratio = data.cache_hit_ratio
    cache = f"cache hit ratio: {100 * ratio:.1f}% of {data.prompt_tokens:,} prompt tokens read from cache" if ratio is not None else "no prompt tokens"
    if data.cache_savings is not None:
        cache += f"; caching saved {usd(data.cache_savings)}"
    out.append(cache)
    if data.reroutes:
        out += ["", "Reroutes (answered by another model than requested)"]
        rows = []
        for r in data.reroutes:
            change = signed_usd(r.cost - r.cost_as_requested) if r.cost is not None and r.cost_as_requested is not None else "?"
            rows.append([f"{r.requested} -> {r.answered}", f"{r.calls:,}", usd(r.cost), usd(r.cost_as_requested), change])
        out += table(["requested -> answered", "calls", "cost", "at requested price", "difference"], rows)
    if data.unpriced or data.estimated_calls:
        out += ["", "Unpriced and estimated"]
        if data.unpriced:
            out += table(["model", "provider", "status", "calls", "tokens"], [[u.model, u.provider, u.status, f"{u.calls:,}", f"{u.tokens:,}"] for u in data.unpriced])
            out.append("Unpriced calls are not in the spend above: add their prices (TOKENTRACE_PRICES, see `tokentrace prices --help`).")
        if data.estimated_calls:
            out.append(f"{data.estimated_calls:,} call(s) ({data.estimated_tokens:,} tokens) had usage estimated locally: the provider reported none.")
    out += ["", "Budgets"]
    if data.budgets:
        out += table(["budget", "scope", "window", "spent", "limit", "used", "forecast", "runs out"], [budget_cells(b) for b in data.budgets])
    if data.blocked:
        out += table(["team", "blocked calls"], [[b.key, f"{b.calls:,}"] for b in data.blocked])
    else:
        out.append("no call was blocked by a budget")
    if data.anomalies:
        out += ["", "Anomalies (spend far above the same hour of previous days)"]
        out += table(["hour (UTC)", "group", "spent", "usual", "ratio", "top workflow", "top model"], [anomaly_cells(a) for a in data.anomalies])
    for note in data.notes:
        out += ["", f"note: {note}"]
    return "\n".join(out)
