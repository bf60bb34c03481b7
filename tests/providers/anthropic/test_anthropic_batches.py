"""Anthropic Message Batches through the real SDK: each succeeded result is one span when the app
reads it, at batch rates (claude-haiku-4-5 batch: input 0.5, cache read 0.05, output 2.5 per 1M),
attributed as at creation and linked to the ``create_batch`` span; errored results are not billed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import pytest

import tokentrace
from tokentrace.testing import ResponsePlan

USAGE = {"input_tokens": 400, "output_tokens": 200, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 0}
COST = (400 * 0.5 + 1000 * 0.05 + 200 * 2.5) / 1e6


def _requests(*ids: str) -> list:
    return [{"custom_id": i, "params": {"model": "claude-haiku-4-5", "max_tokens": 256, "messages": [{"role": "user", "content": f"Ticket {i}"}]}}
            for i in ids]


def test_results_are_priced_at_batch_rates_with_creation_attribution(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-batch-test", max_retries=0)
    server.enqueue(ResponsePlan(usage=USAGE))
    with tokentrace.attribute(team="support", feature="weekly-digest"):
        batch = client.messages.batches.create(requests=_requests("r-1", "r-2", "fail-3"))
    assert telemetry.llm_spans() == []
    results = list(client.messages.batches.results(batch.id))
    list(client.messages.batches.results(batch.id))  # read again: recorded once
    assert [r.result.type for r in results] == ["succeeded", "succeeded", "errored"]
    spans = telemetry.llm_spans()
    creating = [s for s in telemetry.spans() if s.name == "create_batch"]
    assert len(spans) == 2 and len(creating) == 1
    for span in spans:
        attrs = dict(span.attributes)
        assert attrs["gen_ai.provider.name"] == "anthropic"
        assert attrs["tokentrace.team"] == "support"
        assert attrs["anthropic.batch.id"] == batch.id
        assert attrs["gen_ai.usage.input_tokens"] == 1400
        assert attrs["tokentrace.cost.usd"] == pytest.approx(COST)
        assert [link.context.span_id for link in span.links] == [creating[0].context.span_id]
    assert telemetry.total("tokentrace.cost", tokentrace__team="support") == pytest.approx(2 * COST)


def test_async_results(instrument: Any, server: Any) -> None:
    telemetry = instrument()

    async def run() -> None:
        client = anthropic.AsyncAnthropic(base_url=server.url, api_key="sk-ant-batch-test", max_retries=0)
        server.enqueue(ResponsePlan(usage=USAGE))
        with tokentrace.attribute(team="search"):
            batch = await client.messages.batches.create(requests=_requests("a", "b"))
        async for _ in await client.messages.batches.results(batch.id):
            pass

    asyncio.run(run())
    spans = telemetry.llm_spans()
    assert [s.attributes["tokentrace.team"] for s in spans] == ["search", "search"]
    assert [s.attributes["tokentrace.cost.usd"] for s in spans] == [pytest.approx(COST)] * 2
