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
