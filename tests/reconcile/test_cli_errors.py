"""``tokentrace reconcile`` says what is wrong, in words, with exit status 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

import pytest

from tokentrace.cli.main import main
from tokentrace.cli.reconcile import parse_period, parse_tolerance


@pytest.mark.parametrize(
    "args,message",
    [
        (["--vendor", "stripe"], "--vendor 'stripe': expected openai | anthropic | cur FILE"),
        (["--vendor", "cur"], "--vendor cur needs the export file"),
        (["--vendor", "openai", "x.csv"], "takes no file"),
        (["--vendor", "cur", "missing.csv"], "missing.csv: file not found"),
        (["--vendor", "openai", "--tolerance", "lots"], "--tolerance 'lots'"),
        (["--vendor", "openai", "--to", "2026-10-01"], "the period is empty"),
        (["--vendor", "openai"], "no admin key: set OPENAI_ADMIN_KEY"),
        (["--vendor", "cur", "x.csv", "--bucket-width", "1h"], "--bucket-width is for the admin APIs"),
        (["--vendor", "anthropic"], "no admin key: set ANTHROPIC_ADMIN_API_KEY or ANTHROPIC_ADMIN_KEY"),
    ],
)
def test_errors(args: List[str], message: str, capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OPENAI_ADMIN_KEY", "ANTHROPIC_ADMIN_API_KEY", "ANTHROPIC_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    full = ["reconcile", "--from", "2026-11-01", "--to", "2026-11-30", "--ledger", str(tmp_path / "none.sqlite")]
    if "--to" in args:
        full = ["reconcile", "--from", "2026-11-01", "--ledger", str(tmp_path / "none.sqlite")]
    assert main(full + args) == 2
    assert message in capsys.readouterr().err


def test_a_missing_ledger_is_a_clear_error(capsys: Any, tmp_path: Path) -> None:
    focus = tmp_path / "focus.csv"
    focus.write_text("ChargePeriodStart,ConsumedQuantity\n")
    assert main(["reconcile", "--vendor", "focus", str(focus), "--from", "2026-11-01", "--to", "2026-11-30", "--ledger", str(tmp_path / "none.sqlite")]) == 2
    assert "none.sqlite" in capsys.readouterr().err


def test_periods_and_tolerances() -> None:
    assert parse_period("2026-11-01", "2026-11-30") == (1793491200, 1793491200 + 30 * 86400)
    assert parse_period("2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z") == (1793512800, 1793516400)
    assert parse_tolerance("2.5%") == pytest.approx(0.025)
    assert parse_tolerance("0.01") == pytest.approx(0.01)
    with pytest.raises(ValueError, match="must not be negative"):
        parse_tolerance("-1%")
