"""attribute / workflow / agent_step as decorators of functions, coroutines and generators."""

from __future__ import annotations

import asyncio

import pytest

import tokentrace


def test_sync_function_decorator_opens_a_fresh_scope_per_call():
    @tokentrace.attribute(team="search")
    def handler(feature):
        with tokentrace.attribute(feature=feature):
            return tokentrace.current_attribution()

    assert handler("a") == {"team": "search", "feature": "a"}
    assert handler("b") == {"team": "search", "feature": "b"}
    assert tokentrace.current_attribution() == {}
    assert handler.__name__ == "handler"


def test_async_decorator_concurrent_calls_do_not_mix():
    @tokentrace.attribute(team="search")
    async def handler(i):
        with tokentrace.attribute(task=f"t{i}"):
            await asyncio.sleep(0.001 * (i % 3))
            return tokentrace.current_attribution()["task"]

    async def main():
        return await asyncio.gather(*(handler(i) for i in range(20)))

    assert asyncio.run(main()) == [f"t{i}" for i in range(20)]


def test_generator_scope_is_in_force_only_while_the_body_runs():
    @tokentrace.attribute(feature="gen")
    def produce():
        for _ in range(3):
            yield tokentrace.current_attribution().get("feature")

    seen = []
    for value in produce():
        seen.append(value)
        assert tokentrace.current_attribution() == {}  # the consumer's context is its own
    assert seen == ["gen", "gen", "gen"]


def test_generator_send_throw_and_close_pass_through():
    @tokentrace.attribute(feature="gen")
    def echo():
        received = None
        try:
            while True:
                received = yield (received, tokentrace.current_attribution().get("feature"))
        except KeyError:
            yield "caught"

    gen = echo()
    assert next(gen) == (None, "gen")
    assert gen.send("x") == ("x", "gen")
    assert gen.throw(KeyError("k")) == "caught"
    gen.close()


def test_async_generator_decorator():
    @tokentrace.workflow("stream")
    async def produce():
        for _ in range(2):
            await asyncio.sleep(0)
            yield tokentrace.current_attribution().get("workflow")

    async def main():
        return [value async for value in produce()]

    assert asyncio.run(main()) == ["stream", "stream"]


def test_exceptions_pass_through_unchanged():
    class Boom(Exception):
        pass

    @tokentrace.workflow("wf")
    def fail():
        raise Boom("same")

    with pytest.raises(Boom, match="same"):
        fail()
    assert tokentrace.current_attribution() == {}


def test_one_scope_object_entered_by_many_tasks():
    scope = tokentrace.attribute(team="shared")

    async def worker(i):
        with scope:
            with tokentrace.attribute(task=str(i)):
                await asyncio.sleep(0.001 * (5 - i % 5))
                values = tokentrace.current_attribution()
        return values, tokentrace.current_attribution()

    async def main():
        return await asyncio.gather(*(worker(i) for i in range(10)))

    for i, (inside, after) in enumerate(asyncio.run(main())):
        assert inside == {"team": "shared", "task": str(i)}
        assert after == {}


def test_async_with_works():
    async def main():
        async with tokentrace.attribute(team="a"):
            return tokentrace.current_attribution()

    assert asyncio.run(main()) == {"team": "a"}


def test_bare_attribute_fails_at_decoration_with_what_to_write():
    with pytest.raises(TypeError) as caught:

        @tokentrace.attribute
        def handler():
            return "ran"

    message = str(caught.value)
    assert "@tokentrace.attribute on test_bare_attribute_fails_at_decoration_with_what_to_write.<locals>.handler" in message
    assert '@tokentrace.attribute(team="search"' in message


def test_bare_workflow_and_agent_step_are_named_after_the_function(instrument, client, server):
    from tokentrace.testing import ResponsePlan, openai_usage

    telemetry = instrument()

    @tokentrace.agent_step
    async def classify():
        server.enqueue(ResponsePlan(usage=openai_usage(100, 10)))
        await asyncio.sleep(0)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        return tokentrace.current_attribution()

    @tokentrace.workflow
    def nightly_digest():
        return asyncio.run(classify())

    assert nightly_digest.__name__ == "nightly_digest"
    assert nightly_digest() == {"workflow": "nightly_digest", "agent_step": "classify"}
    spans = {s.name: s for s in telemetry.spans()}
    assert spans["invoke_workflow nightly_digest"].attributes["gen_ai.workflow.name"] == "nightly_digest"
    assert spans["invoke_agent classify"].attributes["gen_ai.agent.name"] == "classify"
    assert spans["invoke_workflow nightly_digest"].attributes["tokentrace.rollup.calls"] == 1
    llm = telemetry.only_llm_span()
    assert llm.attributes["tokentrace.workflow"] == "nightly_digest" and llm.attributes["tokentrace.agent_step"] == "classify"


def test_a_positional_string_is_still_the_team():
    with tokentrace.attribute("search"):
        assert tokentrace.current_attribution() == {"team": "search"}
