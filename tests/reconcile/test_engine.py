"""The reconciliation engine on hand-built spend rows: each cause found alone, with exact numbers."""

from __future__ import annotations

from typing import Dict, List, Optional

import pytest

from tokentrace.ledger.row import SpendRow
from tokentrace.reconcile import reconcile, result as r

DAY0 = 1_796_083_200.0  # 2026-12-01 00:00 UTC
DAY = 86_400.0
# gpt-4o list rates per 1M: input 2.50, cached 1.25, output 10.00
RATES = {"input": 2.5, "cache_read": 1.25, "output": 10.0}


def vendor(day: int, model: str, token_type: str, tokens: int, *, calls: int = 0, rate: Optional[float] = None, **dims: str) -> List[SpendRow]:
    """A usage row and a cost row, as the OpenAI source produces them."""
    start = DAY0 + day * DAY
    usd = tokens * (rate if rate is not None else RATES[token_type]) / 1e6
    return [
        SpendRow(start, start + DAY, "openai", model, token_type, tokens, calls=calls, dimensions=dict(dims), source="openai"),
        SpendRow(start, start + DAY, "openai", model, token_type, 0, effective_cost_usd=usd, dimensions={k: v for k, v in dims.items() if k == "project_id"}, source="openai"),
    ]


def ours(day: int, model: str, token_type: str, tokens: int, *, calls: int = 0, minute: int = 5, priced: bool = True, **fields: object) -> SpendRow:
    start = DAY0 + day * DAY + minute * 60
    usd = tokens * RATES[token_type] / 1e6 if priced else None
    return SpendRow(start, start + 60, "openai", model, token_type, tokens, list_cost_usd=usd, effective_cost_usd=usd, calls=calls, **fields)  # type: ignore[arg-type]


def call(day: int, model: str, usage: Dict[str, int], **fields: object) -> List[SpendRow]:
    """One answered call in the ledger's shape: calls counted on the input row."""
    return [ours(day, model, t, n, calls=1 if t == "input" else 0, **fields) for t, n in usage.items()]


USAGE = {"input": 982, "cache_read": 1024, "output": 300}


def billed(day: int, model: str = "gpt-4o-2024-08-06", usage: Dict[str, int] = USAGE, requests: int = 1, **dims: str) -> List[SpendRow]:
    return [row for t, n in usage.items() for row in vendor(day, model, t, n, calls=requests, **dims)]


def run(vendor_rows: List[SpendRow], our_rows: List[SpendRow], days: int = 2, **options: object) -> r.Reconciliation:
    return reconcile(vendor_rows, our_rows, source="openai", start=DAY0, end=DAY0 + days * DAY, **options)  # type: ignore[arg-type]


def kinds(result: r.Reconciliation) -> Dict[str, int]:
    return result.causes()


def test_full_capture_when_both_sides_agree_and_snapshots_match_aliases() -> None:
    result = run(billed(0) + billed(1), call(0, "gpt-4o", USAGE) + call(1, "gpt-4o", USAGE))
    assert result.within_tolerance
    assert result.totals.token_capture == 1.0
    # 982 * 2.50 + 1024 * 1.25 + 300 * 10 = 6735 micro-USD per call, two calls
    assert result.totals.vendor_cost_usd == pytest.approx(0.013470, abs=1e-12)
    assert result.totals.cost_capture == pytest.approx(1.0, abs=1e-12)
    assert kinds(result) == {}
    assert any("'gpt-4o-2024-08-06' matched tokentrace's 'gpt-4o'" in note for note in result.notes)


def test_a_missing_day_is_explained_as_such() -> None:
    result = run(billed(0) + billed(1), call(1, "gpt-4o", USAGE))
    assert kinds(result) == {r.MISSING_DAY: 3}
    assert result.totals.unexplained_tokens == 0
    assert result.totals.token_capture == pytest.approx(0.5)
    assert not result.within_tolerance  # explained, but half the bill is still not captured
    assert any("2026-12-01" in note and "no record" in note for note in result.notes)


def test_a_retried_call_billed_twice_is_explained_by_the_extra_request() -> None:
    double = {t: 2 * n for t, n in USAGE.items()}
    result = run(billed(0, usage=double, requests=2), call(0, "gpt-4o", USAGE), days=1)
    assert kinds(result) == {r.EXTRA_REQUESTS: 3}
    cell = next(c for c in result.cells if c.key.token_type == "output")
    assert cell.delta_tokens == 300
    assert cell.causes[0].cost_usd == pytest.approx(300 * 10 / 1e6)
    assert "2 requests where tokentrace saw 1" in cell.causes[0].detail


def test_recorded_attempts_explain_a_retry_exactly() -> None:
    double = {t: 2 * n for t, n in USAGE.items()}
    attempts = [ours(0, "gpt-4o", t, n, calls=1 if t == "input" else 0, usage_source="attempt") for t, n in USAGE.items()]
    result = run(billed(0, usage=double, requests=2), call(0, "gpt-4o", USAGE) + attempts, days=1)
    assert kinds(result) == {r.POSSIBLY_BILLED: 3}
    assert result.totals.unexplained_tokens == 0
    assert result.totals.possibly_billed_tokens == sum(USAGE.values())
    assert result.totals.tokentrace_tokens == sum(USAGE.values())  # attempts are never counted as captured


def test_a_model_named_differently_is_paired_by_its_tokens() -> None:
    result = run(billed(0, model="gpt-4o-2024-08-06"), call(0, "my-gpt4o-deployment", USAGE), days=1)
    assert kinds(result) == {r.MODEL_NAME: 6}
    assert result.totals.unexplained_tokens == 0
    assert any("'gpt-4o'" in note and "'my-gpt4o-deployment'" in note and "alias" in note for note in result.notes)


def test_a_project_tokentrace_never_saw_is_named() -> None:
    other = {"input": 5000, "output": 700}
    rows = billed(0, project_id="proj_app") + billed(0, usage=other, project_id="proj_unknown")
    result = run(rows, call(0, "gpt-4o", USAGE), days=1)
    assert kinds(result) == {r.UNSEEN_SCOPE: 2}
    assert result.totals.unexplained_tokens == 0
    cause = next(c for cell in result.cells for c in cell.causes)
    assert "proj_unknown" in cause.detail
    assert any(note.startswith("project_id proj_unknown: 5,700 tokens") for note in result.notes)


def test_a_declared_scope_names_unseen_projects_without_guessing() -> None:
    rows = billed(0, project_id="proj_app") + billed(0, usage={"input": 10}, project_id="proj_batch")
    result = run(rows, call(0, "gpt-4o", USAGE), days=1, scope={"project_id": {"proj_app"}})
    assert kinds(result) == {r.UNSEEN_SCOPE: 1}
    assert "not among the project_ids tokentrace covers (proj_app)" in result.cells[0].causes[0].detail


def test_a_rate_difference_is_found_when_tokens_match() -> None:
    rows = [row for t, n in USAGE.items() for row in vendor(0, "gpt-4o-2024-08-06", t, n, calls=1, rate=RATES[t] * 0.8)]
    result = run(rows, call(0, "gpt-4o", USAGE), days=1)
    assert kinds(result) == {r.RATE: 3}
    assert result.totals.token_capture == 1.0
    assert result.totals.cost_capture == pytest.approx(1 / 0.8)
    output = next(c for c in result.cells if c.key.token_type == "output")
    assert "$8.0000/1M output tokens, tokentrace priced $10.0000/1M" in output.causes[0].detail
    assert result.totals.unexplained_cost_usd == pytest.approx(0.0, abs=1e-12)


def test_unpriced_calls_explain_the_cost_gap_and_are_not_zero() -> None:
    unpriced = [ours(0, "gpt-4o", t, n, calls=1 if t == "input" else 0, priced=False, cost_status="unknown_model") for t, n in USAGE.items()]
    result = run(billed(0), unpriced, days=1)
    assert kinds(result) == {r.UNPRICED: 3}
    assert result.totals.token_capture == 1.0
    assert result.totals.tokentrace_cost_usd == 0.0
    assert result.totals.unexplained_cost_usd == pytest.approx(0.0, abs=1e-12)


def test_estimated_usage_explains_a_small_token_difference() -> None:
    estimated = [ours(0, "gpt-4o", "input", 2000, calls=1, usage_source="estimate"), ours(0, "gpt-4o", "output", 290, usage_source="estimate")]
    result = run(billed(0, usage={"input": 2006, "output": 300}), estimated, days=1)
    assert kinds(result) == {r.ESTIMATED: 2}


def test_an_unexplained_gap_fails_the_tolerance() -> None:
    result = run(billed(0, usage={"input": 1100, "output": 300}), call(0, "gpt-4o", {"input": 1000, "output": 300}), days=1)
    assert not result.within_tolerance
    assert [c.key.token_type for c in result.failures] == ["input"]
    assert result.cells[0].key.token_type == "input"  # the largest unexplained delta first
    loose = run(billed(0, usage={"input": 1100, "output": 300}), call(0, "gpt-4o", {"input": 1000, "output": 300}), days=1, tolerance=0.1)
    assert loose.within_tolerance


def test_rows_outside_the_window_are_ignored() -> None:
    result = run(billed(0) + billed(5), call(0, "gpt-4o", USAGE), days=1)
    assert result.within_tolerance and result.totals.vendor_tokens == sum(USAGE.values())


def test_calls_tagged_with_the_vendor_project_reconcile_per_project() -> None:
    rows = billed(0, project_id="proj_app") + billed(0, usage={"input": 400, "output": 40}, project_id="proj_batch")
    tagged = call(0, "gpt-4o", USAGE, dimensions={"tag.project_id": "proj_app"})
    result = run(rows, tagged, days=1)
    assert {c.key.scope for c in result.cells} == {(("project_id", "proj_app"),), (("project_id", "proj_batch"),)}
    app = [c for c in result.cells if c.key.scope == (("project_id", "proj_app"),)]
    assert all(c.delta_tokens == 0 for c in app)
    batch = [c for c in result.cells if c.key.scope == (("project_id", "proj_batch"),)]
    assert {c.causes[0].kind for c in batch} == {r.UNSEEN_SCOPE} and "tokentrace has no call from it" in batch[0].causes[0].detail
