"""Metrics scraped by a real Prometheus agree with the spans stored in Phoenix.

Counters are what FinOps sums (traces may be sampled), so every total that Prometheus gives must
equal the same total over the spans, to the cent for money and exactly for tokens and calls.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional

import pytest

from .conftest import RUNS, BackendRun
from .workload import KNOWN_CALLS, expected_cost_by_team

_NO_LABEL = ""  # how a missing attribution label reads in both sources


def _llm_attributes(run: BackendRun) -> List[Dict[str, Any]]:
    return [s["attributes"] for s in run.phoenix_spans() if "gen_ai.provider.name" in s["attributes"]]


def _span_totals(run: BackendRun, key: Callable[[Dict[str, Any]], Any], value: Callable[[Dict[str, Any]], Optional[float]]) -> Dict[Any, float]:
    parts: Dict[Any, List[float]] = defaultdict(list)
    for attributes in _llm_attributes(run):
        amount = value(attributes)
        if amount is not None:
            parts[key(attributes)].append(amount)
    return {k: math.fsum(v) for k, v in parts.items() if v}


def _cents(values: Dict[Any, float]) -> Dict[Any, int]:
    return {k: round(v * 100) for k, v in values.items()}


def test_cost_by_team_in_prometheus_equals_the_spans_to_the_cent(backend_run: BackendRun) -> None:
    prometheus = backend_run.prometheus.query_values("sum by (tokentrace_team) (tokentrace_cost_USD_total)", by=["tokentrace_team"])
    prometheus = {team or _NO_LABEL: usd for team, usd in prometheus.items()}
    spans = _span_totals(backend_run, lambda a: a.get("tokentrace.team", _NO_LABEL), lambda a: a.get("tokentrace.cost.usd"))
    assert set(prometheus) == set(spans)
    assert _cents(prometheus) == _cents(spans)
    # Stronger than cents: both are sums of the same doubles.
    assert prometheus == pytest.approx(spans, rel=1e-9, abs=1e-12)
    for team, usd in expected_cost_by_team().items():
        assert prometheus[team] == pytest.approx(RUNS * usd, abs=1e-12), team


def test_tokens_by_type_equal_the_spans(backend_run: BackendRun) -> None:
    prometheus = backend_run.prometheus.query_values("sum by (gen_ai_token_type) (tokentrace_tokens_total)", by=["gen_ai_token_type"])
    attribute = {
        "input": "gen_ai.usage.input_tokens",
        "output": "gen_ai.usage.output_tokens",
        "cache_read": "gen_ai.usage.cache_read.input_tokens",
        "cache_write": "gen_ai.usage.cache_write.input_tokens",
        "reasoning": "gen_ai.usage.reasoning.output_tokens",
        # the long-TTL part of cache_write, priced apart (Anthropic's 1 h writes)
        "cache_write_1h": "anthropic.usage.cache_creation.ephemeral_1h_input_tokens",
    }
    spans = {kind: sum(a.get(name, 0) for a in _llm_attributes(backend_run)) for kind, name in attribute.items()}
    assert prometheus == {kind: float(count) for kind, count in spans.items() if count}
    assert prometheus["cache_read"] > 0 and prometheus["reasoning"] > 0 and prometheus["cache_write_1h"] > 0


def test_calls_by_cost_status_and_reroute_equal_the_spans(backend_run: BackendRun) -> None:
    query = "sum by (tokentrace_cost_status, tokentrace_model_rerouted) (tokentrace_calls_total)"
    prometheus = backend_run.prometheus.query_values(query, by=["tokentrace_cost_status", "tokentrace_model_rerouted"])
    spans: Dict[Any, float] = defaultdict(float)
    for attributes in _llm_attributes(backend_run):
        spans[(attributes["tokentrace.cost.status"], str(bool(attributes.get("tokentrace.model.rerouted"))).lower())] += 1
    assert prometheus == dict(spans)
    assert prometheus[("unknown_model", "false")] >= RUNS
    assert prometheus[("priced", "true")] >= RUNS


def test_semconv_histograms_count_every_call(backend_run: BackendRun) -> None:
    calls = len(_llm_attributes(backend_run))
    duration = backend_run.prometheus.query_values("sum(gen_ai_client_operation_duration_seconds_count)")
    assert duration == {(): float(calls)}
    usage = backend_run.prometheus.query_values("sum by (gen_ai_token_type) (gen_ai_client_token_usage_sum)", by=["gen_ai_token_type"])
    assert usage == {
        "input": float(sum(a.get("gen_ai.usage.input_tokens", 0) for a in _llm_attributes(backend_run))),
        "output": float(sum(a.get("gen_ai.usage.output_tokens", 0) for a in _llm_attributes(backend_run))),
    }


def test_attribution_labels_are_present_and_bounded(backend_run: BackendRun) -> None:
    labels = backend_run.prometheus.query("tokentrace_cost_USD_total")[0]["metric"]
    assert {"tokentrace_team", "tokentrace_feature", "gen_ai_request_model", "gen_ai_response_model", "gen_ai_provider_name"} <= set(labels)
    features = backend_run.prometheus.query_values("sum by (tokentrace_feature) (tokentrace_cost_USD_total)", by=["tokentrace_feature"])
    assert {call.feature for call in KNOWN_CALLS if call.cost} <= set(features)
    assert not any(name.startswith("tokentrace_user") for sample in backend_run.prometheus.query("tokentrace_calls_total") for name in sample["metric"])
