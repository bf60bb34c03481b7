"""OpenAI Batch API through the real SDK: each succeeded request of a batch becomes one span, priced at
batch rates, attributed as the batch was when it was created, linked to the ``create_batch`` span.

gpt-4o-mini batch rates per 1M tokens: input 0.075, output 0.3 (standard 0.15 / 0.6).
"""

from __future__ import annotations

import io
import json
import time
from typing import Any, List

import openai
import pytest

import tokentrace
from tokentrace.testing import ResponsePlan, openai_usage

BATCH_COST = (1200 * 0.075 + 300 * 0.3) / 1e6


def _input_file(lines: List[str]) -> io.BytesIO:
    rows = [{"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
             "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Summarise ticket {custom_id}"}]}}
            for custom_id in lines]
    data = io.BytesIO(("\n".join(json.dumps(r) for r in rows) + "\n").encode())
    data.name = "batch.jsonl"
    return data


def _run_batch(client: openai.OpenAI, server: Any, ids: List[str]) -> Any:
    uploaded = client.files.create(file=_input_file(ids), purpose="batch")
    server.enqueue(ResponsePlan(usage=openai_usage(1200, 300)))
    with tokentrace.attribute(team="research", feature="nightly-summaries"):
        batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    return batch


def test_batch_output_is_priced_per_request_at_batch_rates(instrument: Any, server: Any) -> None:
    telemetry = instrument()
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-batch-test", max_retries=0)
    batch = _run_batch(client, server, ["t-1", "t-2", "fail-3"])
    assert telemetry.llm_spans() == []  # nothing is billed until the output is read
    with tokentrace.attribute(team="someone-else"):
        done = client.batches.retrieve(batch.id)
        assert done.request_counts.completed == 2
        text = client.files.content(done.output_file_id).text
        client.files.content(done.output_file_id)  # read twice: recorded once
    assert len(text.splitlines()) == 3
    spans = telemetry.llm_spans()
    assert len(spans) == 2
    creating = [s for s in telemetry.spans() if s.name == "create_batch"]
    assert len(creating) == 1 and creating[0].attributes["openai.batch.id"] == batch.id
    for span in spans:
        attrs = dict(span.attributes)
        assert attrs["tokentrace.team"] == "research" and attrs["tokentrace.feature"] == "nightly-summaries"
        assert attrs["openai.batch.id"] == batch.id
        assert attrs["gen_ai.usage.input_tokens"] == 1200 and attrs["gen_ai.usage.output_tokens"] == 300
        assert attrs["tokentrace.cost.usd"] == pytest.approx(BATCH_COST)
        assert [link.context.span_id for link in span.links] == [creating[0].context.span_id]
    assert sorted(s.attributes["openai.batch.custom_id"] for s in spans) == ["t-1", "t-2"]
    assert telemetry.total("tokentrace.cost", tokentrace__team="research") == pytest.approx(2 * BATCH_COST)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == 2400


def test_output_read_by_another_process_is_still_recorded(instrument: Any, server: Any) -> None:
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-batch-test", max_retries=0)
    batch = _run_batch(client, server, ["a", "b"])  # created while tokentrace was not running
    output = client.batches.retrieve(batch.id).output_file_id
    telemetry = instrument()
    with tokentrace.attribute(team="finance"):
        client.files.content(output).read()
    spans = telemetry.llm_spans()
    assert [s.attributes["tokentrace.team"] for s in spans] == ["finance", "finance"]
    assert [s.attributes["tokentrace.cost.usd"] for s in spans] == [pytest.approx(BATCH_COST)] * 2


def test_batch_spend_reaches_the_ledger(instrument: Any, server: Any, tmp_path: Any) -> None:
    from tokentrace.ledger.reader import read_rows

    ledger = tmp_path / "spend.sqlite"
    instrument(ledger=str(ledger))
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-batch-test", max_retries=0)
    batch = _run_batch(client, server, ["x", "y"])
    client.files.content(client.batches.retrieve(batch.id).output_file_id)
    tokentrace.flush()
    tokentrace.uninstrument()
    rows = read_rows(ledger=str(ledger), start=0, end=time.time() + 3600)
    research = [r for r in rows if r.dimensions.get("team") == "research"]
    assert sum(r.effective_cost_usd or 0 for r in research) == pytest.approx(2 * BATCH_COST)
    assert sum(r.tokens for r in research if r.token_type == "input") == 2400
    from tokentrace.report import report

    data = report(ledger=str(ledger), start=time.time() - 3600, end=time.time() + 3600)
    teams = {line.key: line for line in data.by["team"]}
    assert teams["research"].cost == pytest.approx(2 * BATCH_COST)
    assert teams["research"].calls == 2
