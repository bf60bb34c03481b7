"""The ``tokentrace prices`` and ``tokentrace cost`` commands, run through the real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokentrace.cli.main import main
from tokentrace.pricing.catalog import UPDATE_PATH_ENV


def run(capsys, *argv: str):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cost_quick_answer(capsys) -> None:
    code, out, _ = run(capsys, "cost", "--model", "gpt-4o", "--input", "2006", "--cached", "1920", "--output", "300")
    assert code == 0
    assert out.startswith("$0.005615  gpt-4o")  # 86 x 2.5 + 1920 x 1.25 + 300 x 10 per 1M


def test_cost_with_cache_writes_tier_and_date(capsys) -> None:
    code, out, _ = run(
        capsys, "cost", "--provider", "anthropic", "--model", "claude-sonnet-4-5-20250929", "--input", "102050",
        "--cached", "100000", "--cache-write", "2000", "--cache-write-long", "500", "--output", "1000", "--date", "2026-01-01",
    )
    assert code == 0 and out.startswith("$0.053775  claude-sonnet-4-5")
    code, out, _ = run(capsys, "cost", "--model", "o3", "--input", "1000", "--output", "1000", "--date", "2025-05-01")
    assert out.startswith("$0.050000  o3")


def test_cost_unknown_model_and_bad_counts(capsys) -> None:
    code, _, err = run(capsys, "cost", "--provider", "openai", "--model", "nope-1", "--input", "10")
    assert code == 1 and "no price for model 'nope-1'" in err and "unknown_model" in err
    code, _, err = run(capsys, "cost", "--model", "gpt-4o", "--input", "10", "--cached", "20")
    assert code == 2 and "must include --cached" in err
    with pytest.raises(SystemExit):
        main(["cost", "--model", "gpt-4o", "--input", "-5"])


def test_prices_lists_with_source_and_date(capsys) -> None:
    code, out, _ = run(capsys, "prices", "gpt-5.4", "--provider", "openai", "--wide")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.split()[:2] == ["openai", "gpt-5.4"])
    assert "2.5" in line and "15" in line and ">272,000: 5/22.5" in line and "genai-prices" in line and "https://" in line
    code, out, _ = run(capsys, "prices", "anthropic.claude-sonnet-4-5", "--provider", "bedrock", "--wide")
    assert "aws.bedrock" in out and "(+10% regional)" in out  # shown under the name calls are recorded with
    code, out, _ = run(capsys, "prices", "no-such-model-xyz")
    assert code == 1
    code, _, err = run(capsys, "prices", "--provider", "nope")
    assert code == 2 and "unknown provider" in err


def test_prices_providers_lists_names_aliases_and_hosts(capsys) -> None:
    code, out, _ = run(capsys, "prices", "--providers")
    assert code == 0
    bedrock = next(ln for ln in out.splitlines() if ln.startswith("aws.bedrock "))
    assert "bedrock" in bedrock and "amazonaws" in bedrock
    assert any(ln.startswith("self-hosted ") for ln in out.splitlines())


def test_prices_shows_overrides(capsys, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[[model]]\nmatch = "house-llm"\ninput = 0.2\noutput = 0.6\n')
    code, out, _ = run(capsys, "prices", "house", "--prices", str(path))
    assert code == 0 and "house-llm" in out and str(path) in out


def test_prices_check(capsys, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[model]]\nmatch = "x"\ninput = 1\noutput = 2\n[[discount]]\nprovider = "openai"\npercent = 5\n')
    code, out, _ = run(capsys, "prices", "check", str(good))
    assert code == 0 and "OK, 1 model price(s), 1 discount(s)" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[[model]]\nmatch = "x"\ninput = 1\n')
    code, _, err = run(capsys, "prices", "check", str(bad))
    assert code == 1 and str(bad) in err and "[[model]] #1 ('x'): needs 'output'" in err


def test_prices_check_lists_every_problem(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[model]]\nmatch = "x"\ninput = 1\n'             # no output
        '[[model]]\nmatch = "ok"\ninput = 1\noutput = 2\n'
        '[[model]]\nmatch = "y"\ninput = -1\noutput = 2\n'  # negative rate
        '[[discount]]\nprovider = "openai"\npercent = 120\n'
    )
    code, _, err = run(capsys, "prices", "check", str(bad))
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == f"tokentrace prices file {bad}: 3 problem(s)"
    assert lines[1].startswith("  - [[model]] #1 ('x'): needs 'output'")
    assert lines[2].startswith("  - [[model]] #3 ('y'): 'input' must be a number")
    assert lines[3].startswith("  - [[discount]] #1 ('openai'): 'percent' must be more than 0 and at most 100")
    duplicate = tmp_path / "dup.toml"
    duplicate.write_text('[[model]]\nmatch = "x"\ninput = 1\noutput = 2\n' * 2)
    code, _, err = run(capsys, "prices", "check", str(duplicate))
    assert code == 1 and "[[model]] #2 ('x'): same model and effective_from as [[model]] #1" in err


def test_prices_check_warns_on_a_file_that_changes_nothing(capsys, tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("# prices to come\n")
    code, out, _ = run(capsys, "prices", "check", str(empty))
    assert code == 0 and "warning: no [[model]] or [[discount]] entries, so this file changes no price" in out
    assert "OK" not in out


def test_prices_table_fits_100_columns_and_shows_only_rates_that_exist(capsys) -> None:
    code, out, _ = run(capsys, "prices")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 100
    blocks = {}
    for line in out.splitlines():
        if line and not line.startswith(" "):
            current = blocks.setdefault(line, [])
        elif line.strip():
            current.append(line)
    assert "write 5m" in blocks["anthropic"][0] and "write 1h" in blocks["anthropic"][0]
    assert "write" not in blocks["groq"][0]  # Groq bills no cache writes: no such column
    sonnet = next(ln for ln in blocks["anthropic"] if ln.split()[0] == "claude-sonnet-4-5")
    assert sonnet.split()[1:] == ["3*", "0.3", "3.75", "6", "15", "1.5/7.5"]  # * long-context tier
    code, wide, _ = run(capsys, "prices", "--wide")
    assert max(len(line) for line in wide.splitlines()) > 100 and "long context" in wide and "source" in wide
    code, wide_openai, _ = run(capsys, "prices", "gpt-4o-mini", "--provider", "openai", "--wide")
    assert "write 5m" not in wide_openai


def test_prices_update_converts_the_installed_genai_prices(capsys, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("genai_prices")
    from tokentrace.core.config import Config
    from tokentrace.pricing import load_catalog
    from tokentrace.pricing.catalog import base_text
    from tokentrace.records.call import CallRecord, Usage

    target = tmp_path / "genai_prices.json"
    monkeypatch.setenv(UPDATE_PATH_ENV, str(target))
    code, out, _ = run(capsys, "prices", "update")
    assert code == 0 and str(target) in out and "genai-prices" in out
    assert target.read_text() == base_text()  # the shipped data is exactly this conversion
    lines = target.read_text().split("\n")
    index = next(i for i, ln in enumerate(lines) if ln.startswith('{"id":"gpt-4o","name":"gpt 4o"'))
    lines[index] = lines[index].replace('"standard":{"cached_input":1.25,"input":2.5,', '"standard":{"cached_input":1.25,"input":2.0,')
    target.write_text("\n".join(lines))
    catalog = load_catalog(Config())  # a newer conversion in the cache wins over the shipped one
    result = catalog.cost(CallRecord("openai", "chat", request_model="gpt-4o", usage=Usage(input_tokens=1_000_000)), None)
    assert result.usd == pytest.approx(2.0)


def test_prices_update_without_genai_prices_changes_nothing(capsys, tmp_path: Path, monkeypatch) -> None:
    import sys

    target = tmp_path / "genai_prices.json"
    monkeypatch.setenv(UPDATE_PATH_ENV, str(target))
    monkeypatch.setitem(sys.modules, "genai_prices", None)
    code, _, err = run(capsys, "prices", "update")
    assert code == 1 and "genai-prices is not installed" in err and "Nothing was changed" in err
    assert not target.exists()


def test_a_broken_update_copy_is_ignored_with_an_error(tmp_path: Path, monkeypatch, caplog) -> None:
    from tokentrace.core.config import Config
    from tokentrace.pricing import load_catalog

    target = tmp_path / "genai_prices.json"
    target.write_text("{not json")
    monkeypatch.setenv(UPDATE_PATH_ENV, str(target))
    catalog = load_catalog(Config())
    assert catalog.resolve("openai", "gpt-4o") is not None
    assert any("ignoring the price data" in r.getMessage() for r in caplog.records)


def test_cost_shows_the_breakdown_per_token_type(capsys) -> None:
    code, out, _ = run(capsys, "cost", "--model", "gpt-4o", "--input", "2006", "--cached", "1920", "--output", "300")
    lines = out.splitlines()
    assert "provider: openai (assumed from the model name" in lines[1]
    assert any("input (uncached)" in ln and "86 x $2.5/1M = $0.000215" in ln for ln in lines)
    assert any("cache read" in ln and "1,920 x $1.25/1M = $0.002400" in ln for ln in lines)
    assert any(ln.strip().startswith("output") and "300 x $10/1M = $0.003000" in ln for ln in lines)


def test_cost_validates_the_service_tier_and_labels_a_fallback(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["cost", "--model", "gpt-4o", "--input", "10", "--service-tier", "bogus"])
    assert "unknown service tier 'bogus'" in capsys.readouterr().err
    code, out, _ = run(capsys, "cost", "--model", "gpt-5", "--input", "1000", "--output", "1000", "--service-tier", "flex", "--date", "2026-11-01")
    assert out.startswith("$0.005625  gpt-5 (flex rates")  # 1000 x 0.625 + 1000 x 5
    code, out, _ = run(capsys, "cost", "--model", "claude-3-haiku-20240307", "--input", "1000", "--service-tier", "flex")
    assert "(standard rates: no flex price known for this model" in out.splitlines()[0]
    assert "flex rates" not in out.splitlines()[0].replace("no flex price", "")


@pytest.mark.parametrize("alias, canonical", [("bedrock", "aws.bedrock"), ("aws", "aws.bedrock"), ("google", "gcp.gemini"),
                                              ("vertex", "gcp.vertex_ai"), ("xai", "x_ai"), ("mistral", "mistral_ai")])
def test_cost_accepts_the_names_people_use_for_providers(capsys, alias: str, canonical: str) -> None:
    model = {"aws.bedrock": "us.anthropic.claude-haiku-4-5-20251001-v1:0", "gcp.gemini": "gemini-2.5-flash",
             "gcp.vertex_ai": "gemini-2.5-flash", "x_ai": "grok-4-0709", "mistral_ai": "mistral-small-2603"}[canonical]
    code, out, err = run(capsys, "cost", "--provider", alias, "--model", model, "--input", "1000", "--output", "10")
    assert code == 0, err
    assert f"provider: {canonical} (from --provider {alias})" in out


def test_cost_unknown_provider_and_unguessable_model_are_errors(capsys) -> None:
    code, _, err = run(capsys, "cost", "--provider", "opnai", "--model", "gpt-4o", "--input", "10")
    assert code == 2 and "unknown provider 'opnai'" in err
    code, _, err = run(capsys, "cost", "--model", "house-model-7", "--input", "10")
    assert code == 2 and "cannot tell the provider" in err


def test_cost_suggests_close_model_names(capsys) -> None:
    code, _, err = run(capsys, "cost", "--model", "claude-sonet-4-5", "--input", "10")
    assert code == 1 and "close names in the catalog:" in err and "claude-sonnet-4-5" in err


def test_cost_for_a_self_hosted_host_says_why_and_how_to_price_it(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "cost", "--model", "gpt-4o", "--host", "127.0.0.1", "--input", "10")
    assert code == 1 and "self_hosted" in err and 'host = "127.0.0.1"' in err
    prices = tmp_path / "p.toml"
    prices.write_text('[[model]]\nhost = "127.0.0.1"\nmatch = "*"\ninput = 0.1\noutput = 0.2\n')
    code, out, _ = run(capsys, "cost", "--model", "gpt-4o", "--host", "127.0.0.1", "--input", "1000000", "--prices", str(prices))
    assert code == 0 and out.startswith("$0.100000")


def test_cost_shows_premium_and_discount(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "cost", "--provider", "vertex", "--host", "us-east5-aiplatform.googleapis.com",
                       "--model", "claude-sonnet-4-5@20250929", "--input", "1000", "--output", "1000")
    assert out.startswith("$0.019800") and "regional endpoint premium +10%" in out  # (3 + 15) x 1.1 per 1k/1M
    prices = tmp_path / "d.toml"
    prices.write_text('[[discount]]\nprovider = "anthropic"\npercent = 20\n')
    code, out, _ = run(capsys, "cost", "--model", "claude-haiku-4-5", "--input", "1000000", "--prices", str(prices))
    assert out.startswith("$0.800000") and "your discount -20%" in out
