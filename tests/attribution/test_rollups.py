"""Workflow and agent-step spans carry roll-up totals equal to the sum of the LLM spans under them."""

from __future__ import annotations

import asyncio
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

import tokentrace
from tokentrace.testing import ResponsePlan

MESSAGES = [{"role": "user", "content": "hi"}]
CACHED = {
    "prompt_tokens": 2006,
    "completion_tokens": 300,
    "total_tokens": 2306,
    "prompt_tokens_details": {"cached_tokens": 1920},
    "completion_tokens_details": {"reasoning_tokens": 64},
}
PLAIN = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}
TOKEN_ATTRIBUTES = {
    "input": "gen_ai.usage.input_tokens",
    "output": "gen_ai.usage.output_tokens",
    "cache_read": "gen_ai.usage.cache_read.input_tokens",
    "cache_write": "gen_ai.usage.cache_write.input_tokens",
    "reasoning": "gen_ai.usage.reasoning.output_tokens",
}


def _span(telemetry, name):
    spans = [s for s in telemetry.spans() if s.name == name]
    assert len(spans) == 1, [s.name for s in telemetry.spans()]
    return spans[0]


def _descendants(telemetry, root):
    """LLM spans under ``root`` in the trace tree (not just direct children)."""
    spans = telemetry.spans()
    by_id = {s.context.span_id: s for s in spans}
    found = []
    for span in telemetry.llm_spans():
        parent = span.parent
        while parent is not None:
            if parent.span_id == root.context.span_id:
                found.append(span)
                break
            parent = by_id[parent.span_id].parent if parent.span_id in by_id else None
    return found


def _assert_totals_match(rollup_span, children):
    attributes = rollup_span.attributes
    assert attributes["tokentrace.rollup.calls"] == len(children)
    priced = [c.attributes["tokentrace.cost.usd"] for c in children if "tokentrace.cost.usd" in c.attributes]
    assert attributes["tokentrace.rollup.cost.usd"] == math.fsum(priced)
    assert attributes["tokentrace.rollup.calls.unpriced"] == len(children) - len(priced)
    for token_type, name in TOKEN_ATTRIBUTES.items():
        assert attributes[f"tokentrace.rollup.tokens.{token_type}"] == sum(c.attributes.get(name, 0) for c in children)
    failed = sum(1 for c in children if c.status.status_code == StatusCode.ERROR)
    assert attributes["tokentrace.rollup.calls.failed"] == failed
    models = sorted({c.attributes.get("gen_ai.response.model") or c.attributes["gen_ai.request.model"] for c in children})
    assert list(attributes["tokentrace.rollup.models"]) == models


def test_workflow_span_rolls_up_calls_streams_failures_and_unknown_models(instrument, server, client):
    telemetry = instrument()
    server.enqueue(
        ResponsePlan(usage=CACHED),
        ResponsePlan(usage=PLAIN),
        ResponsePlan(usage=PLAIN),
        ResponsePlan(status=500, error={"message": "boom", "type": "server_error"}),
    )
    with tokentrace.workflow("answer", team="search"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        for _ in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
            pass
        client.chat.completions.create(model="my-private-model", messages=MESSAGES)
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    workflow = _span(telemetry, "invoke_workflow answer")
    assert workflow.kind == SpanKind.INTERNAL
    assert workflow.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert workflow.attributes["gen_ai.workflow.name"] == "answer"
    assert workflow.attributes["tokentrace.team"] == "search"
    children = telemetry.llm_spans()
    assert len(children) == 4 and all(c.parent.span_id == workflow.context.span_id for c in children)
    _assert_totals_match(workflow, children)
    # Hand-computed: gpt-4o 86 uncached*2.5 + 1920 cached*1.25 + 300 out*10; gpt-4o-mini 1000*0.15 + 200*0.6.
    expected = (86 * 2.5 + 1920 * 1.25 + 300 * 10.0) / 1e6 + (1000 * 0.15 + 200 * 0.6) / 1e6
    assert workflow.attributes["tokentrace.rollup.cost.usd"] == pytest.approx(expected)
    assert workflow.attributes["tokentrace.rollup.calls.failed"] == 1
    assert workflow.attributes["tokentrace.rollup.calls.unpriced"] == 2  # unknown model, failed call
    assert workflow.attributes["tokentrace.rollup.cost.complete"] is False
    assert workflow.attributes["tokentrace.rollup.tokens.cache_read"] == 1920
    assert workflow.attributes["tokentrace.rollup.tokens.reasoning"] == 64


def test_nested_workflows_and_agent_steps_roll_up_into_their_parents(instrument, server, client):
    telemetry = instrument()
    with tokentrace.workflow("outer"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        with tokentrace.agent_step("plan"):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            with tokentrace.workflow("inner"):
                client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        with tokentrace.agent_step("act"):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    outer, plan, inner, act = (_span(telemetry, n) for n in ("invoke_workflow outer", "invoke_agent plan", "invoke_workflow inner", "invoke_agent act"))
    assert plan.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert plan.attributes["gen_ai.agent.name"] == "plan"
    assert plan.parent.span_id == outer.context.span_id
    assert inner.parent.span_id == plan.context.span_id
    for span, expected_calls in ((outer, 4), (plan, 2), (inner, 1), (act, 1)):
        children = _descendants(telemetry, span)
        assert len(children) == expected_calls
        _assert_totals_match(span, children)
    assert inner.attributes["tokentrace.agent_step"] == "plan"  # attribution nests too
    llm_in_inner = _descendants(telemetry, inner)[0]
    assert (llm_in_inner.attributes["tokentrace.workflow"], llm_in_inner.attributes["tokentrace.agent_step"]) == ("inner", "plan")


def test_calls_in_threads_and_tasks_started_inside_are_counted(instrument, server, client, async_client):
    telemetry = instrument()

    def call_in_thread():
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    async def tasks():
        await asyncio.gather(*(async_client.chat.completions.create(model="gpt-4o", messages=MESSAGES) for _ in range(3)))

    with tokentrace.workflow("fan-out"):
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda _: call_in_thread(), range(4)))
        thread = threading.Thread(target=call_in_thread)
        thread.start()
        thread.join()
        asyncio.run(tasks())
    workflow = _span(telemetry, "invoke_workflow fan-out")
    children = telemetry.llm_spans()
    assert len(children) == 8
    assert all(c.parent.span_id == workflow.context.span_id for c in children)
    assert all(c.attributes["tokentrace.workflow"] == "fan-out" for c in children)
    _assert_totals_match(workflow, children)


def test_stream_still_open_at_scope_exit_is_counted_before_the_span_ends(instrument, server, client):
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=PLAIN))
    with tokentrace.workflow("lazy"):
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert [s.name for s in telemetry.spans()] == []  # waiting for the stream
    for _ in stream:
        pass
    workflow = _span(telemetry, "invoke_workflow lazy")
    (child,) = telemetry.llm_spans()
    _assert_totals_match(workflow, [child])
    assert workflow.attributes["tokentrace.rollup.tokens.input"] == 1000
    assert workflow.end_time <= child.end_time  # the span's end time is still the scope's exit


def test_call_started_after_the_scope_exited_is_not_counted(instrument, server, client):
    telemetry = instrument()
    release = threading.Event()

    def late_call():
        release.wait(5)
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    with tokentrace.workflow("early"):
        thread = threading.Thread(target=late_call)
        thread.start()
    release.set()
    thread.join()
    workflow = _span(telemetry, "invoke_workflow early")
    assert workflow.attributes["tokentrace.rollup.calls"] == 0
    assert workflow.attributes["tokentrace.rollup.cost.usd"] == 0.0
    assert telemetry.only_llm_span().attributes["tokentrace.workflow"] == "early"


def test_workflow_failure_marks_the_span_and_reraises(instrument, server, client):
    telemetry = instrument()
    with pytest.raises(KeyError):
        with tokentrace.workflow("broken"):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            raise KeyError("x")
    workflow = _span(telemetry, "invoke_workflow broken")
    assert workflow.status.status_code == StatusCode.ERROR
    assert workflow.attributes["error.type"] == "KeyError"
    assert workflow.attributes["tokentrace.rollup.calls"] == 1


def test_uninstrument_ends_a_workflow_left_waiting_on_a_stream(instrument, server, client):
    telemetry = instrument()
    with tokentrace.workflow("abandoned"):
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    tokentrace.uninstrument()
    workflow = _span(telemetry, "invoke_workflow abandoned")
    assert workflow.attributes["tokentrace.rollup.incomplete"] is True
    stream.close()


def test_workflow_without_instrument_sets_attribution_and_uses_the_global_tracer():
    with tokentrace.workflow("plain") as scope:
        assert tokentrace.current_attribution() == {"workflow": "plain"}
    assert scope.name == "plain"
