"""The report's charts as PNG images (matplotlib, drawn off-screen)."""

from __future__ import annotations

import io
from typing import Dict, List, Tuple

from .data import ReportData

#: chart file name -> title
CHARTS: Tuple[Tuple[str, str], ...] = (
    ("spend-by-day.png", "Spend by day and team (USD)"),
    ("spend-by-model.png", "Spend by model (USD)"),
    ("spend-by-team.png", "Spend by team (USD)"),
    ("tokens-by-type.png", "Tokens by type"),
)


def _pyplot():  # type: ignore[no-untyped-def]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("charts need matplotlib: pip install 'tokentrace[report]'") from None
    return plt


def render_charts(data: ReportData) -> Dict[str, bytes]:
    """PNG bytes per chart file name."""
    plt = _pyplot()
    rows_by_day_team = data.by_day_team
    tokens_by_type = data.tokens_by_type
    images: Dict[str, bytes] = {}

    def save(name: str, fig) -> None:  # type: ignore[no-untyped-def]
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        images[name] = buffer.getvalue()

    days = sorted({d for d, _ in rows_by_day_team})
    teams = sorted({t for _, t in rows_by_day_team})
    fig, ax = plt.subplots(figsize=(8, 3.6))
    bottom = [0.0] * len(days)
    for team in teams:
        values = [rows_by_day_team.get((d, team), 0.0) for d in days]
        ax.bar(days, values, bottom=bottom, label=team, width=0.6)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title(CHARTS[0][1])
    ax.set_ylabel("USD")
    if teams:
        ax.legend(fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right", fontsize=8)
    save(CHARTS[0][0], fig)

    for name, title, dimension in ((CHARTS[1][0], CHARTS[1][1], "model"), (CHARTS[2][0], CHARTS[2][1], "team")):
        lines = [g for g in data.by[dimension] if g.cost][:12]
        fig, ax = plt.subplots(figsize=(8, max(2.0, 0.35 * len(lines) + 1)))
        labels: List[str] = [g.key for g in reversed(lines)]
        ax.barh(labels, [g.cost or 0.0 for g in reversed(lines)], color="#4c72b0")
        ax.set_title(title)
        ax.set_xlabel("USD")
        plt.setp(ax.get_yticklabels(), fontsize=8)
        save(name, fig)

    fig, ax = plt.subplots(figsize=(8, 3))
    kinds = [k for k in ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning") if tokens_by_type.get(k)]
    ax.bar(kinds, [tokens_by_type[k] for k in kinds], color="#55a868")
    ax.set_title(CHARTS[3][1])
    plt.setp(ax.get_xticklabels(), fontsize=8)
    save(CHARTS[3][0], fig)
    return images
