"""The in-process counters behind tokentrace.tokens / tokentrace.cost / tokentrace.calls.

They are summed by tokentrace and read by observable instruments, so these tests check what a
backend would see: exact totals per attribute set, totals that carry on across
``uninstrument()``/``instrument()`` on the same meter provider, the overflow series, and no lost
update under threads.
"""

from __future__ import annotations

import threading

import openai
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from tokentrace.core import telemetry as telemetry_module
from tokentrace.core.telemetry import CumulativeCounter


def _client(server):
    return openai.OpenAI(api_key="sk-test-counters", base_url=server.openai_url, max_retries=0)


def _chat(client):
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])


def _span_cost_total(telemetry) -> float:
    return sum(s.attributes["tokentrace.cost.usd"] for s in telemetry.llm_spans())


def test_counters_match_the_spans_and_carry_on_across_instrument_cycles(instrument, server):
    telemetry = instrument()
    client = _client(server)
    _chat(client)
    _chat(client)
    first = telemetry.total("tokentrace.cost")
    assert first == pytest.approx(_span_cost_total(telemetry), abs=1e-12)
    assert telemetry.total("tokentrace.calls") == 2

    # A second setup on the same meter provider adds to the same cumulative series.
    instrument()
    _chat(client)
    assert telemetry.total("tokentrace.calls") == 3
    assert telemetry.total("tokentrace.cost") == pytest.approx(_span_cost_total(telemetry), abs=1e-12)
    input_tokens = sum(s.attributes["gen_ai.usage.input_tokens"] for s in telemetry.llm_spans())
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == input_tokens


def test_points_are_monotonic_sums(instrument, server):
    telemetry = instrument()
    _chat(_client(server))
    data = telemetry.reader.get_metrics_data()
    sums = {
        m.name: m.data
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name in ("tokentrace.cost", "tokentrace.tokens", "tokentrace.calls")
    }
    assert set(sums) == {"tokentrace.cost", "tokentrace.tokens", "tokentrace.calls"}
    for data_points in sums.values():
        assert data_points.is_monotonic is True


def test_a_fresh_meter_provider_starts_from_zero(server):
    import tokentrace

    totals = []
    for _ in range(2):
        reader = InMemoryMetricReader()
        tokentrace.uninstrument()
        tokentrace.instrument(meter_provider=MeterProvider(metric_readers=[reader]), configure_sdk=False)
        try:
            _chat(_client(server))
        finally:
            tokentrace.uninstrument()
        points = [
            p
            for rm in reader.get_metrics_data().resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
            if m.name == "tokentrace.calls"
            for p in m.data.data_points
        ]
        totals.append(sum(p.value for p in points))
    assert totals == [1, 1]


def test_overflow_series_after_the_cardinality_limit(monkeypatch):
    monkeypatch.setattr(telemetry_module, "CARDINALITY_LIMIT", 3)
    counter = CumulativeCounter()
    for team in ("a", "b", "c", "d", "e"):
        counter.add(1.5, team, {"tokentrace.team": team})
    counter.add(1, "a", {"tokentrace.team": "a"})
    observed = {tuple(sorted(o.attributes.items())): o.value for o in counter.observe()}
    assert observed == {
        (("tokentrace.team", "a"),): 2.5,
        (("tokentrace.team", "b"),): 1.5,
        (("tokentrace.team", "c"),): 1.5,
        (("otel.metric.overflow", True),): 3.0,
    }


def test_no_update_lost_under_threads():
    counter = CumulativeCounter()

    def work() -> None:
        for _ in range(5000):
            counter.add(1, ("k",), {"x": "y"})

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [o.value for o in counter.observe()] == [40000]
