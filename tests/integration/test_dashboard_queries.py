"""Every query of the shipped Grafana dashboard, run against the real Prometheus.

Grafana's macros are replaced the way Grafana would for a 1 h view (``$__range`` = 1h,
``$__rate_interval`` = 5m, ``$team`` = All = ``.*``); each panel's result is checked against the
same number computed from the spans in Phoenix.

``increase()`` extrapolates, so a panel's absolute value depends on when Prometheus scraped; but
every series has the same history (see conftest), so every series is scaled by the same factor.
The factor is read once from the "Spend" panel and checked to be sane; every other panel must
then agree with the spans *exactly* under that factor.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import pytest

from .backends import DASHBOARD
from .conftest import RUNS, BackendRun
from .workload import BUDGET_NAME, expected_budget_utilization

RANGE, RATE_WINDOW_S = "1h", 300
MACROS = {"$__range": RANGE, "$__rate_interval": f"{RATE_WINDOW_S}s", "$team": ".*"}

Attrs = Dict[str, Any]


def dashboard() -> Dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels() -> List[Dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p.get("targets")]


def render(expr: str, team: str = ".*") -> str:
    for macro, value in {**MACROS, "$team": team}.items():
        expr = expr.replace(macro, value)
    assert "$" not in expr, f"unreplaced Grafana variable in {expr!r}"
    return expr


def _llm(run: BackendRun) -> List[Attrs]:
    return [s["attributes"] for s in run.phoenix_spans() if "gen_ai.provider.name" in s["attributes"]]


def _per_run(run: BackendRun, key: Callable[[Attrs], Any], value: Callable[[Attrs], Optional[float]], where: Callable[[Attrs], bool] = lambda a: True) -> Dict[Any, float]:
    """One run's total of ``value`` per ``key`` over the LLM spans (the spans hold RUNS runs)."""
    parts: Dict[Any, List[float]] = defaultdict(list)
    for attributes in _llm(run):
        amount = value(attributes)
        if amount is not None and where(attributes):
            parts[key(attributes)].append(float(amount))
    return {k: math.fsum(v) / RUNS for k, v in parts.items()}


def _cost(a: Attrs) -> Optional[float]:
    return a.get("tokentrace.cost.usd")


def _unpriced(a: Attrs) -> bool:
    return a["tokentrace.cost.status"] in ("unknown_model", "error")


def _tokens_by_type(run: BackendRun) -> Dict[Any, float]:
    names = {
        "input": "gen_ai.usage.input_tokens",
        "output": "gen_ai.usage.output_tokens",
        "cache_read": "gen_ai.usage.cache_read.input_tokens",
        "cache_write": "gen_ai.usage.cache_write.input_tokens",
        "reasoning": "gen_ai.usage.reasoning.output_tokens",
        "cache_write_1h": "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
    }
    totals = {kind: sum(a.get(name, 0) for a in _llm(run)) / RUNS for kind, name in names.items()}
    return {kind: total for kind, total in totals.items() if total}


def _total(values: Dict[Any, float]) -> Dict[Any, float]:
    return {(): math.fsum(values.values())}


# title -> (labels the query groups by, one run's expected values from the spans, how the query scales them)
EXPECTED: Dict[str, Tuple[Sequence[str], Callable[[BackendRun], Dict[Any, float]], str]] = {
    "Spend": ((), lambda r: _total(_per_run(r, lambda a: (), _cost)), "increase"),
    "Spend rate": ((), lambda r: _total(_per_run(r, lambda a: (), _cost)), "rate_per_hour"),
    "Cache hit ratio": ((), lambda r: {(): _tokens_by_type(r)["cache_read"] / _tokens_by_type(r)["input"]}, "exact"),
    "Rerouted calls": ((), lambda r: _total(_per_run(r, lambda a: (), lambda a: 1, lambda a: a.get("tokentrace.model.rerouted"))), "increase"),
    "Unpriced calls": ((), lambda r: _total(_per_run(r, lambda a: (), lambda a: 1, _unpriced)), "increase"),
    "Spend rate by team (USD/hour)": (["tokentrace_team"], lambda r: _per_run(r, lambda a: a.get("tokentrace.team"), _cost), "rate_per_hour"),
    "Spend by team": (["tokentrace_team"], lambda r: _per_run(r, lambda a: a.get("tokentrace.team"), _cost), "increase"),
    "Spend by feature": (["tokentrace_feature"], lambda r: _per_run(r, lambda a: a.get("tokentrace.feature"), _cost), "increase"),
    "Spend by model": (
        ["gen_ai_provider_name", "gen_ai_response_model"],
        lambda r: _per_run(r, lambda a: (a["gen_ai.provider.name"], a.get("gen_ai.response.model")), _cost),
        "increase",
    ),
    "Spend by workflow": (
        ["tokentrace_workflow"],
        lambda r: _per_run(r, lambda a: a.get("tokentrace.workflow"), _cost, lambda a: bool(a.get("tokentrace.workflow"))),
        "increase",
    ),
    "Tokens by type": (["gen_ai_token_type"], _tokens_by_type, "increase"),
    "Token rate by type": (["gen_ai_token_type"], _tokens_by_type, "rate_per_second"),
    "Rerouted calls by model": (
        ["gen_ai_request_model", "gen_ai_response_model"],
        lambda r: _per_run(r, lambda a: (a["gen_ai.request.model"], a["gen_ai.response.model"]), lambda a: 1, lambda a: a.get("tokentrace.model.rerouted")),
        "increase",
    ),
    "Unpriced calls by model": (
        ["gen_ai_provider_name", "gen_ai_request_model", "tokentrace_cost_status"],
        lambda r: _per_run(r, lambda a: (a["gen_ai.provider.name"], a["gen_ai.request.model"], a["tokentrace.cost.status"]), lambda a: 1, _unpriced),
        "increase",
    ),
    "Budget utilization": (["tokentrace_budget_name", "tokentrace_budget_scope_value"], lambda r: {}, "gauge"),
}


@pytest.fixture(scope="module")
def increase_factor(backend_run: BackendRun) -> float:
    """How much ``increase(...[1h])`` extrapolated one run's true increase (same for every series)."""
    spend = next(p for p in panels() if p["title"] == "Spend")
    (value,) = backend_run.prometheus.query_values(render(spend["targets"][0]["expr"])).values()
    one_run = math.fsum(a.get("tokentrace.cost.usd", 0.0) for a in _llm(backend_run)) / RUNS
    factor = value / one_run
    # The true increase since the first scrape is one run; extrapolation adds at most ~1.6 scrape intervals.
    assert 1.0 <= factor <= RUNS, f"increase() over the demo data is {factor:.3f}x one run's spend"
    return factor


def _key(value: Any, width: int) -> Any:
    return value if width == 1 else tuple(value) if isinstance(value, tuple) else (value,)


def test_dashboard_is_valid_grafana_json() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in board["templating"]["list"]}
    assert {"datasource", "team"} <= variables
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)) and all(t["expr"].strip() for t in panel["targets"])
    titles = {p["title"] for p in panels()}
    assert titles == set(EXPECTED), f"panels without a test: {titles - set(EXPECTED)}; tests without a panel: {set(EXPECTED) - titles}"


def test_team_variable_lists_every_team(backend_run: BackendRun) -> None:
    variable = next(v for v in dashboard()["templating"]["list"] if v["name"] == "team")
    match = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["definition"])
    assert match, variable["definition"]
    metric, label = match.groups()
    values = backend_run.prometheus.api(f"label/{label}/values", **{"match[]": metric})
    teams = {a["tokentrace.team"] for a in _llm(backend_run) if "tokentrace.team" in a and "tokentrace.cost.usd" in a}
    assert set(values) == teams


@pytest.mark.parametrize("title", sorted(EXPECTED))
def test_panel_query_returns_the_spans_numbers(backend_run: BackendRun, increase_factor: float, title: str) -> None:
    panel = next(p for p in panels() if p["title"] == title)
    by, expected_fn, scaling = EXPECTED[title]
    (target,) = panel["targets"]
    result = backend_run.prometheus.query_values(render(target["expr"]), by=by)
    if scaling == "gauge":
        assert result[(BUDGET_NAME, "it-support")] == pytest.approx(expected_budget_utilization(RUNS), rel=1e-9)
        return
    scale = {
        "increase": increase_factor,
        "rate_per_hour": increase_factor * 3600 / RATE_WINDOW_S,
        "rate_per_second": increase_factor / RATE_WINDOW_S,
        "exact": 1.0,
    }[scaling]
    expected = {_key(k, len(by)) if by else (): v * scale for k, v in expected_fn(backend_run).items()}
    assert result.keys() == expected.keys(), f"{title}: series {sorted(map(str, result))}, expected {sorted(map(str, expected))}"
    assert result == pytest.approx(expected, rel=1e-6), title


def test_team_filter_narrows_every_spend_panel(backend_run: BackendRun) -> None:
    for panel in panels():
        expr = panel["targets"][0]["expr"]
        if "$team" not in expr or "tokentrace_cost_USD_total" not in expr or "tokentrace_workflow" in expr:
            continue
        teams = backend_run.prometheus.query_values(
            render(expr.replace("sum by (", "sum by (tokentrace_team, ").replace("sum(", "sum by (tokentrace_team) ("), team="it-search"),
            by=["tokentrace_team"],
        )
        assert set(teams) == {"it-search"}, panel["title"]
