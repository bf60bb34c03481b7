"""Traces arrive in a real Arize Phoenix, complete and with the numbers tokentrace computed."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Dict, List

import pytest

from .conftest import RUNS, BackendRun
from .workload import KNOWN_CALLS, WORKFLOW, expected_cost_by_team, expected_workflow_cost

#: Attributes that must reach the backend unchanged on every LLM span.
CARRIED = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
    "tokentrace.cost.usd",
    "tokentrace.cost.status",
    "tokentrace.model.rerouted",
    "tokentrace.team",
    "tokentrace.feature",
    "tokentrace.workflow",
)


def _llm_spans(run: BackendRun) -> List[Dict[str, Any]]:
    return [s for s in run.phoenix_spans() if "gen_ai.provider.name" in s["attributes"]]


def _known_spans(run: BackendRun) -> List[Dict[str, Any]]:
    teams = {call.team for call in KNOWN_CALLS}
    return [s for s in _llm_spans(run) if s["attributes"].get("tokentrace.team") in teams]


def test_every_emitted_span_is_stored_in_phoenix(backend_run: BackendRun) -> None:
    stored = {s["context"]["span_id"] for s in backend_run.phoenix_spans()}
    emitted = {format(s.context.span_id, "016x") for s in backend_run.emitted}
    assert emitted, "the workload produced no spans at all"
    assert emitted <= stored, f"{len(emitted - stored)} of {len(emitted)} spans never reached Phoenix"


def test_every_llm_call_is_a_span_with_usage_model_and_cost(backend_run: BackendRun) -> None:
    stored = {s["context"]["span_id"]: s["attributes"] for s in _llm_spans(backend_run)}
    emitted = backend_run.emitted_llm_spans()
    assert len(stored) == len(emitted) >= RUNS * len(KNOWN_CALLS)
    for span in emitted:
        sent = dict(span.attributes or {})
        got = stored[format(span.context.span_id, "016x")]
        if "error.type" in sent:
            assert got["error.type"] == sent["error.type"] and got["tokentrace.cost.status"] == "no_usage"
            assert "tokentrace.cost.usd" not in got
            continue
        # Cohere's responses name no model (the request's stands); its rerank bills search units, not tokens.
        assert got.get("gen_ai.response.model") or (got["gen_ai.provider.name"] == "cohere" and got["gen_ai.request.model"]), got
        if got["gen_ai.operation.name"] != "rerank":
            assert got["gen_ai.usage.input_tokens"] > 0, got
        for key in CARRIED:
            assert got.get(key) == sent.get(key), f"{span.name}: {key} sent {sent.get(key)!r}, Phoenix holds {got.get(key)!r}"
        if got["tokentrace.cost.status"] == "priced":
            assert got["tokentrace.cost.usd"] > 0
        else:
            assert "tokentrace.cost.usd" not in got, "an unpriced call must carry no cost, not 0"


def test_known_calls_have_hand_computed_costs(backend_run: BackendRun) -> None:
    spans = _known_spans(backend_run)
    assert len(spans) == RUNS * len(KNOWN_CALLS)
    by_team: Dict[str, float] = defaultdict(float)
    for span in spans:
        by_team[span["attributes"]["tokentrace.team"]] += span["attributes"].get("tokentrace.cost.usd", 0.0)
    expected = {team: RUNS * cost for team, cost in expected_cost_by_team().items()}
    expected["it-research"] = 0.0
    assert dict(by_team) == pytest.approx(expected, abs=1e-12)


def test_reroute_and_unknown_model_are_visible(backend_run: BackendRun) -> None:
    spans = [s["attributes"] for s in _known_spans(backend_run)]
    rerouted = [a for a in spans if a["tokentrace.model.rerouted"]]
    assert [(a["gen_ai.request.model"], a["gen_ai.response.model"]) for a in rerouted] == [("gpt-4o", "gpt-4o-mini-2024-07-18")] * RUNS
    assert [a["tokentrace.cost.usd"] for a in rerouted] == pytest.approx([0.000228] * RUNS, abs=1e-12)
    unpriced = [a for a in spans if a["tokentrace.cost.status"] != "priced"]
    assert [(a["gen_ai.request.model"], a["tokentrace.cost.status"]) for a in unpriced] == [("acme-frontier-1", "unknown_model")] * RUNS


def test_workflow_spans_carry_the_totals_of_their_calls(backend_run: BackendRun) -> None:
    spans = backend_run.phoenix_spans()
    children: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for span in spans:
        children[span["parent_id"]].append(span)

    def llm_descendants(span_id: str) -> List[Dict[str, Any]]:
        found: List[Dict[str, Any]] = []
        for child in children.get(span_id, []):
            if "gen_ai.provider.name" in child["attributes"]:
                found.append(child)
            found.extend(llm_descendants(child["context"]["span_id"]))
        return found

    rollups = [s for s in spans if "tokentrace.rollup.calls" in s["attributes"]]
    assert rollups, "no roll-up (workflow / agent step) span reached Phoenix"
    for rollup in rollups:
        attrs = rollup["attributes"]
        calls = llm_descendants(rollup["context"]["span_id"])
        assert attrs["tokentrace.rollup.calls"] == len(calls), rollup["name"]
        costs = [c["attributes"]["tokentrace.cost.usd"] for c in calls if "tokentrace.cost.usd" in c["attributes"]]
        assert attrs.get("tokentrace.rollup.cost.usd", 0.0) == pytest.approx(math.fsum(costs), abs=1e-12), rollup["name"]
        for kind, attribute in (("input", "gen_ai.usage.input_tokens"), ("output", "gen_ai.usage.output_tokens")):
            assert attrs[f"tokentrace.rollup.tokens.{kind}"] == sum(c["attributes"].get(attribute, 0) for c in calls)
        assert attrs["tokentrace.rollup.cost.complete"] == (len(costs) == len(calls))

    known = [r for r in rollups if r["attributes"].get("tokentrace.workflow") == WORKFLOW or r["name"].endswith(WORKFLOW)]
    assert len(known) == RUNS, [r["name"] for r in rollups]
    for rollup in known:
        assert rollup["attributes"]["tokentrace.rollup.calls"] == sum(c.in_workflow for c in KNOWN_CALLS)
        assert rollup["attributes"]["tokentrace.rollup.cost.usd"] == pytest.approx(expected_workflow_cost(), abs=1e-12)
