"""A self-hosted model (a vLLM-style OpenAI-compatible server on this machine) priced by your own rates.

The server below is tokentrace's local provider server started with ``stand_in=False``, so it is
what it looks like: an OpenAI-compatible server on 127.0.0.1 that happens to serve a model called
``gpt-4o``. tokentrace names such calls ``self-hosted`` and never charges OpenAI's list price for
them; without a prices file their cost is unknown (``tokentrace.cost.status=self_hosted``), with
one that matches the host (or ``provider = "self-hosted"``) they cost what you say a GPU hour
works out to per token.

    python examples/self_hosted.py
"""

import os
import tempfile

import openai
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

import tokentrace
from tokentrace.testing import ProviderServer

PRICES = """
[[model]]
match = "*"                   # every model this host serves
provider = "self-hosted"      # calls to loopback / private addresses are recorded as self-hosted
input = 0.10                  # USD per 1M tokens: your own cost
output = 0.40
"""


def run(prices: str = "") -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(formatter=lambda span: (
        f"{span.attributes.get('gen_ai.provider.name')} {span.attributes.get('gen_ai.request.model')}: "
        f"{span.attributes.get('gen_ai.usage.input_tokens')} in / {span.attributes.get('gen_ai.usage.output_tokens')} out, "
        f"cost {span.attributes.get('tokentrace.cost.usd', 'none')} ({span.attributes.get('tokentrace.cost.status')})\n"
    ))))
    tokentrace.instrument(tracer_provider=provider, prices=prices or None)
    with ProviderServer(stand_in=False) as server:  # "vLLM on localhost"
        client = openai.OpenAI(base_url=server.openai_url, api_key="not-needed")
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Summarise our GPU bill"}])
    tokentrace.uninstrument()


print("without a prices file:")
run()
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "prices.toml")
    with open(path, "w") as handle:
        handle.write(PRICES)
    print("with prices.toml:")
    run(path)
