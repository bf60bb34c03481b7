"""Quickstart: instrument the real OpenAI client and see each call's tokens and cost.

Runs offline against tokentrace's local provider server; point ``base_url`` at the real API
(and drop the server) to use it for real.

    python examples/quickstart.py
"""

import openai
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

import tokentrace
from tokentrace.testing import ProviderServer

provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(formatter=lambda span: (
    f"{span.name}: {span.attributes.get('gen_ai.usage.input_tokens')} in / "
    f"{span.attributes.get('gen_ai.usage.output_tokens')} out, "
    f"${span.attributes.get('tokentrace.cost.usd', 0):.6f} ({span.attributes.get('tokentrace.cost.status')})\n"
))))
tokentrace.instrument(tracer_provider=provider)

with ProviderServer() as server:
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-local-test")
    with tokentrace.attribute(team="search", feature="query-rewrite"):
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Rewrite: cheap flights lisbon"}])
        print(reply.choices[0].message.content)
        for _chunk in client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Stream it"}], stream=True):
            pass

tokentrace.uninstrument()
