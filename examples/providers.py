"""Anthropic, Gemini and Bedrock through tokentrace: one span each, with usage and cost.

Runs offline against tokentrace's local provider server, which speaks each provider's wire
format; drop the server arguments (``base_url``, ``http_options``, ``endpoint_url``) and use your
own credentials to run it for real.

    pip install 'tokentrace[anthropic,google,bedrock]'
    python examples/providers.py
"""

import anthropic
import boto3
from google import genai
from google.genai import types
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

import tokentrace
from tokentrace.testing import ProviderServer, ResponsePlan

provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(formatter=lambda span: (
    f"{span.attributes.get('gen_ai.provider.name')}: {span.name}: "
    f"{span.attributes.get('gen_ai.usage.input_tokens')} in "
    f"({span.attributes.get('gen_ai.usage.cache_read.input_tokens', 0)} cached) / "
    f"{span.attributes.get('gen_ai.usage.output_tokens')} out, "
    f"${span.attributes.get('tokentrace.cost.usd', 0):.6f} for team {span.attributes.get('tokentrace.team')}\n"
))))
tokentrace.instrument(tracer_provider=provider)

with ProviderServer() as server, tokentrace.attribute(team="support", feature="ticket-triage"):
    # Anthropic: input_tokens exclude cache reads; tokentrace reports input = 120 + 40,000.
    claude = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-local-test", max_retries=0)
    server.enqueue(ResponsePlan(usage={"input_tokens": 120, "cache_read_input_tokens": 40000, "output_tokens": 800}))
    claude.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=[{"role": "user", "content": "Triage ticket 4411"}])

    # Gemini: thoughts are billed as output.
    gemini = genai.Client(api_key="local-test", http_options=types.HttpOptions(base_url=server.url))
    server.enqueue(ResponsePlan(usage={"promptTokenCount": 10000, "cachedContentTokenCount": 4000,
                                       "candidatesTokenCount": 500, "thoughtsTokenCount": 1500, "totalTokenCount": 12000}))
    gemini.models.generate_content(model="gemini-2.5-pro", contents="Summarise the ticket history")

    # Bedrock Converse, streamed: usage arrives in the stream's metadata event.
    bedrock = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=server.url,
                           aws_access_key_id="AKIALOCALTEST", aws_secret_access_key="local-test")
    response = bedrock.converse_stream(modelId="us.anthropic.claude-haiku-4-5-20251001-v1:0",
                                       messages=[{"role": "user", "content": [{"text": "Draft the reply"}]}])
    for _event in response["stream"]:
        pass

tokentrace.uninstrument()
