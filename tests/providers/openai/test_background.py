"""OpenAI background responses: the billed usage and cost recorded exactly once, when tokentrace
first sees the finished response, with the attribution in force at create time.

``responses.create(background=True)`` answers ``queued`` without usage; the usage arrives on a
later ``responses.retrieve(id)`` (polled), a resumed stream (``retrieve(id, stream=True,
starting_after=n)``) or a ``cancel``. The create span stays honest (queued, usage deferred, no
cost, never $0); one span per billed call carries the usage, linked to the create span.

Prices (catalog): gpt-5 $1.25 input, $0.125 cached input, $10.00 output per million tokens;
gpt-4o $2.50 input, $10.00 output.
"""

from __future__ import annotations

import asyncio
import re
import threading

import httpx
import openai
import pytest
from opentelemetry.trace import StatusCode

import tokentrace
from tokentrace.providers.openai import background
from tokentrace.testing import ResponsePlan

#: gpt-5, 2000 input tokens of which 1024 cached, 1500 output of which 1000 reasoning.
GPT5_USAGE = {
    "input_tokens": 2000,
    "input_tokens_details": {"cached_tokens": 1024},
    "output_tokens": 1500,
    "output_tokens_details": {"reasoning_tokens": 1000},
    "total_tokens": 3500,
}
#: (2000 - 1024) x $1.25/M + 1024 x $0.125/M + 1500 x $10/M = $0.00122 + $0.000128 + $0.015
GPT5_USD = 0.016348

#: gpt-4o, 1000 input, 200 output: 1000 x $2.50/M + 200 x $10/M = $0.0025 + $0.002
GPT4O_USAGE = {"input_tokens": 1000, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 200,
               "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 1200}
GPT4O_USD = 0.0045


@pytest.fixture(autouse=True)
def _fresh_registry():
    background.reset()
    yield
    background.reset()


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


def _create_and_settle_spans(telemetry, response_id):
    spans = [s for s in telemetry.llm_spans() if s.attributes.get("gen_ai.response.id") == response_id]
    create = [s for s in spans if s.attributes.get("tokentrace.usage.deferred")]
    settled = [s for s in spans if "gen_ai.usage.input_tokens" in s.attributes]
    return create, settled


def _assert_honest_create(span):
    attributes = span.attributes
    assert attributes["tokentrace.usage.deferred"] is True
    assert attributes["tokentrace.cost.status"] == "deferred"
    assert "tokentrace.cost.usd" not in attributes
    assert "gen_ai.usage.input_tokens" not in attributes
    assert "gen_ai.usage.output_tokens" not in attributes
    assert "gen_ai.response.finish_reasons" not in attributes  # queued is no finish reason


def _assert_gpt5_billed(span, create_span, team):
    attributes = span.attributes
    assert attributes["gen_ai.usage.input_tokens"] == 2000
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 1024
    assert attributes["gen_ai.usage.output_tokens"] == 1500
    assert attributes["gen_ai.usage.reasoning.output_tokens"] == 1000
    assert attributes["tokentrace.usage.source"] == "provider"
    assert attributes["tokentrace.cost.usd"] == pytest.approx(GPT5_USD)
    assert attributes["tokentrace.team"] == team
    assert attributes["gen_ai.request.model"] == "gpt-5"
    assert attributes["gen_ai.response.model"] == "gpt-5-2025-08-07"
    assert tuple(attributes["gen_ai.response.finish_reasons"]) == ("stop",)
    assert [link.context.span_id for link in span.links] == [create_span.context.span_id]


def test_queued_create_then_polling_records_the_usage_once(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT5_USAGE))
    with tokentrace.attribute(team="research"):
        created = client.responses.create(model="gpt-5", input="Write the quarterly spend report.", background=True)
    assert created.status == "queued" and created.usage is None
    statuses = []
    with tokentrace.attribute(team="poller"):  # polled elsewhere: the create's attribution still wins
        for _ in range(4):
            statuses.append(client.responses.retrieve(created.id).status)
    assert statuses == ["in_progress", "completed", "completed", "completed"]

    create, settled = _create_and_settle_spans(telemetry, created.id)
    assert len(create) == 1 and len(settled) == 1
    _assert_honest_create(create[0])
    assert create[0].attributes["openai.response.status"] == "queued"
    _assert_gpt5_billed(settled[0], create[0], "research")
    assert len(telemetry.llm_spans()) == 2  # nothing for the in_progress poll nor the later ones
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == 2000
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="output") == 1500
    assert telemetry.total("tokentrace.cost") == pytest.approx(GPT5_USD)
    assert telemetry.total("tokentrace.calls", tokentrace__cost__status="deferred") == 1
    assert telemetry.total("tokentrace.calls", tokentrace__cost__status="priced") == 1


def test_never_polled_is_marked_deferred_never_zero(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT5_USAGE))
    created = client.responses.create(model="gpt-5", input="Write the report.", background=True)
    span = telemetry.only_llm_span()
    _assert_honest_create(span)
    assert span.status.status_code == StatusCode.UNSET
    assert telemetry.points("tokentrace.cost") == []
    assert telemetry.total("tokentrace.tokens") == 0
    assert background.registry.pending(created.id)


def test_failed_background_response_settles_once_without_usage(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT5_USAGE, background=["in_progress", "failed"]))
    created = client.responses.create(model="gpt-5", input="Write the report.", background=True)
    assert [client.responses.retrieve(created.id).status for _ in range(3)] == ["in_progress", "failed", "failed"]
    spans = telemetry.llm_spans()
    assert len(spans) == 2
    settled = spans[1]
    assert settled.attributes["openai.response.status"] == "failed"
    assert tuple(settled.attributes["gen_ai.response.finish_reasons"]) == ("error",)
    assert settled.attributes["tokentrace.cost.status"] == "no_usage"
    assert "tokentrace.usage.deferred" not in settled.attributes
    assert telemetry.total("tokentrace.tokens") == 0


def test_cancel_settles_the_response_and_later_polls_do_not(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT5_USAGE))
    created = client.responses.create(model="gpt-5", input="Write the report.", background=True)
    cancelled = client.responses.cancel(created.id)
    assert cancelled.status == "cancelled"
    assert client.responses.retrieve(created.id).status == "cancelled"
    spans = telemetry.llm_spans()
    assert len(spans) == 2
    assert spans[1].attributes["openai.response.status"] == "cancelled"
    assert spans[1].attributes["tokentrace.cost.status"] == "no_usage"
    assert not background.registry.pending(created.id)


def test_dropped_background_stream_resumed_with_starting_after(instrument, server, client):
    telemetry = instrument()
    # The create's stream drops after response.created, response.queued and response.in_progress.
    server.enqueue(ResponsePlan(usage=GPT5_USAGE, truncate_after=3))
    response_id, cursor = None, None
    with tokentrace.attribute(team="research"):
        with pytest.raises((httpx.HTTPError, openai.APIError)):
            for event in client.responses.create(model="gpt-5", input="Write the report.", background=True, stream=True):
                response_id, cursor = event.response.id, event.sequence_number
    assert cursor == 2
    create = telemetry.only_llm_span()
    _assert_honest_create(create)
    assert create.status.status_code == StatusCode.ERROR  # the connection did drop

    kinds = [event.type for event in client.responses.retrieve(response_id, stream=True, starting_after=cursor)]
    assert kinds[0] == "response.output_item.added" and kinds[-1] == "response.completed"
    assert client.responses.retrieve(response_id).status == "completed"
    create_spans, settled = _create_and_settle_spans(telemetry, response_id)
    assert len(settled) == 1 and len(telemetry.llm_spans()) == 2
    _assert_gpt5_billed(settled[0], create, "research")
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == 2000


def test_responses_stream_helper_resuming_a_background_response(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT5_USAGE))
    with tokentrace.attribute(team="research"):
        created = client.responses.create(model="gpt-5", input="Write the report.", background=True)
    with client.responses.stream(response_id=created.id, starting_after=1) as stream:
        final = stream.get_final_response()
    assert final.status == "completed"
    create, settled = _create_and_settle_spans(telemetry, created.id)
    assert len(settled) == 1
    _assert_gpt5_billed(settled[0], create[0], "research")


def test_background_stream_read_to_the_end_is_counted_by_the_create(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT5_USAGE))
    events = list(client.responses.create(model="gpt-5", input="Write the report.", background=True, stream=True))
    response_id = events[-1].response.id
    assert client.responses.retrieve(response_id).status == "completed"
    span = telemetry.only_llm_span()  # the create carried the usage; the retrieve adds nothing
    assert span.attributes["gen_ai.usage.input_tokens"] == 2000
    assert span.attributes["tokentrace.cost.usd"] == pytest.approx(GPT5_USD)
    assert "tokentrace.usage.deferred" not in span.attributes


def test_polled_from_another_thread(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT5_USAGE))
    with tokentrace.attribute(team="research"):
        created = client.responses.create(model="gpt-5", input="Write the report.", background=True)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(client.responses.retrieve(created.id).status)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seen.append(client.responses.retrieve(created.id).status)
    assert seen[-1] == "completed"
    create, settled = _create_and_settle_spans(telemetry, created.id)
    assert len(settled) == 1
    _assert_gpt5_billed(settled[0], create[0], "research")


def test_completed_response_seen_by_a_process_that_did_not_create_it(instrument, server, client):
    """Another process: nothing remembered (simulated by forgetting); settled once, with the
    attribution in force where it is seen, and no link."""
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT5_USAGE))
    created = client.responses.create(model="gpt-5", input="Write the report.", background=True)
    background.reset()
    with tokentrace.attribute(team="worker"):
        for _ in range(3):
            client.responses.retrieve(created.id)
    settled = [s for s in telemetry.llm_spans() if "gen_ai.usage.input_tokens" in s.attributes]
    assert len(settled) == 1
    assert settled[0].attributes["tokentrace.team"] == "worker"
    assert settled[0].attributes["tokentrace.cost.usd"] == pytest.approx(GPT5_USD)
    assert list(settled[0].links) == []


def test_raw_response_retrieve_is_followed_when_parsed(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT5_USAGE))
    with tokentrace.attribute(team="research"):
        created = client.responses.create(model="gpt-5", input="Write the report.", background=True)
    assert client.responses.with_raw_response.retrieve(created.id).parse().status == "in_progress"
    raw = client.responses.with_raw_response.retrieve(created.id)
    assert raw.http_response.status_code == 200
    assert raw.parse().status == "completed"
    with client.responses.with_streaming_response.retrieve(created.id) as streamed:
        assert streamed.parse().status == "completed"
    create, settled = _create_and_settle_spans(telemetry, created.id)
    assert len(settled) == 1
    _assert_gpt5_billed(settled[0], create[0], "research")


def test_async_create_and_poll(instrument, server):
    telemetry = instrument()

    async def run():
        client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
        server.enqueue(ResponsePlan(usage=GPT4O_USAGE))
        with tokentrace.attribute(team="research"):
            created = await client.responses.create(model="gpt-4o", input="Summarise.", background=True)
        statuses = [(await client.responses.retrieve(created.id)).status for _ in range(3)]
        stream = await client.responses.retrieve(created.id, stream=True)
        kinds = [event.type async for event in stream]
        return created, statuses, kinds

    created, statuses, kinds = asyncio.run(run())
    assert statuses == ["in_progress", "completed", "completed"] and kinds[-1] == "response.completed"
    create, settled = _create_and_settle_spans(telemetry, created.id)
    assert len(create) == 1 and len(settled) == 1
    assert settled[0].attributes["gen_ai.usage.input_tokens"] == 1000
    assert settled[0].attributes["gen_ai.usage.output_tokens"] == 200
    assert settled[0].attributes["tokentrace.cost.usd"] == pytest.approx(GPT4O_USD)
    assert settled[0].attributes["tokentrace.team"] == "research"
    assert telemetry.total("tokentrace.cost") == pytest.approx(GPT4O_USD)


def test_the_app_gets_exactly_what_it_gets_without_tokentrace(instrument, server, client):
    def run():
        server.enqueue(ResponsePlan(usage=GPT5_USAGE))
        created = client.responses.create(model="gpt-5", input="Write the report.", background=True)
        polled = [client.responses.retrieve(created.id) for _ in range(2)]
        resumed = list(client.responses.retrieve(created.id, stream=True, starting_after=0))
        seen = [created.to_json(), *(p.to_json() for p in polled), *(e.to_json() for e in resumed)]
        # Ids and timestamps differ from run to run; everything else must be identical.
        return [re.sub(r'"(created_at|completed_at)": ?\d+', "T", text).replace(created.id[5:], "ID") for text in seen]

    plain = run()
    instrument()
    assert run() == plain


def test_a_fault_in_tokentrace_never_reaches_the_app(instrument, server, client, monkeypatch):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT5_USAGE))
    created = client.responses.create(model="gpt-5", input="Write the report.", background=True)

    def broken(key):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(background.registry, "claim", broken)
    assert [client.responses.retrieve(created.id).status for _ in range(2)] == ["in_progress", "completed"]
    events = list(client.responses.retrieve(created.id, stream=True))
    assert events[-1].type == "response.completed"
    assert client.responses.cancel(created.id).status == "completed"
    assert len(telemetry.llm_spans()) == 1  # only the create: the settlement failed inside tokentrace


def test_retrieving_a_foreground_response_records_nothing_more(instrument, server, client):
    """A stored foreground response was counted by its create; its retrieve says background: false."""
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=GPT4O_USAGE))
    response = client.responses.create(model="gpt-4o", input="Summarise.")
    assert response.background is False
    server.enqueue(ResponsePlan(body=response.to_dict()), ResponsePlan(body=response.to_dict()))
    assert client.responses.retrieve(response.id).status == "completed"
    assert client.responses.retrieve(response.id).usage.input_tokens == 1000
    span = telemetry.only_llm_span()
    assert span.attributes["tokentrace.cost.usd"] == pytest.approx(GPT4O_USD)
    assert telemetry.total("tokentrace.tokens", gen_ai__token__type="input") == 1000
