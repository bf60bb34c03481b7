"""A workload run through the real SDKs, recorded by tokentrace's ledger and billed by the fake vendors.

Phase 1 (``clean``) makes plain calls (chat, and an OpenAI embedding) to every vendor the reconcile sources cover: OpenAI,
Anthropic, Azure OpenAI, Bedrock (AnthropicBedrock and boto3 Converse), Gemini (google-genai)
and Claude on Vertex (AnthropicVertex), with usage stated in each provider's own wire shape. Its
ledger is copied, then phase 2 (``retries``) makes one call per SDK family whose first attempt
the server processes but answers after the client's timeout: the SDK retries, the vendor bills
both attempts, tokentrace records the answered one and an ``attempt`` row.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List

import anthropic
import boto3
import openai
from botocore.config import Config
from google import genai
from google.genai import types
from opentelemetry.sdk.trace import TracerProvider

import tokentrace
from tokentrace.core import estimate
from tokentrace.testing import ProviderServer, ResponsePlan, openai_usage
from tokentrace.testing.billing import BilledCall, billing_for

TIMEOUT = 0.4
SLOW = 1.0  # the processed-but-too-late first attempt
MESSAGES = [{"role": "user", "content": "Summarise the incident report."}]
OPENAI_USAGE = {
    "gpt-4o": openai_usage(2006, 300, cached=1024),
    "gpt-4o-mini": openai_usage(1200, 80),
    "gpt-5-mini": openai_usage(900, 1500, reasoning=1200),
}
EMBEDDING_MODEL, EMBEDDING_USAGE = "text-embedding-3-small", {"prompt_tokens": 640, "total_tokens": 640}
AZURE_DEPLOYMENTS = {"prod-4o": ("gpt-4o-2024-08-06", openai_usage(3000, 400, cached=2048)), "prod-mini": ("gpt-4o-mini-2024-07-18", openai_usage(800, 60)), "prod-41mini": ("gpt-4.1-mini-2025-04-14", openai_usage(1500, 200))}


def anthropic_usage(uncached: int, output: int, read: int = 0, write_5m: int = 0, write_1h: int = 0) -> Dict[str, Any]:
    return {
        "input_tokens": uncached,
        "output_tokens": output,
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": write_5m + write_1h,
        "cache_creation": {"ephemeral_5m_input_tokens": write_5m, "ephemeral_1h_input_tokens": write_1h},
    }


ANTHROPIC_USAGE = {
    "claude-sonnet-4-5": anthropic_usage(1500, 400, read=20000, write_5m=3000),
    "claude-haiku-4-5": anthropic_usage(700, 120, write_1h=1000),
    "claude-opus-4-6": anthropic_usage(2500, 900),
}
BEDROCK_HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
BEDROCK_CONVERSE = {
    "anthropic.claude-sonnet-4-5-20250929-v1:0": {"inputTokens": 1200, "outputTokens": 300, "cacheReadInputTokens": 5000, "cacheWriteInputTokens": 0, "totalTokens": 6500},
    "amazon.nova-pro-v1:0": {"inputTokens": 2000, "outputTokens": 250, "totalTokens": 2250},
}
GEMINI_USAGE = {
    "gemini-2.5-flash": {"promptTokenCount": 4000, "cachedContentTokenCount": 1000, "candidatesTokenCount": 300, "totalTokenCount": 4300},
    "gemini-2.5-pro": {"promptTokenCount": 1800, "candidatesTokenCount": 500, "totalTokenCount": 2300},
}
VERTEX_CLAUDE = "claude-sonnet-4-5@20250929"
OPENAI_KEY, ANTHROPIC_KEY = "sk-proj-app-key", "sk-ant-app-key"


@dataclass
class Workload:
    server: ProviderServer
    clean_ledger: Path
    full_ledger: Path
    clean: List[BilledCall] = field(default_factory=list)
    retries: List[BilledCall] = field(default_factory=list)


class _Clients:
    def __init__(self, server: ProviderServer) -> None:
        common: Dict[str, Any] = {"timeout": TIMEOUT, "max_retries": 2}
        self.openai = openai.OpenAI(base_url=server.openai_url, api_key=OPENAI_KEY, project="proj_app", **common)
        self.azure = openai.AzureOpenAI(azure_endpoint=server.url, api_key="azure-key", api_version="2024-10-21", **common)
        self.anthropic = anthropic.Anthropic(base_url=server.url, api_key=ANTHROPIC_KEY, **common)
        self.bedrock_anthropic = anthropic.AnthropicBedrock(
            aws_access_key="AKIAIOSFODNN7EXAMPLE", aws_secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", aws_region="us-east-1", base_url=server.url, **common
        )
        self.vertex_anthropic = anthropic.AnthropicVertex(region="global", project_id="acme-prod", access_token="ya29.test-token", base_url=server.url + "/v1", **common)
        self.converse = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            config=Config(retries={"total_max_attempts": 1}),
        )
        self.gemini = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1)))


def _plans(server: ProviderServer, usage: Dict[str, Any], retried: bool, model: Any = None) -> None:
    if retried:
        server.enqueue(ResponsePlan(usage=usage, model=model, delay_s=SLOW))
    server.enqueue(ResponsePlan(usage=usage, model=model))


def _calls(clients: _Clients, server: ProviderServer, retried: bool) -> None:
    """One round of calls; with ``retried`` only the calls whose first attempt times out."""
    steps: List[Callable[[], Any]] = []
    for model, usage in OPENAI_USAGE.items():
        if not retried or model == "gpt-4o":
            steps.append(lambda m=model, u=usage: (_plans(server, u, retried), clients.openai.chat.completions.create(model=m, messages=MESSAGES)))
    if not retried:
        steps.append(lambda: (_plans(server, EMBEDDING_USAGE, False), clients.openai.embeddings.create(model=EMBEDDING_MODEL, input="incident report")))
    for deployment, (answer, usage) in AZURE_DEPLOYMENTS.items():
        if not retried or deployment == "prod-4o":
            steps.append(lambda d=deployment, a=answer, u=usage: (_plans(server, u, retried, a), clients.azure.chat.completions.create(model=d, messages=MESSAGES)))
    for model, usage in ANTHROPIC_USAGE.items():
        if not retried or model == "claude-sonnet-4-5":
            steps.append(lambda m=model, u=usage: (_plans(server, u, retried), clients.anthropic.messages.create(model=m, max_tokens=1024, messages=MESSAGES)))
    steps.append(lambda: (_plans(server, anthropic_usage(900, 150, read=4000), retried), clients.bedrock_anthropic.messages.create(model=BEDROCK_HAIKU, max_tokens=512, messages=MESSAGES)))
    steps.append(lambda: (_plans(server, anthropic_usage(1100, 260, write_5m=2000), retried), clients.vertex_anthropic.messages.create(model=VERTEX_CLAUDE, max_tokens=512, messages=MESSAGES)))
    if not retried:
        for model_id, usage in BEDROCK_CONVERSE.items():
            steps.append(lambda m=model_id, u=usage: (_plans(server, u, False), clients.converse.converse(modelId=m, messages=[{"role": "user", "content": [{"text": "Summarise."}]}])))
        for model, usage in GEMINI_USAGE.items():
            steps.append(lambda m=model, u=usage: (_plans(server, u, False), clients.gemini.models.generate_content(model=m, contents="Summarise.")))
    for step in steps:
        step()


def run(server: ProviderServer, directory: Path) -> Workload:
    workload = Workload(server, directory / "clean.sqlite", directory / "full.sqlite")
    billing = billing_for(server)
    clients = _Clients(server)
    for retried, ledger in ((False, workload.clean_ledger), (True, workload.full_ledger)):
        if retried:
            shutil.copyfile(workload.clean_ledger, workload.full_ledger)
        first = len(server.requests)
        tokentrace.uninstrument()
        tokentrace.instrument(tracer_provider=TracerProvider(), ledger=str(ledger))
        try:
            _calls(clients, server, retried)
            estimate.worker.flush(10)
        finally:
            tokentrace.uninstrument()
        billed = billing.bill_requests(server.requests[first:])
        (workload.retries if retried else workload.clean).extend(billed)
    billing.calls.clear()
    return workload
