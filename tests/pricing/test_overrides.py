"""User price files: negotiated prices, custom models, discounts, and broken files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import tokentrace
from tokentrace.core.config import Config, ConfigError
from tokentrace.pricing import load_catalog
from tokentrace.records import semconv as sc

from .conftest import record, ts

M = 1_000_000

GOOD = """
[[model]]
match = "my-llama*"
provider = "self-hosted"
input = 0.2
output = 0.6
cached_input = 0.05

[[model]]
match = "gpt-4o"
input = 2.0
output = 8.0

[[model]]
match = "gpt-4o"
effective_from = 2026-07-01
input = 1.5
output = 6.0

[[model]]
match = "claude-sonnet-4-5"
provider = "anthropic"
input = 3
output = 15
tier = [{ above = 100000, input = 4, output = 20 }]

[[discount]]
provider = "gcp.gemini"
percent = 15

[[discount]]
model = "claude-haiku-*"
percent = 10
"""


@pytest.fixture
def prices_file(tmp_path: Path) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(GOOD)
    return path


def test_custom_self_hosted_model(prices_file: Path) -> None:
    catalog = load_catalog(Config(prices=str(prices_file)))
    result = catalog.cost(record("self-hosted", "my-llama-70b", input_tokens=1000, cache_read_tokens=400, output_tokens=100), None)
    assert result.status == sc.COST_PRICED and result.model == "my-llama*"
    assert result.usd == pytest.approx((600 * 0.2 + 400 * 0.05 + 100 * 0.6) / M)
    # The provider filter keeps the custom price away from other providers.
    assert catalog.cost(record("openai", "my-llama-70b", input_tokens=10, output_tokens=10), None).status == sc.COST_UNKNOWN_MODEL


def test_negotiated_price_overrides_builtin_including_snapshots_and_history(prices_file: Path) -> None:
    catalog = load_catalog(Config(prices=prices_file))
    rec = record("openai", "gpt-4o", response_model="gpt-4o-2024-08-06", input_tokens=1000, output_tokens=1000)
    assert catalog.cost(rec, ts("2026-06-30")).usd == pytest.approx((1000 * 2 + 1000 * 8) / M)
    assert catalog.cost(rec, ts("2026-07-01")).usd == pytest.approx((1000 * 1.5 + 1000 * 6) / M)
    # gpt-4o-mini is not matched by the exact name "gpt-4o": built-in price.
    mini = catalog.cost(record("openai", "gpt-4o-mini", input_tokens=1000, output_tokens=0), None)
    assert mini.usd == pytest.approx(1000 * 0.15 / M)


def test_override_with_tier(prices_file: Path) -> None:
    catalog = load_catalog(Config(prices=str(prices_file)))
    rec = record("anthropic", "claude-sonnet-4-5-20250929", input_tokens=100_001, output_tokens=10)
    assert catalog.cost(rec, None).usd == pytest.approx((100_001 * 4 + 10 * 20) / M)


def test_discounts_by_provider_and_by_model(prices_file: Path) -> None:
    catalog = load_catalog(Config(prices=str(prices_file)))
    gemini = catalog.cost(record("gcp.gemini", "gemini-2.5-flash", input_tokens=1000, output_tokens=1000), None)
    assert gemini.usd == pytest.approx((1000 * 0.3 + 1000 * 2.5) * 0.85 / M)
    haiku = catalog.cost(record("anthropic", "claude-haiku-4-5-20251001", input_tokens=1000, output_tokens=0), None)
    assert haiku.usd == pytest.approx(1000 * 1 * 0.9 / M)
    # Vertex is another provider: the gcp.gemini discount does not apply there.
    vertex = catalog.cost(record("gcp.vertex_ai", "gemini-2.5-flash", input_tokens=1000, output_tokens=1000), None)
    assert vertex.usd == pytest.approx((1000 * 0.3 + 1000 * 2.5) / M)


def test_several_files_joined_by_pathsep(tmp_path: Path, prices_file: Path) -> None:
    import os

    second = tmp_path / "second.toml"
    second.write_text('[[model]]\nmatch = "house-model"\ninput = 1\noutput = 2\n')
    catalog = load_catalog(Config(prices=f"{prices_file}{os.pathsep}{second}"))
    assert catalog.cost(record("custom", "house-model", input_tokens=M, output_tokens=0), None).usd == pytest.approx(1.0)
    assert catalog.cost(record("self-hosted", "my-llama", input_tokens=M, output_tokens=0), None).usd == pytest.approx(0.2)


BROKEN = [
    ("not toml", "[[model]\nmatch = 'x'", "not valid TOML"),
    ("missing input", '[[model]]\nmatch = "x"\noutput = 1\n', "[[model]] #1 ('x'): needs 'input'"),
    ("text price", '[[model]]\nmatch = "x"\ninput = "cheap"\noutput = 1\n', "'input' must be a number of USD per 1M tokens"),
    ("negative price", '[[model]]\nmatch = "x"\ninput = -1\noutput = 1\n', "0 or more, got -1"),
    ("typo key", '[[model]]\nmatch = "x"\ninput = 1\nouptut = 1\n', "unknown key(s) 'ouptut'"),
    ("no match", "[[model]]\ninput = 1\noutput = 1\n", "[[model]] #1: needs 'match'"),
    ("bad date", '[[model]]\nmatch = "x"\ninput = 1\noutput = 1\neffective_from = "June"\n', "'effective_from' must be a date"),
    ("bad tier", '[[model]]\nmatch = "x"\ninput = 1\noutput = 1\ntier = [{ above = -5, input = 2 }]\n', "'above' must be a positive whole number"),
    ("second entry", '[[model]]\nmatch = "ok"\ninput = 1\noutput = 1\n[[model]]\nmatch = "bad"\ninput = 1\n', "[[model]] #2 ('bad'): needs 'output'"),
    ("discount over 100", '[[discount]]\nprovider = "openai"\npercent = 150\n', "[[discount]] #1 ('openai'): 'percent' must be more than 0 and at most 100"),
    ("discount without scope", "[[discount]]\npercent = 10\n", "needs 'provider' and/or 'model'"),
    ("unknown table", '[[modle]]\nmatch = "x"\n', "unknown top-level key(s) modle"),
    ("duplicate", '[[model]]\nmatch = "x"\ninput = 1\noutput = 1\n[[model]]\nmatch = "x"\ninput = 2\noutput = 2\n', "same model and effective_from"),
]


@pytest.mark.parametrize("text, expected", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_file_names_file_entry_and_problem_in_strict_mode(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_catalog(Config(prices=str(path), strict=True))
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_catalog(Config(prices=str(tmp_path / "nope.toml"), strict=True))


def test_broken_file_without_strict_logs_and_keeps_builtin_prices(tmp_path: Path, caplog) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[[model]]\nmatch = "gpt-4o"\ninput = "oops"\noutput = 1\n')
    caplog.set_level(logging.ERROR, logger="tokentrace")
    catalog = load_catalog(Config(prices=str(path)))
    assert any(str(path) in r.getMessage() and "built-in prices" in r.getMessage() for r in caplog.records)
    result = catalog.cost(record("openai", "gpt-4o", input_tokens=1000, output_tokens=0), None)
    assert result.usd == pytest.approx(1000 * 2.5 / M)  # nothing from the half-broken file applies


def test_instrument_reports_a_bad_file_at_start(tmp_path: Path, monkeypatch, instrument, caplog) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[model]]\nmatch = 'x'\n")
    monkeypatch.setenv("TOKENTRACE_PRICES", str(path))
    with pytest.raises(ConfigError, match="broken.toml"):
        instrument(strict=True)
    tokentrace.uninstrument()
    caplog.set_level(logging.ERROR, logger="tokentrace")
    instrument()
    assert tokentrace.is_instrumented()
    assert any("broken.toml" in r.getMessage() for r in caplog.records)


def test_builtin_catalog_is_valid_and_every_entry_has_a_source() -> None:
    from tokentrace.pricing.catalog import load_builtin

    parsed = load_builtin()
    assert len(parsed.models) >= 15 and parsed.rules and parsed.aliases
    for entry in parsed.models:
        assert entry.point.source.startswith(("http", "LiteLLM", "genai-prices")), entry.name
        assert entry.point.reason, f"curated entry {entry.name} must say why it differs from genai-prices"
    for item in [*parsed.rules, *parsed.aliases]:
        assert item.source.startswith("http") and item.reason
