"""`tokentrace report` on a ledger recorded through the real SDKs: tables, one HTML page, PNG charts."""

from __future__ import annotations

import re

import pytest

from tokentrace.cli.main import main

pytest.importorskip("matplotlib")
PNG = b"\x89PNG\r\n\x1a\n"


def test_report_tables_html_and_pngs(recorded, tmp_path, capsys) -> None:
    ledger, spans_usd = recorded
    page, charts = tmp_path / "spend.html", tmp_path / "charts"
    assert main(["report", "--ledger", str(ledger), "--last", "1d", "--html", str(page), "--png", str(charts)]) == 0
    out, err = capsys.readouterr()
    spend = re.search(r"^spend: \$([0-9.,]+)", out, re.M)
    assert spend and float(spend.group(1).replace(",", "")) == pytest.approx(spans_usd, abs=5e-7)
    for section in ("By team", "By feature", "By model", "By provider", "By day", "Caching", "Reroutes", "Unpriced and estimated", "Budgets"):
        assert section in out, section
    assert "gpt-5 -> gpt-5-mini-2025-08-07" in out and "acme-llama-70b-selfhosted" in out
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 4
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)  # self-contained: nothing fetched
    assert "platform" in html and "support" in html
    files = sorted(p.name for p in charts.iterdir())
    assert files == ["spend-by-day.png", "spend-by-model.png", "spend-by-team.png", "tokens-by-type.png"]
    assert all((charts / name).read_bytes().startswith(PNG) for name in files)
    assert f"wrote {page}" in err


def test_report_without_a_ledger_explains(tmp_path, capsys) -> None:
    assert main(["report", "--ledger", str(tmp_path / "missing.sqlite")]) == 2
    assert "no ledger file at" in capsys.readouterr().err
