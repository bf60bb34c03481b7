"""The time-dependent alert rules (forecast, anomaly) evaluated by Prometheus' own rule engine.

A live test run has minutes of data, not the seven days of history the anomaly baseline needs,
so these rules are also run through ``promtool test rules``: the real Prometheus engine over
synthetic series whose every value is stated here, with the alerts each must (and must not)
raise at a given time.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Callable, Dict, List

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


def _cost(team: str, feature: str, model: str, values: str, workflow: str = "") -> Dict[str, str]:
    labels = f'tokentrace_team="{team}",tokentrace_feature="{feature}",gen_ai_response_model="{model}"'
    if workflow:
        labels += f',tokentrace_workflow="{workflow}"'
    return {"series": f"tokentrace_cost_USD_total{{{labels}}}", "values": values}


WEEK = 7 * STEPS_PER_DAY
#: A week of ordinary spend, then from day 7 00:00:
#: - search/answer/gpt-4o-mini/triage: $12/hour all along (1 per 5 min), its normal level;
#: - search/summary/gpt-5/ticket-summary: $1.20/hour for a week (0.1 per 5 min), then $36/hour:
#:   team search goes from $13.20 to $48 an hour (3.6x), feature summary and model gpt-5 from
#:   $1.20 to $36 (30x);
#: - ads/ads-answer/gpt-4o-mini/triage: $12/hour all along;
#: - night/batch/gpt-4o-mini (no workflow): nothing for a week, then $6/hour (0.5 per 5 min).
ANOMALY_SERIES = [
    _cost("search", "answer", "gpt-4o-mini", f"0+1x{WEEK + 24}", workflow="triage"),
    _cost("search", "summary", "gpt-5", f"0+0.1x{WEEK} {WEEK / 10}+3x24", workflow="ticket-summary"),
    _cost("ads", "ads-answer", "gpt-4o-mini", f"0+1x{WEEK + 24}", workflow="triage"),
    _cost("night", "batch", "gpt-4o-mini", f"0+0x{WEEK} 0+0.5x24"),
]
def _cumulative(spends: Callable[[int, int], bool], days: int) -> str:
    """Explicit values of a cost counter at 5-minute steps: +1 USD in each step ending at a
    minute of the day (and day) where ``spends`` says so."""
    total, values = 0, ["0"]
    for step in range(1, days * STEPS_PER_DAY + 1):
        minutes = step * 5
        day, minute_of_day = divmod(minutes, 1440)
        if minute_of_day == 0:
            day, minute_of_day = day - 1, 1440
        total += 1 if spends(minute_of_day, day) else 0
        values.append(str(total))
    return " ".join(values)


USUAL = "over the last hour is far above the median of the same hour on the previous seven days."


def _alert(title: str, label: str, value: str, ratio: float, details: str) -> Dict[str, Any]:
    return {
        "exp_labels": {"severity": "warning", label: value},
        "exp_annotations": {
            "summary": f"{title} {value} spends {ratio:.1f}x its usual amount for this hour",
            "description": f"The spend of {title.lower()} {value} {USUAL}{details}",
        },
    }


def test_anomaly_fires_for_the_team_whose_hour_is_three_times_its_usual(tmp_path: Path) -> None:
    # At day 7 02:00 the last hour is all new: search $48 vs $13.20 (3.6x), and $36 of it from workflow
    # ticket-summary on gpt-5 (the triage workflow's $12 on gpt-4o-mini is the smaller part); ads
    # $12 vs $12; night $6 vs the 0.34 USD floor (17.6x, and 6 > 1 USD), no workflow to name.
    # Firing for 15 minutes needs the ratio above 3 since 01:45.
    search = " Top workflow: ticket-summary (36.00 USD). Top model: gpt-5 (36.00 USD)."
    night = " Top model: gpt-4o-mini (6.00 USD)."
    result = _run(
        tmp_path,
        [
            {
                "interval": "5m",
                "input_series": ANOMALY_SERIES,
                "alert_rule_test": [
                    {
                        "eval_time": "7d2h",
                        "alertname": "TokentraceSpendAnomaly",
                        "exp_alerts": [
                            _alert("Team", "tokentrace_team", "night", 6 / 0.34, night),
                            _alert("Team", "tokentrace_team", "search", 48 / 13.2, search),
                        ],
                    },
                    # Before the jump nothing is anomalous: the daily level is the baseline.
                    {"eval_time": "6d23h", "alertname": "TokentraceSpendAnomaly", "exp_alerts": []},
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_anomaly_fires_per_feature_and_per_model_naming_what_spent_most(tmp_path: Path) -> None:
    # Features summary ($36 vs $1.20: 30x) and batch ($6 vs the floor: 17.6x) are anomalous,
    # answer and ads-answer ($12 vs $12) are not. Models: gpt-5 ($36 vs $1.20) is; gpt-4o-mini
    # spends 12 + 12 + 6 = $30 against its usual $24 (1.25x), which is not.
    result = _run(
        tmp_path,
        [
            {
                "interval": "5m",
                "input_series": ANOMALY_SERIES,
                "alert_rule_test": [
                    {
                        "eval_time": "7d2h",
                        "alertname": "TokentraceFeatureSpendAnomaly",
                        "exp_alerts": [
                            _alert("Feature", "tokentrace_feature", "batch", 6 / 0.34, " Top model: gpt-4o-mini (6.00 USD)."),
                            _alert(
                                "Feature", "tokentrace_feature", "summary", 36 / 1.2,
                                " Top workflow: ticket-summary (36.00 USD). Top model: gpt-5 (36.00 USD).",
                            ),
                        ],
                    },
                    {
                        "eval_time": "7d2h",
                        "alertname": "TokentraceModelSpendAnomaly",
                        "exp_alerts": [
                            _alert(
                                "Model", "gen_ai_response_model", "gpt-5", 36 / 1.2,
                                " Top workflow: ticket-summary (36.00 USD). Top team: search (36.00 USD).",
                            ),
                        ],
                    },
                    {"eval_time": "6d23h", "alertname": "TokentraceFeatureSpendAnomaly", "exp_alerts": []},
                    {"eval_time": "6d23h", "alertname": "TokentraceModelSpendAnomaly", "exp_alerts": []},
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_daily_cycle_is_no_anomaly_but_a_jump_against_it_is(tmp_path: Path) -> None:
    # Team office: $12/hour from 09:00 to 17:00 UTC and nothing at night, every day for a week
    # and on day 7. At 7d10h its hour is $12, as on every previous day at 10:00: no alert, though
    # it is far above the previous hours of the same day. Team late does the same, but on day 7 it
    # spends $12 from 02:00 to 03:00, an hour that is usually silent: that is an anomaly.
    def busy(minute_of_day: int, day: int) -> bool:
        return 9 * 60 < minute_of_day <= 17 * 60

    def late_busy(minute_of_day: int, day: int) -> bool:
        return busy(minute_of_day, day) or (day == 7 and 2 * 60 < minute_of_day <= 3 * 60)

    office, late = _cumulative(busy, 8), _cumulative(late_busy, 8)
    result = _run(
        tmp_path,
        [
            {
                "interval": "5m",
                "input_series": [
                    _cost("office", "chat", "gpt-4o-mini", office),
                    _cost("late", "chat-late", "gpt-4o-mini", late),
                ],
                "alert_rule_test": [
                    {"eval_time": "7d10h", "alertname": "TokentraceSpendAnomaly", "exp_alerts": []},
                    {
                        "eval_time": "7d3h",
                        "alertname": "TokentraceSpendAnomaly",
                        "exp_alerts": [
                            _alert("Team", "tokentrace_team", "late", 12 / 0.34, " Top model: gpt-4o-mini (12.00 USD).")
                        ],
                    },
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


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
