"""Concurrent asyncio tasks and threads, each with its own attribution, never mix."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2
import openai

import tokentrace
from tokentrace.testing import ResponsePlan

MESSAGES = [{"role": "user", "content": "hi"}]


def _pairs(telemetry):
    """(team attribute, max_tokens the request carried) for every LLM span."""
    return sorted(
        (s.attributes.get("tokentrace.team", "-"), s.attributes["gen_ai.request.max_tokens"]) for s in telemetry.llm_spans()
    )


def test_fifty_asyncio_tasks_each_keep_their_own_attribution(instrument, server):
    telemetry = instrument()
    # The test server's listen backlog is small: the tasks share 8 connections (they still interleave).
    http_client = openai.DefaultAsyncHttpxClient(limits=httpx2.Limits(max_connections=8))
    async_client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0, http_client=http_client)

    async def one(i):
        with tokentrace.attribute(team=f"team-{i}", feature=f"f-{i}"):
            server.enqueue(ResponsePlan(delay_s=0.001 * (i % 7)))
            await asyncio.sleep(0.001 * ((i * 7) % 5))
            await async_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=i + 1)
            assert tokentrace.current_attribution()["team"] == f"team-{i}"

    async def main():
        await asyncio.gather(*(one(i) for i in range(50)))

    asyncio.run(main())
    assert _pairs(telemetry) == sorted((f"team-{i}", i + 1) for i in range(50))
    for span in telemetry.llm_spans():
        i = span.attributes["gen_ai.request.max_tokens"] - 1
        assert span.attributes["tokentrace.feature"] == f"f-{i}"


def test_eight_threads_each_keep_their_own_attribution(instrument, server, client):
    telemetry = instrument()
    barrier = threading.Barrier(8)

    def one(i):
        with tokentrace.attribute(team=f"team-{i}"):
            barrier.wait(5)
            for _ in range(3):
                client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=i + 1)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _pairs(telemetry) == sorted((f"team-{i}", i + 1) for i in range(8) for _ in range(3))


def test_pool_workers_get_the_submitters_attribution_not_a_previous_tasks(instrument, server, client):
    telemetry = instrument()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = []
        for i in range(6):
            with tokentrace.attribute(team=f"team-{i}"):
                futures.append(pool.submit(client.chat.completions.create, model="gpt-4o-mini", messages=MESSAGES, max_tokens=i + 1))
        # A task submitted outside any scope must not inherit one from the worker's last task.
        futures.append(pool.submit(client.chat.completions.create, model="gpt-4o-mini", messages=MESSAGES, max_tokens=100))
        for future in futures:
            future.result()
    assert _pairs(telemetry) == sorted([(f"team-{i}", i + 1) for i in range(6)] + [("-", 100)])
