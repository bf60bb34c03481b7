"""Bounded logging: one line per cause per interval, a count of the rest, bounded memory."""

from __future__ import annotations

import logging
from typing import Any, List

import openai
import pytest

from tokentrace.core import ratelog
from tokentrace.core.ratelog import RateLimitedLog
from tokentrace.testing import ProviderServer, ResponsePlan


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_cause_per_interval_then_a_count(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    log = RateLimitedLog(interval_s=60, clock=clock)
    before = ratelog.suppressed_total()
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        assert log.warning("a", "cause a %s", 1)
        assert not log.warning("a", "cause a %s", 2)
        assert not log.warning("a", "cause a %s", 3)
        assert log.warning("b", "cause b")
        clock.now += 61
        assert log.warning("a", "cause a %s", 4)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["cause a 1", "cause b", "cause a 4 (2 similar warning(s) left out since the last one)"]
    assert ratelog.suppressed_total() - before == 2


def test_distinct_causes_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    log = RateLimitedLog(interval_s=60, max_causes=8, clock=Clock())
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        written = sum(log.warning(("model", i), "model %s", i) for i in range(10_000))
    assert written == 9  # 8 causes, then one shared overflow line
    assert len(log._causes) == 9
    assert "other warnings of this kind" in caplog.records[-1].getMessage()


def test_a_new_response_model_on_every_call_logs_a_bounded_number_of_lines(
    instrument: Any, server: ProviderServer, caplog: pytest.LogCaptureFixture
) -> None:
    instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    for i in range(300):
        server.enqueue(ResponsePlan(model=f"gpt-4o-mini-gateway-{i}"))
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        for _ in range(300):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    reroutes: List[str] = [r.getMessage() for r in caplog.records if "reroute" in r.getMessage()]
    from tokentrace.instrumentation import active_pipeline

    pipeline = active_pipeline()
    assert pipeline is not None
    limit = pipeline._reroute_log.max_causes
    assert limit <= 32 and len(reroutes) == limit + 1
    assert len(pipeline._reroute_log._causes) == limit + 1


def test_every_per_call_warning_is_bounded_unknown_models_and_unpriced_budgets(
    instrument: Any, server: ProviderServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new unknown model name on every call: the catalog's and the budget's warnings stay bounded."""
    from tokentrace.budgets.enforcer import BudgetEnforcer
    from tokentrace.instrumentation import active_pipeline
    from tokentrace.pricing import catalog

    monkeypatch.setattr(catalog, "MAX_WARNED", 8)
    instrument(budgets=[{"name": "usd-cap", "window": "day", "usd": 1000}])
    pipeline = active_pipeline()
    assert pipeline is not None
    (enforcer,) = [o for o in pipeline.observers if isinstance(o, BudgetEnforcer)]
    enforcer._log.max_causes = 8
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        for i in range(40):
            server.enqueue(ResponsePlan(model=f"acme-llm-{i}"))
            client.chat.completions.create(model=f"acme-llm-{i}", messages=[{"role": "user", "content": "hi"}])
    lines = [r.getMessage() for r in caplog.records]
    unknown = [line for line in lines if "no price for model" in line]
    unpriced = [line for line in lines if "cannot count the cost" in line]
    assert len(unknown) == 9 and "counted, not logged" in unknown[-1]  # 8 models, then one line
    assert pipeline.prices.warnings_left_out == 40 - 8  # the 32 models past the first 8, counted
    assert len(unpriced) == 9 and "other warnings of this kind" in unpriced[-1]
    assert len(pipeline.prices._warned) == 8 and len(enforcer._log._causes) == 9  # bounded memory


def test_a_flapping_budget_store_logs_one_line_of_each_kind_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("redis")
    from tokentrace.budgets import redis_store
    from tokentrace.budgets.redis_store import RedisStore
    from tokentrace.budgets.store import StoreUnavailable

    store = RedisStore("redis://127.0.0.1:1/0")  # nothing listens on port 1
    answers = [False]

    def script(keys: Any, args: Any) -> Any:
        if not answers[0]:
            raise OSError("connection refused")
        return 1

    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        for _ in range(50):
            answers[0] = False
            store._down_until = 0.0
            with pytest.raises(StoreUnavailable):
                store._run(script, [], [])
            answers[0] = True
            store._down_until = 0.0
            store._run(script, [], [])
    store.close()
    lines = [r.getMessage() for r in caplog.records]
    assert sum("is unreachable" in line for line in lines) == 1
    assert sum("answers again; budgets are enforced" in line for line in lines) == 1
    assert store._log.suppressed(("store down", store.label)) == 49
    assert redis_store.COOL_DOWN_S > 0


def test_attribution_warnings_over_free_form_tag_keys_are_bounded(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    import tokentrace
    from tokentrace.attribution import values

    values.reset_warnings()
    monkeypatch.setattr(values, "MAX_WARNED", 4)
    with caplog.at_level(logging.WARNING, logger="tokentrace"):
        for i in range(20):
            with tokentrace.attribute(**{f"tag_{i}": "x" * (values.MAX_VALUE_LENGTH + 1)}):
                pass
    lines = [r.getMessage() for r in caplog.records if "characters long" in r.getMessage()]
    assert len(lines) == 5 and "further attribution warnings are not logged" in lines[-1]
    assert len(values._warned) == 4
    values.reset_warnings()


def test_a_new_response_model_on_every_call_keeps_memory_bounded(
    instrument: Any, server: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every per-model structure has a cap; with the caps made small, 120 distinct answering
    models stay within them (the real caps are 2,000-5,000, the SDK's own histograms 2,000)."""
    from tokentrace.core import pipeline as pipeline_module, telemetry as telemetry_module
    from tokentrace.instrumentation import active_pipeline
    from tokentrace.pricing import catalog

    monkeypatch.setattr(pipeline_module, "_METRIC_CACHE_SIZE", 16)
    monkeypatch.setattr(pipeline_module, "_REROUTE_CACHE_SIZE", 16)
    monkeypatch.setattr(telemetry_module, "CARDINALITY_LIMIT", 16)
    monkeypatch.setattr(catalog, "_MAX_CACHED", 16)
    telemetry = instrument()
    pipeline = active_pipeline()
    assert pipeline is not None
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    for i in range(120):
        server.enqueue(ResponsePlan(model=f"gateway-model-{i}"))
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert len(pipeline._metric_cache) <= 16 and len(pipeline._reroute_cache) <= 16
    for counter in (pipeline.instruments.tokens, pipeline.instruments.cost, pipeline.instruments.calls):
        assert len(counter._totals) <= 17  # the cap and the overflow series
    assert len(pipeline.prices._cache) <= 16
    assert len(pipeline._reroute_log._causes) <= pipeline._reroute_log.max_causes + 1
    spans = telemetry.llm_spans()
    expected = sum(s.attributes["gen_ai.usage.input_tokens"] + s.attributes["gen_ai.usage.output_tokens"] for s in spans)
    assert len(spans) == 120 and telemetry.total("tokentrace.tokens") == expected  # the overflow series keeps the rest


def test_the_left_out_warnings_are_a_metric(instrument: Any, telemetry: Any, server: ProviderServer) -> None:
    """A flood the logs show once per interval is still visible in the metrics, as a count."""
    instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    for i in range(40):  # a new answering model every call: more causes than the reroute log keeps
        server.enqueue(ResponsePlan(model=f"gpt-4o-mini-gateway-{i}"))
    before = ratelog.suppressed_total()
    for _ in range(40):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    left_out = ratelog.suppressed_total() - before
    assert left_out > 0
    (point,) = telemetry.points("tokentrace.warnings.suppressed")
    assert point.value == ratelog.suppressed_total()
