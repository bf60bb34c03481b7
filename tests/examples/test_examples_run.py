"""The README's runnable examples run as written, against the local provider server."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(script: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_quickstart_prints_each_calls_usage_and_cost() -> None:
    out = _run("quickstart.py")
    priced = re.findall(r"^chat (\S+): (\d+) in / (\d+) out, \$(\d+\.\d+) \(priced\)$", out, re.M)
    assert {model for model, *_ in priced} >= {"gpt-4o-mini", "gpt-4o"}
    assert all(float(cost) > 0 for *_, cost in priced)


def test_budgets_example_stops_the_runaway_before_sending() -> None:
    out = _run("budgets.py")
    assert "soft budget alerts: ['50%', '80%', '100%']" in out
    assert re.search(r"agent stopped after \d+ calls", out)
    assert "was not sent" in out
    assert "team 'search' stopped" in out and "team 'ads' still has budget" in out


def test_providers_example_prints_one_priced_span_per_provider() -> None:
    out = _run("providers.py")
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    # Hand-computed at list prices: Claude Haiku 4.5 $1 in / $0.10 cache read / $5 out per 1M;
    # Gemini 2.5 Pro $1.25 in / $0.125 cached / $10 out (thoughts billed as output).
    assert lines["anthropic"] == "chat claude-haiku-4-5: 40120 in (40000 cached) / 800 out, $0.008120 for team support"
    assert lines["gcp.gemini"] == "generate_content gemini-2.5-pro: 10000 in (4000 cached) / 2000 out, $0.028000 for team support"
    assert lines["aws.bedrock"].startswith("chat us.anthropic.claude-haiku-4-5-20251001-v1:0: ")
    assert lines["aws.bedrock"].endswith("for team support") and "$0.000000" not in lines["aws.bedrock"]


def test_routing_example_forecasts_downgrades_rewrites_and_flags_the_anomaly() -> None:
    out = _run("routing.py")
    assert re.search(r"^forecast: .*team support will use its monthly budget up on \d+ \w+", out, re.M)
    # $0.05 fits one gpt-5 call ($0.045) and the next is admitted below the limit; the third is downgraded.
    assert re.search(r"^downgrade: gpt-5 answered by \['gpt-5-2\S+', 'gpt-5-2\S+', 'gpt-5-mini-\S+'\]$", out, re.M)
    assert re.search(r"^policy: gpt-5 answered by gpt-5-mini", out, re.M)
    assert re.search(r"^downgrade by function: gpt-5 answered by gpt-5-nano", out, re.M)
    assert re.search(r"^policy from file: tokentrace model policy 'labs-no-o3' \(team=labs\) does not allow model 'o3'", out, re.M)
    assert "does not allow model 'o3'" in out and "the call was not sent" in out
    assert re.search(r"^anomaly: .*team support spent \$[\d.]+ since \d\d:00 UTC, [\d.]+x its usual \$0\.02", out, re.M)
    assert "workflow 'ticket-summary'" in out
    assert "vendor limit: RateLimitError recorded as project_spend_limit" in out


def test_redis_budgets_example_keeps_the_counter_right_across_a_restart_and_a_restore() -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (run .ci/install-redis.sh)")
    out = _run("redis_budgets.py")
    assert "after 5 calls, Redis holds $0.00225 (5 calls)" in out  # 5 x $0.00045 on gpt-4o-mini
    assert "after a restart missed 2 calls, and 1 more: $0.00360 (8 calls)" in out
    assert "restored from the snapshot taken after 3 calls: $0.00135 (3 calls)" in out
    assert "the next call raises it back first: $0.00405 (9 calls)" in out
    assert "the 11th call is blocked:" in out and "$0.0045 spent of $0.0045" in out


def test_finops_example_reports_and_exports_the_same_spend() -> None:
    out = _run("finops.py")
    ledger = re.search(r"^ledger rows: \d+, calls: (\d+), spend: \$(\d+\.\d+)$", out, re.M)
    focus = re.search(r"^FOCUS rows: \d+, EffectiveCost total: \$(\d+\.\d+),", out, re.M)
    report = re.search(r"^spend: \$(\d+\.\d+)", out, re.M)
    assert ledger and focus and report, out
    assert int(ledger.group(1)) > 10
    assert ledger.group(2) == focus.group(1) == report.group(1)
    for section in ("By team", "By model", "Caching", "Reroutes", "Unpriced and estimated"):
        assert section in out



def test_self_hosted_example_is_unpriced_without_prices_and_priced_by_the_prices_file() -> None:
    out = _run("self_hosted.py")
    without, with_prices = re.findall(r"^\S+ gpt-4o: (\d+) in / (\d+) out, cost (\S+) \((\w+)\)$", out, re.M)
    assert without[2:] == ("none", "self_hosted")  # OpenAI's list price never applies to a local server
    tokens_in, tokens_out, cost, status = with_prices
    assert status == "priced"
    assert float(cost) == (int(tokens_in) * 0.10 + int(tokens_out) * 0.40) / 1_000_000
