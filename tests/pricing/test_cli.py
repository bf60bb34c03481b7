"""The ``tokentrace prices`` and ``tokentrace cost`` commands, run through the real entry point."""

from __future__ import annotations

import socket
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
    code, _, err = run(capsys, "cost", "--model", "nope-1", "--input", "10")
    assert code == 1 and "no price for model 'nope-1'" in err
    code, _, err = run(capsys, "cost", "--model", "gpt-4o", "--input", "10", "--cached", "20")
    assert code == 2 and "must include --cached" in err
    with pytest.raises(SystemExit):
        main(["cost", "--model", "gpt-4o", "--input", "-5"])


def test_prices_lists_with_source_and_date(capsys) -> None:
    code, out, _ = run(capsys, "prices", "gpt-5.4", "--wide")
    assert code == 0
    line = next(l for l in out.splitlines() if l.split()[:2] == ["openai", "gpt-5.4"])
    assert "2.5" in line and "15" in line and ">272,000: 5/22.5" in line and "2026-03-05" in line and "https://" in line
    code, out, _ = run(capsys, "prices", "anthropic.claude-haiku-4-5*")
    assert "(+10% regional)" in out
    code, out, _ = run(capsys, "prices", "no-such-model-xyz")
    assert code == 1


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
    assert "write" not in blocks["openai"][0]  # OpenAI bills cache writes as input: no such rate
    sonnet = next(l for l in blocks["anthropic"] if l.split()[0] == "claude-sonnet-4-5")
    assert sonnet.split()[1:] == ["3*", "0.3", "3.75", "6", "15", "1.5/7.5"]  # * long-context tier
    code, wide, _ = run(capsys, "prices", "--wide")
    assert max(len(line) for line in wide.splitlines()) > 100 and "long context" in wide and "source" in wide
    code, wide_openai, _ = run(capsys, "prices", "gpt-4o-mini", "--wide")
    assert "write 5m" not in wide_openai


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_prices_update_offline_is_a_clear_error_and_changes_nothing(capsys, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "fetched.toml"
    monkeypatch.setenv(UPDATE_PATH_ENV, str(target))
    code, _, err = run(capsys, "prices", "update", "--url", f"http://127.0.0.1:{_closed_port()}/prices.toml", "--timeout", "2")
    assert code == 1
    assert "could not download" in err and "Nothing was changed" in err
    assert not target.exists()


def test_prices_update_fetches_validates_and_is_used(capsys, tmp_path: Path, monkeypatch, provider_server) -> None:
    from tokentrace.core.config import Config
    from tokentrace.core.record import CallRecord, Usage
    from tokentrace.pricing import load_catalog
    from tokentrace.pricing.catalog import builtin_text
    from tokentrace.testing.server import Reply

    newer = builtin_text().replace('name = "gpt-4o"\neffective_from = "2024-08-06"\ninput = 2.5', 'name = "gpt-4o"\neffective_from = "2024-08-06"\ninput = 2.0')
    assert newer != builtin_text()
    provider_server.route("GET", r"/catalog/prices\.toml", lambda s, r, m, p: Reply(200, newer.encode(), content_type="text/plain"))
    provider_server.route("GET", r"/catalog/broken\.toml", lambda s, r, m, p: Reply(200, b"[[model]]\nname = 1", content_type="text/plain"))
    target = tmp_path / "fetched.toml"
    monkeypatch.setenv(UPDATE_PATH_ENV, str(target))

    code, _, err = run(capsys, "prices", "update", "--url", f"{provider_server.url}/catalog/broken.toml")
    assert code == 1 and "'name' must be a non-empty string" in err and not target.exists()

    code, out, _ = run(capsys, "prices", "update", "--url", f"{provider_server.url}/catalog/prices.toml")
    assert code == 0 and str(target) in out and target.exists()
    catalog = load_catalog(Config())
    result = catalog.cost(CallRecord("openai", "chat", request_model="gpt-4o", usage=Usage(input_tokens=1_000_000)), None)
    assert result.usd == pytest.approx(2.0)
