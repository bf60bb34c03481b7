"""`tokentrace focus` on a ledger recorded through the real SDKs: the totals are the spans' totals."""

from __future__ import annotations

import csv
import json
import math

import pytest

from tokentrace.cli.main import main
from tokentrace.focus import columns_for


def test_focus_csv_adds_up_to_the_spans(recorded, tmp_path, capsys) -> None:
    ledger, spans_usd = recorded
    out = tmp_path / "focus.csv"
    assert main(["focus", "--ledger", str(ledger), "--last", "1d", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"FOCUS 1.4 row(s) written to {out}" in err and "unpriced models carry cost 0" in err
    with out.open() as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == list(columns_for("1.4"))
    assert len(rows) == int(err.split("tokentrace focus: ")[1].split(" FOCUS")[0].replace(",", ""))
    assert math.fsum(float(r["EffectiveCost"]) for r in rows) == pytest.approx(spans_usd, abs=1e-9)
    assert round(math.fsum(float(r["BilledCost"]) for r in rows), 2) == round(spans_usd, 2)
    sku = "claude-haiku-4-5-20251001"  # the answering snapshot
    by_price = {r["SkuPriceId"]: r for r in rows if r["SkuId"].startswith(sku)}
    assert set(by_price) == {f"{sku}-input-uncached", f"{sku}-input-cache-read", f"{sku}-input-cache-write-5m", f"{sku}-input-cache-write-1h", f"{sku}-output"}
    assert float(by_price[f"{sku}-input-cache-write-1h"]["ListUnitPrice"]) == pytest.approx(2.0)
    assert float(by_price[f"{sku}-input-cache-write-1h"]["ConsumedQuantity"]) == 2000
    rerouted = [r for r in rows if r["x_Rerouted"] == "true"]
    assert rerouted and all(r["x_RequestedModels"] == "gpt-5" for r in rerouted)
    assert {json.loads(r["Tags"]).get("env") for r in rerouted} == {"prod"}
    unpriced = [r for r in rows if r["x_CostStatus"] == "unknown_model"]
    assert unpriced and all(r["ListUnitPrice"] == "" and float(r["EffectiveCost"]) == 0 for r in unpriced)


def test_focus_parquet_and_version_10(recorded, tmp_path, capsys) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    ledger, spans_usd = recorded
    out = tmp_path / "focus.parquet"
    assert main(["focus", "--ledger", str(ledger), "-o", str(out), "--focus-version", "1.0"]) == 0
    table = pq.read_table(out)
    assert table.column_names == list(columns_for("1.0"))
    assert math.fsum(table.column("EffectiveCost").to_pylist()) == pytest.approx(spans_usd, abs=1e-9)


def test_focus_13_keeps_the_deprecated_provider_columns(recorded, tmp_path, capsys) -> None:
    ledger, spans_usd = recorded
    out = tmp_path / "focus-1.3.csv"
    assert main(["focus", "--ledger", str(ledger), "-o", str(out), "--focus-version", "1.3"]) == 0
    assert "FOCUS 1.3 row(s) written" in capsys.readouterr().err
    with out.open() as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == list(columns_for("1.3"))
    assert all(r["ProviderName"] == r["ServiceProviderName"] for r in rows)
    assert math.fsum(float(r["EffectiveCost"]) for r in rows) == pytest.approx(spans_usd, abs=1e-9)


def test_focus_errors_are_in_words(tmp_path, capsys) -> None:
    assert main(["focus", "--ledger", str(tmp_path / "none.sqlite")]) == 2
    assert "no ledger file at" in capsys.readouterr().err
    assert main(["focus", "--ledger", str(tmp_path / "none.sqlite"), "--focus-version", "2.0"]) == 2
    assert "choose one of 1.0, 1.3, 1.4" in capsys.readouterr().err
    assert main(["focus", "--last", "yesterday"]) == 2
    assert "expected a number and h, d or w" in capsys.readouterr().err
