"""Budget declarations: good ones load, bad ones get an error that names the entry and the fix."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import tokentrace
from tokentrace.budgets import BudgetConfigError, budget, setup
from tokentrace.budgets.policy import load_policies
from tokentrace.budgets.spec import ENTRY_SCOPE, load_specs
from tokentrace.core.config import ConfigError, build_config

TOML = """
[[budget]]
name = "team-daily"
scope = "team"
usd = 50
window = "day"

[[budget]]
name = "search-monthly"
scope = "team"
match = { team = "search" }
usd = 1000.5
tokens = 20_000_000
window = "month"
on_exceed = "warn"
thresholds = [0.9]

[[budget]]
name = "per-task"
scope = "task"
tokens = 100000
project = true
on_store_error = "closed"
"""


def test_toml_file_loads_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "budgets.toml"
    path.write_text(TOML)
    daily, monthly, task = load_specs(str(path))
    assert (daily.name, daily.scope, daily.usd, daily.tokens, daily.window, daily.hard) == (
        "team-daily", "team", 50.0, None, "day", True,
    )
    assert daily.thresholds == (0.5, 0.8, 1.0)
    assert daily.limit_nano_usd == 50_000_000_000
    assert (monthly.match, monthly.usd, monthly.tokens, monthly.hard, monthly.thresholds) == (
        {"team": "search"}, 1000.5, 20_000_000, False, (0.9,),
    )
    assert (task.scope, task.window, task.project, task.on_store_error) == ("task", "total", True, "closed")


@pytest.mark.parametrize(
    "entry, words",
    [
        ({"name": "neg", "usd": -5}, "budget entry #1 ('neg') in the budgets option: usd must not be negative, got -5"),
        ({"name": "negtok", "tokens": -1}, "tokens must not be negative"),
        ({"name": "frac", "tokens": 10.5}, "tokens must be a whole number"),
        ({"name": "w", "usd": 1, "window": "week"}, "unknown window 'week'; expected one of hour, day, month, total"),
        ({"name": "s", "usd": 1, "scope": "department"}, "unknown scope 'department'"),
        ({"name": "m", "usd": 1, "scope": "team", "match": {"squad": "x"}}, "unknown scope key 'squad' in match"),
        ({"name": "k", "usd": 1, "limit": 3}, "unknown setting(s) 'limit'"),
        ({"name": "none"}, "a budget needs a limit"),
        ({"name": "t", "usd": 1, "thresholds": [80]}, "looks like a percentage"),
        ({"name": "e", "usd": 1, "on_exceed": "explode"}, "on_exceed must be 'raise', 'warn', 'downgrade' or a function"),
        ({"name": "f", "usd": 1, "on_store_error": "maybe"}, "on_store_error must be 'open' or 'closed'"),
        ({"name": "nan", "usd": "lots"}, "usd must be a number, got 'lots'"),
        ({"name": "inf", "usd": float("inf")}, "usd must be a finite number"),
    ],
)
def test_bad_entries_are_named_and_explained(entry: dict, words: str) -> None:
    with pytest.raises(BudgetConfigError) as error:
        load_specs([entry])
    assert words in str(error.value)
    assert f"('{entry['name']}')" in str(error.value)
    assert isinstance(error.value, ConfigError) and isinstance(error.value, ValueError)


def test_second_bad_entry_is_named_by_position(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('[[budget]]\nname = "ok"\nusd = 1\n\n[[budget]]\nusd = 1\nwindow = "fortnight"\n')
    with pytest.raises(BudgetConfigError, match=r"budget entry #2 in .*b\.toml:5: unknown window 'fortnight'"):
        load_specs(path)


def test_errors_in_a_file_give_the_line_of_the_entry(tmp_path: Path) -> None:
    """The line of the entry's [[budget]] / [[policy]] header, so an editor jumps to it."""
    path = tmp_path / "budgets.toml"
    path.write_text(
        '# team budgets\n[[budget]]\nname = "ok"\nusd = 1\n\n[[policy]]\nname = "p"\nallow = ["gpt-5-mini"]\n'
        'action = "reroute"\n\n  [[ budget ]]\nname = "typo"\nusd = 1\nwindw = "day"\n'
    )
    with pytest.raises(BudgetConfigError) as error:
        load_specs(path)
    assert str(error.value).startswith(f"budget entry #2 ('typo') in {path}:11: unknown setting(s) 'windw'")
    with pytest.raises(BudgetConfigError) as error:
        load_policies(path)
    assert str(error.value).startswith(f"policy entry #1 ('p') in {path}:6: action must be one of warn, block, rewrite")
    inline = tmp_path / "inline.toml"
    inline.write_text('budget = [{ name = "a", usd = 1 }, { name = "b", usd = -1 }]\n')
    with pytest.raises(BudgetConfigError, match=r"budget entry #2 \('b'\) in .*inline\.toml: usd must not be negative"):
        load_specs(inline)


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(BudgetConfigError, match="already used by budget entry #1"):
        load_specs([{"name": "a", "usd": 1}, {"name": "a", "tokens": 5}])


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(BudgetConfigError, match="cannot be read"):
        load_specs(str(tmp_path / "missing.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[[budget]\nusd = ")
    with pytest.raises(BudgetConfigError, match="is not valid TOML"):
        load_specs(str(bad))
    other = tmp_path / "other.toml"
    other.write_text("[limits]\nusd = 1\n")
    with pytest.raises(BudgetConfigError, match=r"unknown top-level key\(s\) 'limits'; declare budgets as \[\[budget\]\]"):
        load_specs(str(other))


def test_zero_is_a_valid_kill_switch() -> None:
    (spec,) = load_specs([{"name": "off", "usd": 0}])
    assert spec.usd == 0 and spec.limit_nano_usd == 0


def test_budget_in_code_rejects_bad_arguments_at_once() -> None:
    with pytest.raises(ValueError, match=r"tokentrace.budget\(\): usd must not be negative"):
        budget(usd=-1)
    with pytest.raises(BudgetConfigError, match="unknown window 'weekly'"):
        budget(usd=1, window="weekly")
    with pytest.raises(BudgetConfigError, match="unknown scope 'org'"):
        budget(usd=1, scope="org")
    with pytest.raises(BudgetConfigError, match="needs a limit"):
        budget()


def test_budget_in_code_scopes() -> None:
    assert budget(usd=1).spec.scope == ENTRY_SCOPE
    shared = budget(usd=1, window="day")
    assert (shared.spec.scope, shared.spec.window, shared.spec.name) == ("global", "day", "global/day")
    assert budget(tokens=5, scope="team", name="t").spec.window == "total"


def test_non_strict_setup_logs_and_keeps_the_good_entries(caplog: pytest.LogCaptureFixture) -> None:
    config = build_config({"budgets": [{"name": "good", "usd": 1}, {"name": "bad", "usd": -1}]}, environ={})
    with caplog.at_level(logging.ERROR, logger="tokentrace"):
        enforcer = next(o for o in setup(config) if type(o).__name__ == "BudgetEnforcer")
    assert [s.name for s in enforcer.specs] == ["good"]  # type: ignore[attr-defined]
    assert "budget entry #2 ('bad')" in caplog.text and "usd must not be negative" in caplog.text


def test_strict_instrument_raises_config_error(telemetry) -> None:
    try:
        with pytest.raises(ConfigError, match=r"budget entry #1 \('x'\).*unknown scope key 'dept'"):
            tokentrace.instrument(
                tracer_provider=telemetry.tracer_provider,
                meter_provider=telemetry.meter_provider,
                strict=True,
                budgets=[{"name": "x", "usd": 1, "match": {"dept": "a"}}],
            )
    finally:
        tokentrace.uninstrument()


def test_budgets_from_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "env.toml"
    path.write_text(TOML)
    config = build_config({}, environ={"TOKENTRACE_BUDGETS": str(path), "TOKENTRACE_BUDGET_STORE": "memory"})
    enforcer = next(o for o in setup(config) if type(o).__name__ == "BudgetEnforcer")
    assert [s.name for s in enforcer.specs] == ["team-daily", "search-monthly", "per-task"]  # type: ignore[attr-defined]


def test_unknown_store_is_explained() -> None:
    config = build_config({"budget_store": "postgres://db", "strict": True}, environ={})
    with pytest.raises(BudgetConfigError, match=r"budget_store 'postgres://db' is not understood; use 'memory' or a Redis URL"):
        setup(config)
