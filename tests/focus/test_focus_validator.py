"""CI runs the FinOps Foundation's validator (PyPI focus-validator 1.0.0) on `--focus-version 1.0` output.

The validator lives in its own venv (``.ci/install-focus-validator.sh``: it needs
``multimethod<1.11``) and runs in a subprocess. Its 1.0 rule set still names four columns by their
1.0-preview names (``InvoiceIssuer``, ``Provider``, ``Publisher``, ``ResourceID``) and checks
``SkuPriceId`` against the preview's ``ChargeType``; the test hands it a copy with those names
(the values unchanged), so every one of its rules runs on tokentrace's values. A file with a bad
value must fail, so the check can fail.
"""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import pytest

from tokentrace.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("TOKENTRACE_CI_WORK", ROOT / ".ci-work")) / "focus-validator-venv"
PREVIEW_NAMES = {"InvoiceIssuerName": "InvoiceIssuer", "ProviderName": "Provider", "PublisherName": "Publisher", "ResourceId": "ResourceID"}


def _validator() -> Path:
    executable = VENV / "bin" / "focus-validator"
    if not executable.exists():
        if os.environ.get("TOKENTRACE_REQUIRE_BACKENDS") == "1":
            pytest.fail(f"{executable} is missing: .ci/install-focus-validator.sh did not install it")
        pytest.skip(f"focus-validator is not installed ({executable}); run .ci/install-focus-validator.sh")
    return executable


def _for_validator(source: Path, target: Path, corrupt: bool = False) -> None:
    with source.open(newline="") as stream:
        rows = list(csv.reader(stream))
    header = rows[0]
    category = header.index("ChargeCategory")
    frequency = header.index("ChargeFrequency")
    with target.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([PREVIEW_NAMES.get(c, c) for c in header] + ["ChargeType"])
        for row in rows[1:]:
            if corrupt:
                row[frequency] = "Sometimes"
            writer.writerow(row + [row[category]])


def _validate(executable: Path, data: Path) -> subprocess.CompletedProcess:
    site = next((VENV / "lib").glob("python3*/site-packages"))
    # the validator reads its currency list from a path relative to its package's parent
    return subprocess.run(
        [str(executable), "--data-file", str(data), "--validate-version", "1.0"],
        cwd=site, capture_output=True, text=True, timeout=300,
    )


def test_focus_10_output_passes_the_foundations_validator(recorded, tmp_path, capsys) -> None:
    executable = _validator()
    ledger, _ = recorded
    out = tmp_path / "focus-1.0.csv"
    assert main(["focus", "--ledger", str(ledger), "--focus-version", "1.0", "-o", str(out)]) == 0
    data = tmp_path / "for-validator.csv"
    _for_validator(out, data)
    result = _validate(executable, data)
    assert result.returncode == 0 and "Validation succeeded" in result.stdout, result.stdout + result.stderr

    broken = tmp_path / "broken.csv"
    _for_validator(out, broken, corrupt=True)
    failed = _validate(executable, broken)
    assert "Validation succeeded" not in failed.stdout and "ChargeFrequency" in failed.stdout, failed.stdout + failed.stderr
