"""Render the dashboard's "Spend by team" panel to a PNG, from a live Prometheus.

The query is read from the shipped Grafana dashboard, so the picture shows exactly what the
panel shows. Needs only matplotlib (``pip install matplotlib``)::

    python examples/observability/render_spend_png.py --prometheus http://localhost:9090 \\
        --out docs/img/spend-by-team.png

The README's picture was made this way from the demo workload's data in a real Prometheus.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Dict, Optional

DASHBOARD = Path(__file__).resolve().parent / "grafana" / "dashboards" / "tokentrace-spend.json"
PANEL = "Spend by team"


def panel_query(window: str, title: str = PANEL) -> str:
    """The panel's PromQL with Grafana's macros filled in for a ``window`` view of every team."""
    board = json.loads(DASHBOARD.read_text())
    panel = next((p for p in board["panels"] if p["title"] == title), None)
    if panel is None:
        raise SystemExit(f"render_spend_png: the dashboard {DASHBOARD} has no panel titled {title!r}")
    expr: str = panel["targets"][0]["expr"]
    return expr.replace("$__range", window).replace("$__rate_interval", "5m").replace("$team", ".*")


def fetch_spend(prometheus_url: str, window: str, at: Optional[float] = None) -> Dict[str, float]:
    """USD per team from Prometheus; calls without a team are shown as "(no team)"."""
    params = {"query": panel_query(window)}
    if at is not None:
        params["time"] = f"{at:.3f}"
    url = prometheus_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            reply = json.load(response)
    except OSError as exc:
        raise SystemExit(f"render_spend_png: cannot query Prometheus at {prometheus_url}: {exc}") from None
    if reply.get("status") != "success":
        raise SystemExit(f"render_spend_png: Prometheus refused the query: {reply.get('error')}")
    return {s["metric"].get("tokentrace_team", "(no team)"): float(s["value"][1]) for s in reply["data"]["result"]}


def render(spend: Dict[str, float], out: Path, title: str = "LLM spend by team") -> None:
    if not spend:
        raise SystemExit("render_spend_png: Prometheus has no tokentrace_cost_USD_total data yet; run the demo first")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    teams = sorted(spend, key=spend.get)  # type: ignore[arg-type]
    values = [spend[t] for t in teams]
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(teams) + 1.6), dpi=120)
    bars = ax.barh(teams, values, color="#3274d9")
    ax.bar_label(bars, labels=[f"${v:,.4f}" for v in values], padding=4)
    ax.set_xlabel("USD (sum by tokentrace_team of tokentrace_cost_USD_total, increase over the window)")
    ax.set_title(f"{title} (total ${sum(values):,.4f})")
    ax.set_xlim(0, max(values) * 1.25)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prometheus", default="http://localhost:9090", help="Prometheus base URL")
    parser.add_argument("--window", default="1h", help="time window of the spend, as in PromQL (default 1h)")
    parser.add_argument("--out", type=Path, default=Path("spend-by-team.png"), help="PNG file to write")
    args = parser.parse_args(argv)
    render(fetch_spend(args.prometheus, args.window), args.out)
    print(f"render_spend_png: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
