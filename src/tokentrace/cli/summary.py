"""A span processor that totals LLM spans, and the readable summary the CLI prints from it.

It reads only finished spans, so it sees exactly what any exporter sees: the summary is a
local view of the same numbers that reach Jaeger, Phoenix or Prometheus.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, TextIO

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import SpanKind

TOKEN_KEYS = (
    ("input", "gen_ai.usage.input_tokens"),
    ("cache_read", "gen_ai.usage.cache_read.input_tokens"),
    ("cache_write", "gen_ai.usage.cache_write.input_tokens"),
    ("output", "gen_ai.usage.output_tokens"),
    ("reasoning", "gen_ai.usage.reasoning.output_tokens"),
)


@dataclass
class Totals:
    calls: int = 0
    failed: int = 0
    #: Calls with a cost, calls with usage but no price (unknown model, self-hosted ...), and calls
    #: the provider reported no usage for (most failed calls): three different stories, never "$0".
    priced: int = 0
    unpriced: int = 0
    no_usage: int = 0
    rerouted: int = 0
    estimated: int = 0
    cost_usd: float = 0.0
    tokens: Dict[str, int] = field(default_factory=lambda: {name: 0 for name, _ in TOKEN_KEYS})

    def add(self, attributes: Dict[str, Any], failed: bool) -> None:
        self.calls += 1
        self.failed += int(failed)
        cost = attributes.get("tokentrace.cost.usd")
        if isinstance(cost, (int, float)):
            self.priced += 1
            self.cost_usd += float(cost)
        elif attributes.get("tokentrace.cost.status", "no_usage") in ("no_usage", "deferred"):
            self.no_usage += 1
        else:
            self.unpriced += 1
        self.rerouted += int(attributes.get("tokentrace.model.rerouted") is True)
        self.estimated += int(attributes.get("tokentrace.usage.source") == "estimate")
        for name, key in TOKEN_KEYS:
            value = attributes.get(key)
            if isinstance(value, int):
                self.tokens[name] += value


class SummaryProcessor(SpanProcessor):
    """Totals per model, per team and overall, updated as LLM spans end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.overall = Totals()
        self.by_model: Dict[str, Totals] = defaultdict(Totals)
        self.by_team: Dict[str, Totals] = defaultdict(Totals)
        self.by_provider: Dict[str, Totals] = defaultdict(Totals)

    def on_end(self, span: ReadableSpan) -> None:
        attributes = dict(span.attributes or {})
        if span.kind != SpanKind.CLIENT or "gen_ai.operation.name" not in attributes:
            return
        failed = "error.type" in attributes
        model = str(attributes.get("gen_ai.response.model") or attributes.get("gen_ai.request.model") or "unknown")
        team = str(attributes.get("tokentrace.team", "(unattributed)"))
        provider = str(attributes.get("gen_ai.provider.name", "unknown"))
        with self._lock:
            for totals in (self.overall, self.by_model[model], self.by_team[team], self.by_provider[provider]):
                totals.add(attributes, failed)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _usd(value: float) -> str:
    """Dollars with at least two significant digits: a 2-token embedding is not "$0.000000"."""
    if abs(value) >= 1:
        return f"${value:,.2f}"
    if value == 0:
        return "$0.00"  # really zero: a price of 0 the user set
    decimals = max(6, 1 - math.floor(math.log10(abs(value))))
    return f"${value:.{decimals}f}"


def cost_cell(t: Totals) -> str:
    """The cost of a group of calls in words that cannot be read as "free"."""
    if t.priced:
        return _usd(t.cost_usd) + (f" + {t.unpriced} unpriced" if t.unpriced else "")
    if t.unpriced:
        return "unpriced"
    return "no usage" if t.no_usage else "-"


def _table(headers: List[str], rows: List[List[str]]) -> List[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True)))
    out = [line, "  ".join("-" * w for w in widths)]
    for row in rows:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    return out


def render(summary: SummaryProcessor, title: str = "tokentrace summary") -> str:
    o = summary.overall
    lines = [title, "=" * len(title)]
    lines.append(
        f"calls: {o.calls}  failed: {o.failed}  rerouted: {o.rerouted}  unpriced: {o.unpriced}  "
        f"usage estimated: {o.estimated}  total cost: {_usd(o.cost_usd) if o.priced else 'none priced'}"
    )
    lines.append("")
    lines.append("tokens by type: " + ", ".join(f"{name} {count:,}" for name, count in o.tokens.items()))
    lines.append("")
    headers = ["model", "calls", "input", "cached", "cache write", "output", "reasoning", "cost (USD)"]
    rows = []
    for model, t in sorted(summary.by_model.items(), key=lambda kv: -kv[1].cost_usd):
        rows.append([model, str(t.calls), *(f"{t.tokens[k]:,}" for k in ("input", "cache_read", "cache_write", "output", "reasoning")), cost_cell(t)])
    lines.extend(_table(headers, rows))
    if len(summary.by_team) > 1 or "(unattributed)" not in summary.by_team:
        lines.append("")
        team_rows = [[team, str(t.calls), f"{t.tokens['input'] + t.tokens['output']:,}", cost_cell(t)] for team, t in sorted(summary.by_team.items(), key=lambda kv: -kv[1].cost_usd)]
        lines.extend(_table(["team", "calls", "tokens", "cost (USD)"], team_rows))
    if o.unpriced or o.no_usage:
        lines.append("")
    if o.unpriced:
        lines.append(f"note: {o.unpriced} call(s) used a model without a known price; their cost is not in the total.")
    if o.no_usage:
        lines.append(f"note: the provider reported no usage for {o.no_usage} call(s) (failed calls, mostly); they cost nothing here.")
    return "\n".join(lines)


def print_summary(summary: SummaryProcessor, stream: Optional[TextIO] = None, title: str = "tokentrace summary") -> None:
    import sys

    print(render(summary, title), file=stream or sys.stderr)
