"""Export-file sources: vendor spellings, both file formats of each export, and bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import pytest

from tokentrace.pricing.billing_names import azure_meter_model, bedrock_model_from_usage_type, gcp_sku_model
from tokentrace.reconcile.identity import ModelIdentity
from tokentrace.reconcile.sources import SourceError, load
from tokentrace.reconcile.sources.cur import parse_usage_type
from tokentrace.testing.billing import BilledCall, Billing
from tokentrace.testing.exports import usage_type_model, write_azure, write_cur, write_focus, write_gcp

AT = 1_796_156_205.0


@pytest.mark.parametrize(
    "usage_type,expected",
    [
        ("USE1-Claude4.6Sonnet-input-tokens", ("anthropic.claude-sonnet-4-6", "input", None)),
        ("USE1-Claude4.6Sonnet-output-tokens", ("anthropic.claude-sonnet-4-6", "output", None)),
        ("USW2-Claude4.5Haiku-cache-read-input-token-count", ("anthropic.claude-haiku-4-5", "cache_read", None)),
        ("EUC1-Claude3.5Haiku-cache-write-input-token-count", ("anthropic.claude-3-5-haiku", "cache_write_5m", None)),
        ("USE1-NovaPro-flex-input-tokens", ("amazon.nova-pro", "input", "flex")),
        ("USE1-Claude4.5Sonnet-cross-region-global-output-tokens", ("anthropic.claude-sonnet-4-5", "output", None)),
        ("USE1-ProvisionedThroughput-ModelUnits", None),
    ],
)
def test_bedrock_usage_types(usage_type: str, expected: object) -> None:
    assert parse_usage_type(usage_type) == expected


def test_billing_spellings_resolve_to_the_catalog_models() -> None:
    identity = ModelIdentity()
    assert identity.resolve("aws.bedrock", bedrock_model_from_usage_type("Claude4.5Sonnet")) == identity.resolve("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert identity.resolve("aws.bedrock", bedrock_model_from_usage_type("NovaPro"))[1]
    assert gcp_sku_model("Gemini 2.5 Flash Input Text Tokens") == "gemini-2.5-flash"
    assert gcp_sku_model("Claude Sonnet 4.5 Cached Input Tokens") == "claude-sonnet-4-5"
    assert azure_meter_model("gpt-4o-0806-Inp-glbl") == "gpt-4o"
    assert azure_meter_model("gpt-4o-mini-0718-cchd-Inp-glbl") == "gpt-4o-mini"
    assert identity.resolve("azure.ai.openai", "gpt-4o")[0] == identity.resolve("openai", "gpt-4o-2024-08-06")[0]
    assert usage_type_model("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == "Claude4.5Sonnet"


def _billing() -> Billing:
    return Billing(
        calls=[
            BilledCall(AT, "aws.bedrock", "converse", "anthropic.claude-sonnet-4-5-20250929-v1:0", {"input": 100, "cache_read": 1000, "cache_write_5m": 200, "output": 50}),
            BilledCall(AT, "gcp", "generate_content", "gemini-2.5-flash", {"input": 100, "cache_read": 20, "output": 50}, "acme-prod"),
            BilledCall(AT, "azure.ai.openai", "completions", "gpt-4o-2024-08-06", {"input": 982, "cache_read": 1024, "output": 300}),
            BilledCall(AT, "openai", "completions", "gpt-4o-2024-08-06", {"input": 982, "cache_read": 1024, "output": 300}, "proj_a"),
            BilledCall(AT, "anthropic", "messages", "claude-sonnet-4-5-20250929", {"input": 100, "cache_write_1h": 300, "output": 50}),
        ]
    )


def _tokens(path: Path, source: str) -> Dict[tuple, int]:
    found: Dict[tuple, int] = {}
    for row in load(source, path=path).rows:
        found[(row.provider, row.token_type)] = found.get((row.provider, row.token_type), 0) + row.tokens
    return found


@pytest.mark.parametrize("name", ["cur.csv", "cur.parquet"])
def test_cur_csv_and_parquet(tmp_path: Path, name: str) -> None:
    path = write_cur(tmp_path / name, _billing())
    assert _tokens(path, "cur") == {("aws.bedrock", "input"): 100, ("aws.bedrock", "cache_read"): 1000, ("aws.bedrock", "cache_write_5m"): 200, ("aws.bedrock", "output"): 50}
    costs = {r.token_type: r.effective_cost_usd for r in load("cur", path=path).rows}
    # Sonnet 4.5 on a regional Bedrock endpoint: list rates + 10 % regional premium
    assert costs["input"] == pytest.approx(100 * 3.3e-6) and costs["output"] == pytest.approx(50 * 16.5e-6)


@pytest.mark.parametrize("name", ["billing.csv", "billing.json"])
def test_gcp_csv_and_json(tmp_path: Path, name: str) -> None:
    path = write_gcp(tmp_path / name, _billing())
    assert _tokens(path, "gcp") == {("gcp.gemini", "input"): 100, ("gcp.gemini", "cache_read"): 20, ("gcp.gemini", "output"): 50}
    assert {r.dimensions["project_id"] for r in load("gcp", path=path).rows} == {"acme-prod"}


def test_azure_export_in_thousands(tmp_path: Path) -> None:
    path = write_azure(tmp_path / "costs.csv", _billing())
    assert _tokens(path, "azure") == {("azure.ai.openai", "input"): 982, ("azure.ai.openai", "cache_read"): 1024, ("azure.ai.openai", "output"): 300}


@pytest.mark.parametrize("name", ["focus.csv", "focus.parquet"])
def test_focus_token_rows(tmp_path: Path, name: str) -> None:
    path = write_focus(tmp_path / name, _billing())
    assert _tokens(path, "focus") == {
        ("openai", "input"): 982,
        ("openai", "cache_read"): 1024,
        ("openai", "output"): 300,
        ("anthropic", "input"): 100,
        ("anthropic", "cache_write_1h"): 300,
        ("anthropic", "output"): 50,
    }


def test_non_token_lines_are_skipped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "cur.csv"
    write_cur(path, _billing())
    lines: List[str] = path.read_text().splitlines()
    extra = lines[1].replace("AmazonBedrock", "AmazonEC2")
    credit = lines[1].replace(",Usage,", ",Credit,", 1)
    path.write_text("\n".join(lines + [extra, credit]) + "\n")
    data = load("cur", path=path)
    assert len(data.rows) == 4
    notes = " ".join(data.all_notes())
    assert "1 line(s): lines of other AWS services" in notes and "Credit lines (not usage)" in notes


@pytest.mark.parametrize("source", ["cur", "gcp", "azure", "focus"])
def test_the_wrong_file_is_a_clear_error(tmp_path: Path, source: str) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(SourceError, match="not a|no "):
        load(source, path=path)
    with pytest.raises(SourceError, match="file not found"):
        load(source, path=tmp_path / "missing.csv")


def test_bad_json_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "billing.json"
    path.write_text('{"sku": ')
    with pytest.raises(SourceError, match="not valid JSON"):
        load("gcp", path=path)
    path.write_text(json.dumps({"sku": {"description": "Gemini 2.5 Flash Input Text Tokens"}, "usage_start_time": "yesterday", "service": {"description": "Vertex AI"}}))
    with pytest.raises(SourceError, match=r"billing.json: cannot read usage_start_time 'yesterday'"):
        load("gcp", path=path)
