"""The time-dependent alert rules (forecast, anomaly) evaluated by Prometheus' own rule engine.

A live test run has minutes of data, not the seven days of history the anomaly baseline needs,
so these rules are also run through ``promtool test rules``: the real Prometheus engine over
synthetic series whose every value is stated here, with the alerts each must (and must not)
raise at a given time.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from .backends import ALERT_RULES, find_prometheus

STEPS_PER_DAY = 288  # 5-minute samples


def _promtool() -> str:
    prometheus = find_prometheus()
    if prometheus is None:
        pytest.skip("Prometheus is not installed: run .ci/install-backends.sh")
    return str(Path(prometheus).with_name("promtool"))


def _run(tmp_path: Path, tests: List[Dict[str, Any]]) -> subprocess.CompletedProcess:
    path = tmp_path / "rules_test.yml"
    path.write_text(yaml.safe_dump({"rule_files": [str(ALERT_RULES)], "evaluation_interval": "5m", "tests": tests}))
    return subprocess.run([_promtool(), "test", "rules", str(path)], capture_output=True, text=True)


def test_anomaly_fires_for_the_team_whose_hour_is_three_times_its_usual(tmp_path: Path) -> None:
    week = 7 * STEPS_PER_DAY
    # search: $12/hour (1 per 5 min) for a week, then $48/hour (4 per 5 min) from day 7 00:00.
    # ads: $12/hour all along (its normal level); night: $0 for a week, then $6/hour.
    series = [
        {"series": 'tokentrace_cost_USD_total{tokentrace_team="search"}', "values": f"0+1x{week} {week}+4x24"},
        {"series": 'tokentrace_cost_USD_total{tokentrace_team="ads"}', "values": f"0+1x{week + 24}"},
        {"series": 'tokentrace_cost_USD_total{tokentrace_team="night"}', "values": f"0+0x{week} 0+0.5x24"},
    ]
    # At day 7 02:00 the last hour is all new: search 48 vs 12 (4x); ads 12 vs 12; night 6 vs the
    # 0.34 USD floor (17.6x, and 6 > 1 USD). Firing for 15 minutes needs the ratio above 3 since 01:45.
    result = _run(
        tmp_path,
        [
            {
                "interval": "5m",
                "input_series": series,
                "alert_rule_test": [
                    {
                        "eval_time": "7d2h",
                        "alertname": "TokentraceSpendAnomaly",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "warning", "tokentrace_team": "night"},
                                "exp_annotations": _annotations("night", 6 / 0.34),
                            },
                            {
                                "exp_labels": {"severity": "warning", "tokentrace_team": "search"},
                                "exp_annotations": _annotations("search", 4.0),
                            },
                        ],
                    },
                    # Before the jump nothing is anomalous: the daily level is the baseline.
                    {"eval_time": "6d23h", "alertname": "TokentraceSpendAnomaly", "exp_alerts": []},
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _annotations(team: str, ratio: float) -> Dict[str, str]:
    rule = next(
        r for g in yaml.safe_load(ALERT_RULES.read_text())["groups"] for r in g["rules"] if r.get("alert") == "TokentraceSpendAnomaly"
    )
    description = " ".join(rule["annotations"]["description"].split()).replace("{{ $labels.tokentrace_team }}", team)
    return {"summary": f"Team {team} spends {ratio:.1f}x its usual amount for this hour", "description": description}


def test_forecast_rule_fires_only_for_the_budget_projected_over_its_limit(tmp_path: Path) -> None:
    gauge = "tokentrace_budget_forecast_utilization"
    result = _run(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": [
                    {"series": f'{gauge}{{tokentrace_budget_name="search-monthly",tokentrace_budget_scope_value="search"}}', "values": "0.6x20 1.4x40"},
                    {"series": f'{gauge}{{tokentrace_budget_name="ads-monthly",tokentrace_budget_scope_value="ads"}}', "values": "0.95x60"},
                ],
                "alert_rule_test": [
                    {"eval_time": "30m", "alertname": "TokentraceBudgetForecastExhausted", "exp_alerts": []},
                    {
                        "eval_time": "50m",
                        "alertname": "TokentraceBudgetForecastExhausted",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "tokentrace_budget_name": "search-monthly",
                                    "tokentrace_budget_scope_value": "search",
                                },
                                "exp_annotations": {
                                    "summary": "Budget search-monthly search will run out before its window ends (140% projected)",
                                    "description": (
                                        "At the current burn rate the budget's window will spend 140% of its limit. "
                                        'tokentrace also logs the day it runs out ("will use its monthly budget up on ..."); '
                                        'see the "Spend by feature" panel for the source.'
                                    ),
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr
