"""Demo steps for Anthropic, Google GenAI, AWS Bedrock, Mistral, Cohere and Groq; each is skipped
when its SDK is missing."""

from __future__ import annotations

from typing import Any, Callable, List, Tuple

import tokentrace
from tokentrace.testing import ProviderServer, ResponsePlan

Step = Tuple[str, Callable[[], None]]


def anthropic_steps(server: ProviderServer) -> List[Step]:
    import anthropic

    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-demo-not-a-real-key", max_retries=0)

    def escalations() -> None:
        with tokentrace.attribute(team="support", feature="escalation-summary"):
            server.enqueue(
                ResponsePlan(
                    usage={
                        "input_tokens": 180,
                        "output_tokens": 640,
                        "cache_creation_input_tokens": 6000,
                        "cache_read_input_tokens": 0,
                        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 6000},
                        "service_tier": "standard",
                    }
                )
            )
            client.messages.create(
                model="claude-sonnet-4-6",
                max_tokens=1024,
                system=[{"type": "text", "text": "Escalation policy ...", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
                messages=[{"role": "user", "content": "Summarise escalation #4411."}],
            )
            server.enqueue(
                ResponsePlan(
                    usage={"input_tokens": 210, "output_tokens": 520, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 6000, "service_tier": "standard"}
                )
            )
            with client.messages.stream(
                model="claude-sonnet-4-6", max_tokens=1024, messages=[{"role": "user", "content": "And #4412?"}]
            ) as stream:
                for _ in stream.text_stream:
                    pass

    return [("support: Anthropic escalation summaries (prompt cache write, then read)", escalations)]


def google_steps(server: ProviderServer) -> List[Step]:
    from google import genai
    from google.genai import types

    client = genai.Client(
        api_key="AIza-demo-not-a-real-key",
        http_options=types.HttpOptions(base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1)),
    )

    def research() -> None:
        with tokentrace.attribute(team="search", feature="research-agent"), tokentrace.workflow("deep-research"):
            with tokentrace.agent_step("plan"):
                server.enqueue(ResponsePlan(usage={"promptTokenCount": 12000, "cachedContentTokenCount": 8000, "candidatesTokenCount": 900, "thoughtsTokenCount": 2100, "totalTokenCount": 15000}))
                client.models.generate_content(model="gemini-2.5-pro", contents="Plan a literature review on LLM cost controls.")
            with tokentrace.agent_step("draft"):
                server.enqueue(ResponsePlan(usage={"promptTokenCount": 3000, "candidatesTokenCount": 1200, "totalTokenCount": 4200}))
                for _ in client.models.generate_content_stream(model="gemini-2.5-flash", contents="Draft the summary."):
                    pass

    return [("search: Gemini research agent (thinking, cached context, stream)", research)]


def bedrock_steps(server: ProviderServer) -> List[Step]:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="AKIADEMONOTAREALKEY0",
        aws_secret_access_key="demo-not-a-real-secret",
        config=Config(retries={"total_max_attempts": 1}),
    )

    def compliance() -> None:
        with tokentrace.attribute(team="platform", feature="compliance-scan"):
            server.enqueue(ResponsePlan(usage={"inputTokens": 4200, "outputTokens": 310, "totalTokens": 4510}))
            client.converse(
                modelId="us.anthropic.claude-haiku-4-5-20251001-v1:0",
                messages=[{"role": "user", "content": [{"text": "Flag PII in this log excerpt."}]}],
                inferenceConfig={"maxTokens": 512},
            )
            server.enqueue(ResponsePlan(usage={"inputTokens": 800, "outputTokens": 150, "totalTokens": 950}))
            response = client.converse_stream(
                modelId="meta.llama3-3-70b-instruct-v1:0",
                messages=[{"role": "user", "content": [{"text": "Classify the findings."}]}],
            )
            for _ in response["stream"]:
                pass

    return [("platform: Bedrock compliance scan (regional Claude profile, Llama stream)", compliance)]


def mistral_steps(server: ProviderServer) -> List[Step]:
    from mistralai.client import Mistral

    client = Mistral(api_key="mistral-demo-not-a-real-key", server_url=server.mistral_url)

    def code_review() -> None:
        with tokentrace.attribute(team="devtools", feature="code-review"):
            # 6,000 prompt tokens of which 5,000 hit Mistral's prompt cache (billed at 10 %).
            server.enqueue(ResponsePlan(usage={"prompt_tokens": 6000, "completion_tokens": 420, "total_tokens": 6420,
                                               "prompt_tokens_details": {"cached_tokens": 5000}}))
            # A plain dict message, as Mistral's docs write it; the SDK's stubs want its TypedDict.
            client.chat.complete(model="mistral-small-2603", messages=[{"role": "user", "content": "Review this diff ..."}])  # type: ignore[arg-type]
            server.enqueue(ResponsePlan(usage={"prompt_tokens": 900, "completion_tokens": 160, "total_tokens": 1060}))
            for _ in client.fim.stream(model="codestral-2501", prompt="def parse_invoice(text):", suffix="    return invoice"):
                pass

    return [("devtools: Mistral code review (cached prompt) and Codestral FIM stream", code_review)]


def cohere_steps(server: ProviderServer) -> List[Step]:
    import cohere

    client = cohere.ClientV2(api_key="cohere-demo-not-a-real-key", base_url=server.url, max_retries=0)

    def search() -> None:
        with tokentrace.attribute(team="search", feature="rag-answers"):
            server.enqueue(ResponsePlan(usage={"input_tokens": 3000}))
            client.embed(model="embed-v4.0", texts=["refund policy", "late fees"], input_type="search_document", embedding_types=["float"])
            # Billed on billed_units (1,800 in / 250 out), not on tokens (which include Cohere's preamble).
            server.enqueue(ResponsePlan(usage={"billed_units": {"input_tokens": 1800, "output_tokens": 250},
                                               "tokens": {"input_tokens": 1998, "output_tokens": 250}}))
            # A plain dict message, as Cohere's docs write it (pydantic coerces it); the stubs want the model class.
            for _ in client.chat_stream(model="command-a-03-2025", messages=[{"role": "user", "content": "What is the late fee?"}]):  # type: ignore[list-item]
                pass

    return [("search: Cohere RAG (embed, chat stream on billed units)", search)]


def groq_steps(server: ProviderServer) -> List[Step]:
    import groq

    client = groq.Groq(api_key="gsk_demo_not_a_real_key", base_url=server.groq_url, max_retries=0)

    def triage() -> None:
        with tokentrace.attribute(team="support", feature="ticket-triage"):
            server.enqueue(ResponsePlan(usage={"prompt_tokens": 700, "completion_tokens": 90, "total_tokens": 790}))
            for _ in client.chat.completions.create(model="llama-3.3-70b-versatile", stream=True,
                                                    messages=[{"role": "user", "content": "Triage ticket #9921."}]):
                pass

    return [("support: Groq ticket triage (usage from x_groq on the last chunk)", triage)]


def steps(server: ProviderServer) -> List[Step]:
    found: List[Step] = []
    for build in (anthropic_steps, google_steps, bedrock_steps, mistral_steps, cohere_steps, groq_steps):
        try:
            found.extend(build(server))
        except ImportError:
            continue
    return found


__all__: Any = ["steps"]
