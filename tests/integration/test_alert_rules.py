"""The shipped alert rules, loaded by the real Prometheus and evaluated over the demo data.

Each rule is checked three ways: Prometheus loads and evaluates it without error; its query part
returns the series the spans say it should; and the comparison with the threshold keeps exactly
the series it should (the rules with a zero threshold, and the budget rule, fire on this data).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple

import pytest
import yaml

from .backends import ALERT_RULES, find_prometheus, wait_until
from .conftest import RUNS, BackendRun
from .workload import (
    BUDGET_NAME,
    BUDGET_USD,
    FORECAST_BUDGET_NAME,
    FORECAST_BUDGET_USD,
    expected_budget_utilization,
)

_COMPARISON = re.compile(r"^(?P<query>.+?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<threshold>[0-9.eE+-]+)\s*$", re.S)
_OPS = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__, "==": float.__eq__, "!=": float.__ne__}


def alert_rules() -> List[Dict[str, Any]]:
    groups = yaml.safe_load(ALERT_RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def split(expr: str) -> Tuple[str, str, float]:
    match = _COMPARISON.match(" ".join(expr.split()))
    assert match, f"alert expression {expr!r} is not '<query> <comparison> <number>'"
    return match["query"], match["op"], float(match["threshold"])


def _llm(run: BackendRun) -> List[Dict[str, Any]]:
    return [s["attributes"] for s in run.phoenix_spans() if "gen_ai.provider.name" in s["attributes"]]


def test_promtool_accepts_the_rules() -> None:
    prometheus = find_prometheus()
    if prometheus is None:
        pytest.skip("Prometheus is not installed: run .ci/install-backends.sh")
    promtool = str(prometheus).rsplit("/", 1)[0] + "/promtool"
    result = subprocess.run([promtool, "check", "rules", str(ALERT_RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_is_loaded_and_evaluates_without_error(backend_run: BackendRun) -> None:
    wanted = {rule["alert"] for rule in alert_rules()}

    def evaluated() -> Dict[str, Dict[str, Any]]:
        loaded = {r["name"]: r for r in backend_run.prometheus.rules() if r["type"] == "alerting"}
        return loaded if all(not r["lastEvaluation"].startswith("0001") for r in loaded.values()) else {}

    loaded = wait_until(evaluated, 20, "Prometheus to evaluate the alert rules")
    assert set(loaded) == wanted
    for name, rule in loaded.items():
        assert rule["health"] == "ok", f"{name}: {rule.get('lastError')}"


def _unpriced(run: BackendRun) -> Dict[Any, float]:
    counts = Counter(
        (a["gen_ai.provider.name"], a["gen_ai.request.model"], a["tokentrace.cost.status"])
        for a in _llm(run)
        if a["tokentrace.cost.status"] in ("unknown_model", "error")
    )
    return dict(counts)


def _rerouted(run: BackendRun) -> Dict[Any, float]:
    counts = Counter(
        (a["gen_ai.provider.name"], a["gen_ai.request.model"], a["gen_ai.response.model"]) for a in _llm(run) if a.get("tokentrace.model.rerouted")
    )
    return dict(counts)


def _spend_teams(run: BackendRun) -> Dict[Any, float]:
    return {a.get("tokentrace.team"): 1.0 for a in _llm(run) if "tokentrace.cost.usd" in a}


def _forecast_budgets(run: BackendRun) -> Dict[Any, float]:
    """The windowed budget of the workload; its projection depends on the day of the month."""
    return {(FORECAST_BUDGET_NAME, "it-support"): 1.0}


def _no_anomaly(run: BackendRun) -> Dict[Any, float]:
    """Minutes of data hold no previous days to compare with (see test_alert_rules_over_time.py)."""
    return {}


def _no_reconciliation(run: BackendRun) -> Dict[Any, float]:
    """The demo runs no ``tokentrace reconcile`` (see test_reconcile_alert.py, which does)."""
    return {}


# alert -> (labels, the series its query must return (values unchecked unless exact))
SERIES = {
    "TokentraceBudgetForecastExhausted": (["tokentrace_budget_name", "tokentrace_budget_scope_value"], _forecast_budgets),
    "TokentraceSpendAnomaly": (["tokentrace_team"], _no_anomaly),
    "TokentraceFeatureSpendAnomaly": (["tokentrace_feature"], _no_anomaly),
    "TokentraceModelSpendAnomaly": (["gen_ai_response_model"], _no_anomaly),
    "TokentraceTeamSpendRateHigh": (["tokentrace_team"], _spend_teams),
    "TokentraceBudgetNearlyExhausted": (["tokentrace_budget_name", "tokentrace_budget_scope_value"], None),
    "TokentraceBudgetExhausted": (["tokentrace_budget_name", "tokentrace_budget_scope_value"], None),
    "TokentraceUnpricedCalls": (["gen_ai_provider_name", "gen_ai_request_model", "tokentrace_cost_status"], _unpriced),
    "TokentraceModelRerouted": (["gen_ai_provider_name", "gen_ai_request_model", "gen_ai_response_model"], _rerouted),
    "TokentraceReconcileCaptureLow": (["tokentrace_reconcile_source", "gen_ai_provider_name"], _no_reconciliation),
}


def test_every_alert_has_a_data_test() -> None:
    assert {rule["alert"] for rule in alert_rules()} == set(SERIES)


@pytest.mark.parametrize("name", sorted(SERIES))
def test_alert_query_and_threshold_on_demo_data(backend_run: BackendRun, name: str) -> None:
    rule = next(r for r in alert_rules() if r["alert"] == name)
    query, op, threshold = split(rule["expr"])
    by, expected_fn = SERIES[name]
    values = backend_run.prometheus.query_values(query, by=by)
    if expected_fn is not None:
        expected = expected_fn(backend_run)
        assert set(values) == set(expected), f"{name}: {sorted(map(str, values))} != {sorted(map(str, expected))}"
        assert all(v > 0 for v in values.values())
    else:
        budget = values[(BUDGET_NAME, "it-support")]
        assert budget == pytest.approx(expected_budget_utilization(RUNS), rel=1e-9)
    firing = backend_run.prometheus.query_values(rule["expr"], by=by)
    assert set(firing) == {k for k, v in values.items() if _OPS[op](v, threshold)}, name


@pytest.mark.parametrize(
    "record, label, attribute",
    [
        ("tokentrace:team_cost_usd:increase1h", "tokentrace_team", "tokentrace.team"),
        ("tokentrace:feature_cost_usd:increase1h", "tokentrace_feature", "tokentrace.feature"),
        ("tokentrace:model_cost_usd:increase1h", "gen_ai_response_model", "gen_ai.response.model"),
    ],
)
def test_anomaly_recording_rules_hold_the_spend_of_every_team_feature_and_model(
    backend_run: BackendRun, record: str, label: str, attribute: str
) -> None:
    """What the anomaly alerts compare: this hour's spend of every key the spans priced (the
    baselines, the same hour of previous days, are empty in a run minutes old)."""
    expected = {a[attribute] for a in _llm(backend_run) if a.get("tokentrace.cost.usd", 0) > 0 and a.get(attribute)}
    assert expected

    def recorded() -> Dict[Any, float]:
        values = backend_run.prometheus.query_values(record, by=[label])
        return values if set(values) >= expected else {}

    values = wait_until(recorded, 20, f"Prometheus to record {record}")
    assert set(values) == expected
    assert all(v > 0 for v in values.values())
    baseline = record.replace(":increase1h", ":same_hour_median7d")
    assert backend_run.prometheus.query_values(baseline, by=[label]) == {}


def test_alerts_fire_in_prometheus_with_the_expected_labels(backend_run: BackendRun) -> None:
    expected = {
        ("TokentraceModelRerouted", ("gpt-4o", "gpt-4o-mini-2024-07-18")),
        ("TokentraceUnpricedCalls", ("acme-frontier-1", "unknown_model")),
        ("TokentraceBudgetNearlyExhausted", (BUDGET_NAME, "it-support")),
    }

    def active() -> set:
        found = set()
        for alert in backend_run.prometheus.api("alerts")["alerts"]:
            labels = alert["labels"]
            name = labels["alertname"]
            if name == "TokentraceModelRerouted":
                found.add((name, (labels["gen_ai_request_model"], labels["gen_ai_response_model"])))
            elif name == "TokentraceUnpricedCalls":
                found.add((name, (labels["gen_ai_request_model"], labels["tokentrace_cost_status"])))
            elif name.startswith("TokentraceBudget"):
                found.add((name, (labels["tokentrace_budget_name"], labels["tokentrace_budget_scope_value"])))
        return found if expected <= found else set()

    found = wait_until(active, 20, f"Prometheus to raise {sorted(expected)}")
    assert ("TokentraceBudgetExhausted", (BUDGET_NAME, "it-support")) not in found


def _month_bounds(now: float) -> Tuple[float, float]:
    day = datetime.fromtimestamp(now, timezone.utc)
    start = day.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start.timestamp(), end.timestamp()


def test_forecast_gauge_holds_the_hand_computed_projection(backend_run: BackendRun) -> None:
    """The forecast gauge in Prometheus is the projection computed by hand from the workload.

    The monthly budget saw the same calls as the total one: ``spent`` is known to the cent. A
    process with under a minute of its own samples projects at the window's average rate
    (``spent`` over the time since the month began), so the gauge is
    ``spent / limit * month length / time since the month began``, evaluated at the last
    settlement, which happened between the run's start and now. With more history the rate
    is the burst's own, which is only ever higher: the lower bound holds either way.
    """
    now = time.time()
    start, end = _month_bounds(backend_run.started)
    if _month_bounds(now) != (start, end):
        pytest.skip("the run straddled a month boundary: its projection restarted with the new window")
    values = backend_run.prometheus.query_values(
        "tokentrace_budget_forecast_utilization", by=["tokentrace_budget_name", "tokentrace_budget_scope_value"]
    )
    gauge = values[(FORECAST_BUDGET_NAME, "it-support")]
    spent = expected_budget_utilization(RUNS) * BUDGET_USD
    at_most = spent / FORECAST_BUDGET_USD * (end - start) / (backend_run.started - start)
    at_least = spent / FORECAST_BUDGET_USD * (end - start) / (now - start)
    assert gauge >= at_least * (1 - 1e-9), (gauge, at_least)
    if now - backend_run.started < 60:  # the process cannot have had a minute of its own samples
        assert gauge <= at_most * (1 + 1e-9), (gauge, at_most)
