"""Attribution and workflow roll-ups, end to end, against tokentrace's local provider server.

Run: ``python examples/attribution_workflow.py`` (no API key, no network: the OpenAI SDK talks to
a ProviderServer on 127.0.0.1). Prints each span with its attribution and the workflow's totals.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import openai
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrace
from tokentrace.testing import ProviderServer

MESSAGES = [{"role": "user", "content": "Summarise our refund policy in one line."}]


@tokentrace.agent_step("draft")
def draft(client: openai.OpenAI) -> str:
    return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).choices[0].message.content or ""


async def review(client: openai.AsyncOpenAI, reviewer: str) -> None:
    with tokentrace.agent_step("review", reviewer=reviewer):
        await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)


def main() -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    tokentrace.instrument(tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader]))

    with ProviderServer() as server:
        client = openai.OpenAI(base_url=server.openai_url, api_key="sk-local")
        async_client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-local")
        with tokentrace.attribute(team="support", feature="refund-bot", user="customer-1234"):
            with tokentrace.workflow("answer-ticket"):
                draft(client)
                with ThreadPoolExecutor(max_workers=2) as pool:  # threads inherit the attribution
                    list(pool.map(lambda _: draft(client), range(2)))

                async def reviews() -> None:  # so do asyncio tasks
                    await asyncio.gather(review(async_client, "alice"), review(async_client, "bob"))

                asyncio.run(reviews())

    tokentrace.uninstrument()
    for span in sorted(exporter.get_finished_spans(), key=lambda s: s.start_time):
        attributes = span.attributes or {}
        print(f"{span.name:32}", {k: v for k, v in attributes.items() if k.startswith("tokentrace.")})
    workflow = next(s for s in exporter.get_finished_spans() if s.name == "invoke_workflow answer-ticket")
    print(f"\nworkflow cost: ${workflow.attributes['tokentrace.rollup.cost.usd']:.6f} "
          f"over {workflow.attributes['tokentrace.rollup.calls']} calls, "
          f"models {list(workflow.attributes['tokentrace.rollup.models'])}")


if __name__ == "__main__":
    main()
