"""FOCUS rows from spend rows: one per day × model × SKU price × tags, with hand-computed numbers.

gpt-4o-mini list prices per 1M tokens: input 0.15, cached input 0.075, output 0.60.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest

from tokentrace.focus import DEFAULT_VERSION, columns_for, focus_rows, write
from tokentrace.ledger import SpendRow

M = 1_000_000
DAY = datetime(2026, 11, 30, tzinfo=timezone.utc).timestamp()
DIMS = {"team": "support", "feature": "triage", "tag.env": "prod"}


def row(token_type: str, tokens: int, rate: float, minute: int = 0, calls: int = 0, **kw) -> SpendRow:
    cost = tokens * rate / M
    fields = dict(
        period_start=DAY + 60 * minute,
        period_end=DAY + 60 * (minute + 1),
        provider="openai",
        model="gpt-4o-mini-2024-07-18",
        request_model="gpt-4o-mini",
        token_type=token_type,
        tokens=tokens,
        list_cost_usd=cost,
        effective_cost_usd=cost * 0.9,
        cost_status="priced",
        usage_source="provider",
        rerouted=False,
        calls=calls,
        dimensions=dict(DIMS),
    )
    fields.update(kw)
    return SpendRow(**fields)


def rows_of_a_day():
    return [
        row("input", 1000, 0.15, minute=0, calls=2),
        row("cache_read", 3000, 0.075, minute=0),
        row("output", 500, 0.60, minute=0),
        row("reasoning", 200, 0.0, minute=0),
        row("input", 3000, 0.15, minute=7, calls=3),
        row("output", 1500, 0.60, minute=7),
    ]


def by_price_id(records):
    return {r["SkuPriceId"]: r for r in records}


def test_minutes_of_one_day_become_one_row_per_sku_price() -> None:
    records = by_price_id(focus_rows(rows_of_a_day()))
    assert set(records) == {"gpt-4o-mini-2024-07-18-input-uncached", "gpt-4o-mini-2024-07-18-input-cache-read", "gpt-4o-mini-2024-07-18-output"}
    uncached = records["gpt-4o-mini-2024-07-18-input-uncached"]
    assert uncached["ConsumedQuantity"] == 4000 and uncached["ConsumedUnit"] == "Tokens"
    assert uncached["PricingQuantity"] == pytest.approx(0.004) and uncached["PricingUnit"] == "1000000 Tokens"
    assert uncached["ListCost"] == pytest.approx(4000 * 0.15 / M)
    assert uncached["EffectiveCost"] == pytest.approx(4000 * 0.15 * 0.9 / M)
    assert uncached["BilledCost"] == uncached["EffectiveCost"] == uncached["ContractedCost"]
    assert uncached["ListUnitPrice"] == pytest.approx(0.15) and uncached["ContractedUnitPrice"] == pytest.approx(0.135)
    assert uncached["x_Calls"] == 5
    assert uncached["SkuId"] == "gpt-4o-mini-2024-07-18-input" and uncached["SkuMeter"] == "Input Tokens"
    assert uncached["ChargePeriodStart"] == datetime(2026, 11, 30, tzinfo=timezone.utc)
    assert uncached["ChargePeriodEnd"] == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert uncached["BillingPeriodStart"] == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert uncached["BillingPeriodEnd"] == datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert (uncached["ServiceCategory"], uncached["ServiceSubcategory"]) == ("AI and Machine Learning", "Generative AI")
    assert uncached["ServiceProviderName"] == uncached["HostProviderName"] == uncached["InvoiceIssuerName"] == "OpenAI"
    assert uncached["ChargeCategory"] == "Usage" and uncached["ChargeFrequency"] == "Usage-Based"
    assert uncached["x_DataSource"] == "tokentrace estimate"
    assert json.loads(uncached["Tags"]) == {"team": "support", "feature": "triage", "env": "prod"}
    details = json.loads(uncached["SkuPriceDetails"])
    assert details == {
        "ModelDeveloper": "OpenAI",
        "ModelFamily": "gpt-4o-mini",
        "ModelId": "gpt-4o-mini-2024-07-18",
        "ModelVersion": "2024-07-18",
        "TokenDirection": "Input",
        "CacheAction": "None",
    }
    read = records["gpt-4o-mini-2024-07-18-input-cache-read"]
    assert read["SkuMeter"] == "Input Tokens" and read["SkuId"] == uncached["SkuId"]  # same SKU, another price
    assert json.loads(read["SkuPriceDetails"])["CacheAction"] == "Read"
    assert read["ListUnitPrice"] == pytest.approx(0.075)
    output = records["gpt-4o-mini-2024-07-18-output"]
    assert output["ConsumedQuantity"] == 2000 and output["x_ReasoningTokens"] == 200
    assert output["SkuMeter"] == "Output Tokens" and json.loads(output["SkuPriceDetails"])["TokenDirection"] == "Output"
    # reasoning is inside output: it never becomes a row, and the costs add up to the rows'
    total = sum(r.effective_cost_usd for r in rows_of_a_day())
    assert sum(r["EffectiveCost"] for r in records.values()) == pytest.approx(total, abs=1e-12)


def test_tags_days_and_cache_writes_split_rows() -> None:
    rows = [
        row("input", 100, 0.15, calls=1),
        row("input", 100, 0.15, calls=1, dimensions={"team": "search"}),
        row("input", 100, 0.15, calls=1, period_start=DAY + 86400, period_end=DAY + 86460),
        row("cache_write_1h", 400, 2.0, provider="anthropic", model="claude-haiku-4-5", calls=0),
        row("cache_write_5m", 400, 1.25, provider="anthropic", model="claude-haiku-4-5", calls=0),
    ]
    records = focus_rows(rows)
    assert len(records) == 5
    writes = [r for r in records if r["ServiceProviderName"] == "Anthropic"]
    assert {r["SkuPriceId"] for r in writes} == {"claude-haiku-4-5-input-cache-write-1h", "claude-haiku-4-5-input-cache-write-5m"}
    assert {json.loads(r["SkuPriceDetails"])["CacheTtl"] for r in writes} == {"5m", "1h"}
    assert all(json.loads(r["SkuPriceDetails"])["ModelDeveloper"] == "Anthropic" for r in writes)


def test_unpriced_models_cost_zero_and_say_why() -> None:
    records = focus_rows([row("input", 3000, 0.0, calls=1, model="acme-llama", list_cost_usd=None, effective_cost_usd=None, cost_status="unknown_model")])
    (record,) = records
    assert record["EffectiveCost"] == 0.0 and record["ListCost"] == 0.0 and record["BilledCost"] == 0.0
    assert record["ListUnitPrice"] is None and record["ContractedUnitPrice"] is None
    assert record["x_CostStatus"] == "unknown_model"


def test_versions_have_their_own_columns() -> None:
    newest, old = columns_for(DEFAULT_VERSION), columns_for("1.0")
    assert DEFAULT_VERSION == "1.4"
    assert {"ServiceProviderName", "HostProviderName", "SkuMeter", "SkuPriceDetails", "ServiceSubcategory"} <= set(newest)
    assert not {"ServiceProviderName", "SkuMeter", "SkuPriceDetails", "ServiceSubcategory"} & set(old)
    assert {"ProviderName", "PublisherName", "InvoiceIssuerName"} <= set(old)
    for columns in (newest, old):
        custom = [c for c in columns if c.startswith("x_")]
        assert columns[-len(custom):] == tuple(custom)  # custom columns after every FOCUS column
    record = focus_rows(rows_of_a_day(), version="1.0")[0]
    assert tuple(record) == old
    with pytest.raises(ValueError, match="choose one of 1.0, 1.3, 1.4"):
        focus_rows([], version="1.5")  # a working draft: not offered


def test_focus_14_drops_provider_and_publisher_and_adds_two_columns() -> None:
    """1.3 -> 1.4 (the specification's version migration guidance): ProviderName and PublisherName
    removed; CommitmentProgramEligibilityDetails and InvoiceDetailId added; nothing else changes."""
    v13, v14 = set(columns_for("1.3")), set(columns_for("1.4"))
    assert v13 - v14 == {"ProviderName", "PublisherName"}
    assert v14 - v13 == {"CommitmentProgramEligibilityDetails", "InvoiceDetailId"}
    focus_columns = [c for c in columns_for("1.4") if not c.startswith("x_")]
    assert focus_columns == sorted(focus_columns)  # the specification's alphabetical column order
    records = focus_rows(rows_of_a_day(), version="1.4")
    assert len(records) == 3
    for record in records:
        assert "ProviderName" not in record and "PublisherName" not in record
        # an estimate is on no invoice, and tokentrace knows no commitment program the usage is eligible for
        assert record["InvoiceDetailId"] is None and record["CommitmentProgramEligibilityDetails"] is None
        assert record["ServiceProviderName"] == record["InvoiceIssuerName"]
    old = {r["SkuPriceId"]: r for r in focus_rows(rows_of_a_day(), version="1.3")}
    for record in records:  # the same charges, to the cent
        assert record["EffectiveCost"] == old[record["SkuPriceId"]]["EffectiveCost"]
        assert record["ConsumedQuantity"] == old[record["SkuPriceId"]]["ConsumedQuantity"]


def test_csv_and_parquet_round_trip(tmp_path) -> None:
    records = focus_rows(rows_of_a_day())
    path = tmp_path / "focus.csv"
    assert write(records, path) == "csv"
    parsed = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(parsed) == 3
    first = parsed[0]
    assert first["ChargePeriodStart"] == "2026-11-30T00:00:00Z" and first["AvailabilityZone"] == ""
    assert list(first) == list(columns_for(DEFAULT_VERSION))
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / "focus.parquet"
    assert write(records, target) == "parquet"
    table = pq.read_table(target)
    assert table.num_rows == 3 and table.column_names == list(columns_for(DEFAULT_VERSION))
    assert str(table.schema.field("EffectiveCost").type) == "double"
    moment = table.schema.field("ChargePeriodStart").type
    assert moment.tz == "UTC" and table.column("ChargePeriodStart")[0].as_py() == datetime(2026, 11, 30, tzinfo=timezone.utc)
    assert sum(table.column("EffectiveCost").to_pylist()) == pytest.approx(sum(r["EffectiveCost"] for r in records))
