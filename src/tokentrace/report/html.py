"""The report as one self-contained HTML page: tables and charts (PNG, inlined), no external files."""

from __future__ import annotations

import base64
import html
from typing import Dict, List, Sequence

from .charts import CHARTS
from .data import DIMENSIONS, ReportData, day_of
from .text import anomaly_cells, budget_cells, signed_usd, usd

_STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 2rem auto; max-width: 64rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
th, td { padding: .25rem .75rem; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.summary { font-size: 1.1rem; } .note { color: #666; font-size: .85rem; }
img { max-width: 100%; }
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(data: ReportData, charts: Dict[str, bytes], top: int = 10) -> str:
    title = f"tokentrace spend report {day_of(data.start)} .. {day_of(data.end - 1)} (UTC)"
    parts: List[str] = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"]
    parts.append(f"<h1>{html.escape(title)}</h1>")
    total = data.total
    summary = f"Spend {usd(total.cost)} · list {usd(total.list_cost)} · {total.calls:,} calls · {total.tokens:,} tokens"
    if data.previous_total is not None:
        summary += f" · previous period {usd(data.previous_total)} ({signed_usd((total.cost or 0.0) - data.previous_total)})"
    parts.append(f"<p class='summary'>{html.escape(summary)}</p>")
    for name, chart_title in CHARTS:
        if name in charts:
            encoded = base64.b64encode(charts[name]).decode("ascii")
            parts.append(f"<figure><img alt='{html.escape(chart_title)}' src='data:image/png;base64,{encoded}'></figure>")
    for dimension in DIMENSIONS:
        lines = data.by[dimension]
        if dimension in ("team", "feature", "workflow") and all(g.key == "(none)" for g in lines):
            continue
        shown = lines if dimension == "day" else lines[:top]
        parts.append(f"<h2>By {dimension}</h2>")
        parts.append(_table([dimension, "cost", "list cost", "tokens", "calls"], [[g.key, usd(g.cost), usd(g.list_cost), f"{g.tokens:,}", f"{g.calls:,}"] for g in shown]))
    if data.movers:
        parts.append("<h2>Top movers against the previous period</h2>")
        parts.append(_table(["group", "previous", "now", "change"], [[f"{m.dimension}={m.key}", usd(m.previous), usd(m.current), signed_usd(m.change)] for m in data.movers]))
    parts.append("<h2>Caching</h2>")
    ratio = data.cache_hit_ratio
    text = f"Cache hit ratio {100 * ratio:.1f}% of {data.prompt_tokens:,} prompt tokens" if ratio is not None else "No prompt tokens"
    if data.cache_savings is not None:
        text += f"; caching saved {usd(data.cache_savings)}"
    parts.append(f"<p>{html.escape(text)}</p>")
    if data.reroutes:
        parts.append("<h2>Reroutes</h2>")
        rows = [
            [f"{r.requested} → {r.answered}", f"{r.calls:,}", usd(r.cost), usd(r.cost_as_requested), signed_usd(r.cost - r.cost_as_requested) if r.cost is not None and r.cost_as_requested is not None else "?"]
            for r in data.reroutes
        ]
        parts.append(_table(["requested → answered", "calls", "cost", "at requested price", "difference"], rows))
    if data.unpriced or data.estimated_calls:
        parts.append("<h2>Unpriced and estimated</h2>")
        if data.unpriced:
            parts.append(_table(["model", "provider", "status", "calls", "tokens"], [[u.model, u.provider, u.status, f"{u.calls:,}", f"{u.tokens:,}"] for u in data.unpriced]))
            parts.append("<p class='note'>Unpriced calls are not in the spend above.</p>")
        if data.estimated_calls:
            parts.append(f"<p>{data.estimated_calls:,} call(s) had usage estimated locally.</p>")
    parts.append("<h2>Budgets</h2>")
    if data.budgets:
        parts.append(_table(["budget", "scope", "window", "spent", "limit", "used", "forecast", "runs out"], [budget_cells(b) for b in data.budgets]))
    if data.blocked:
        parts.append(_table(["team", "blocked calls"], [[b.key, f"{b.calls:,}"] for b in data.blocked]))
    else:
        parts.append("<p>No call was blocked by a budget.</p>")
    if data.anomalies:
        parts.append("<h2>Anomalies</h2><p>Hours whose spend was far above the same hour of previous days.</p>")
        parts.append(_table(["hour (UTC)", "group", "spent", "usual", "ratio", "top workflow", "top model"], [anomaly_cells(a) for a in data.anomalies]))
    parts.append("<p class='note'>Costs are tokentrace's estimates from the calls it saw; the provider's invoice is the source of what is billed.</p>")
    parts.append("</body></html>")
    return "".join(parts)
