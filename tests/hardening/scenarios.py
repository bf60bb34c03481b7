"""One small, comparable scenario per provider SDK, for the hardening tests.

Each :class:`Scenario` drives the real SDK against the local provider server and returns what
the *application* observed, reduced to the fields that do not change between two identical calls
(ids and timestamps are left out). Running it uninstrumented and instrumented and comparing the
two outcomes is how the hardening tests prove tokentrace changed nothing for the app.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple

import anthropic
import boto3
import cohere
import groq
import ollama

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-map download at import
import litellm  # noqa: E402
import openai
from azure.ai.inference import ChatCompletionsClient as AzureChatClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError as AzureHttpError
from botocore.config import Config as BotoConfig
from google import genai
from google.genai import types as genai_types
from mistralai.client import Mistral, errors as mistral_errors

from tokentrace.testing import ProviderServer

#: Secrets the scenarios use; the secrets test checks none of them reaches telemetry.
OPENAI_KEY = "sk-proj-HARDENING0openai0secret0key0123456789"
ANTHROPIC_KEY = "sk-ant-api03-HARDENING-anthropic-secret-0123456789"
GOOGLE_KEY = "AIzaSyHARDENING-google-secret-key-0123"
AWS_ACCESS_KEY = "AKIAHARDENINGEXAMPLE"
AWS_SECRET_KEY = "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"
MISTRAL_KEY = "HARDENINGmistral0secret0key0123456789"
COHERE_KEY = "HARDENINGcohere0secret0key0123456789ab"
GROQ_KEY = "gsk_HARDENINGgroq0secret0key0123456789"
AZURE_KEY = "HARDENINGazure0inference0secret0key01"
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY, AWS_ACCESS_KEY, AWS_SECRET_KEY, MISTRAL_KEY, COHERE_KEY, GROQ_KEY, AZURE_KEY)

#: SDKs that live in venvs of their own (their pinned dependencies conflict with the main venv's):
#: their scenarios exist only where they import; tests/providers/<sdk>/test_in_venv.py runs the
#: hardening tests there for them.
HAS_AIOBOTOCORE = importlib.util.find_spec("aiobotocore") is not None
HAS_VERTEXAI = importlib.util.find_spec("vertexai") is not None

PROVIDERS = ("openai", "anthropic", "google", "bedrock", "mistral", "cohere", "groq", "ollama", "azure_ai_inference", "litellm")
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def openai_client(server: ProviderServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_url, api_key=OPENAI_KEY, max_retries=0)


def openai_async_client(server: ProviderServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.openai_url, api_key=OPENAI_KEY, max_retries=0)


def anthropic_client(server: ProviderServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key=ANTHROPIC_KEY, max_retries=0)


def anthropic_async_client(server: ProviderServer) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=server.url, api_key=ANTHROPIC_KEY, max_retries=0)


def google_client(server: ProviderServer) -> genai.Client:
    options = genai_types.HttpOptions(base_url=server.url, retry_options=genai_types.HttpRetryOptions(attempts=1))
    return genai.Client(api_key=GOOGLE_KEY, http_options=options)


def bedrock_client(server: ProviderServer) -> Any:
    return boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=server.url,
        aws_access_key_id=AWS_ACCESS_KEY, aws_secret_access_key=AWS_SECRET_KEY,
        config=BotoConfig(retries={"total_max_attempts": 1}),
    )


def mistral_client(server: ProviderServer) -> Mistral:
    return Mistral(api_key=MISTRAL_KEY, server_url=server.mistral_url)


def cohere_client(server: ProviderServer) -> cohere.ClientV2:
    return cohere.ClientV2(api_key=COHERE_KEY, base_url=server.url, max_retries=0)


def groq_client(server: ProviderServer) -> groq.Groq:
    return groq.Groq(api_key=GROQ_KEY, base_url=server.groq_url, max_retries=0)


# -- what the app sees, per provider ----------------------------------------------------------------

OPENAI_REQUEST: Dict[str, Any] = dict(model="gpt-4o", messages=[{"role": "user", "content": "Is the invoice late?"}])
ANTHROPIC_REQUEST: Dict[str, Any] = dict(model="claude-haiku-4-5", max_tokens=256, messages=[{"role": "user", "content": "Is the invoice late?"}])
BEDROCK_MESSAGES = [{"role": "user", "content": [{"text": "Is the invoice late?"}]}]


def _openai_call(server: ProviderServer) -> Any:
    r = openai_client(server).chat.completions.create(**OPENAI_REQUEST)
    return (r.model, [c.model_dump() for c in r.choices], r.usage.model_dump() if r.usage else None, r.model_fields_set)


def _openai_stream(server: ProviderServer) -> Any:
    chunks = openai_client(server).chat.completions.create(stream=True, **OPENAI_REQUEST)
    return [(c.model, [ch.model_dump() for ch in c.choices], c.usage, c.model_fields_set) for c in chunks]


def _anthropic_call(server: ProviderServer) -> Any:
    r = anthropic_client(server).messages.create(**ANTHROPIC_REQUEST)
    return (r.model, [b.model_dump() for b in r.content], r.stop_reason, r.usage.model_dump())


def _anthropic_stream(server: ProviderServer) -> Any:
    events = anthropic_client(server).messages.create(stream=True, **ANTHROPIC_REQUEST)
    return [e.model_dump(exclude={"message": {"id"}}) for e in events]


def _google_call(server: ProviderServer) -> Any:
    client = google_client(server)  # held: a collected client closes its HTTP connection pool
    r = client.models.generate_content(model="gemini-2.5-flash", contents="Is the invoice late?")
    return (r.text, r.usage_metadata.model_dump() if r.usage_metadata else None, r.model_version)


def _google_stream(server: ProviderServer) -> Any:
    client = google_client(server)
    chunks = client.models.generate_content_stream(model="gemini-2.5-flash", contents="Is the invoice late?")
    result = [(c.text, c.usage_metadata.model_dump() if c.usage_metadata else None) for c in chunks]
    client.close()
    return result


def _bedrock_call(server: ProviderServer) -> Any:
    r = bedrock_client(server).converse(modelId=BEDROCK_MODEL, messages=BEDROCK_MESSAGES)
    return (r["output"], r["usage"], r["stopReason"])


def _bedrock_stream(server: ProviderServer) -> Any:
    stream = bedrock_client(server).converse_stream(modelId=BEDROCK_MODEL, messages=BEDROCK_MESSAGES)["stream"]
    return [{k: v for k, v in event.items() if k != "metadata"} | ({"usage": event["metadata"]["usage"]} if "metadata" in event else {}) for event in stream]


_AIO_SESSION: Any = None


def _aiobotocore(work: Callable[[Any], Any], server: ProviderServer) -> Any:
    """``work(client)`` with a real aiobotocore Bedrock client, in an event loop of its own.

    One session for all (as an app has): a session builds the exception classes its clients raise.
    """
    from aiobotocore.session import get_session

    global _AIO_SESSION
    if _AIO_SESSION is None:
        _AIO_SESSION = get_session()
    session = _AIO_SESSION

    async def main() -> Any:
        async with session.create_client(
            "bedrock-runtime", region_name="us-east-1", endpoint_url=server.url,
            aws_access_key_id=AWS_ACCESS_KEY, aws_secret_access_key=AWS_SECRET_KEY,
            config=BotoConfig(retries={"total_max_attempts": 1}),
        ) as client:
            return await work(client)

    return asyncio.run(main())


def _aiobotocore_call(server: ProviderServer) -> Any:
    async def work(client: Any) -> Any:
        r = await client.converse(modelId=BEDROCK_MODEL, messages=BEDROCK_MESSAGES)
        return (r["output"], r["usage"], r["stopReason"])

    return _aiobotocore(work, server)


def _aiobotocore_stream(server: ProviderServer) -> Any:
    async def work(client: Any) -> Any:
        stream = (await client.converse_stream(modelId=BEDROCK_MODEL, messages=BEDROCK_MESSAGES))["stream"]
        return [{k: v for k, v in event.items() if k != "metadata"} | ({"usage": event["metadata"]["usage"]} if "metadata" in event else {})
                async for event in stream]

    return _aiobotocore(work, server)


def vertex_model(server: ProviderServer) -> Any:
    """A Vertex AI SDK ``GenerativeModel`` sending REST to the server, with anonymous credentials."""
    import warnings

    import vertexai
    from google.auth.credentials import AnonymousCredentials
    from vertexai.generative_models import GenerativeModel

    vertexai.init(project="test-project", location="us-central1", api_transport="rest", api_endpoint=server.url,
                  credentials=AnonymousCredentials())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK's deprecation notice
        return GenerativeModel("gemini-2.5-flash")


def _vertex_call(server: ProviderServer) -> Any:
    r = vertex_model(server).generate_content("Is the invoice late?")
    return (r.text, str(r.usage_metadata), r.candidates[0].finish_reason)


def _vertex_stream(server: ProviderServer) -> Any:
    return [(c.text, str(c.usage_metadata)) for c in vertex_model(server).generate_content("Is the invoice late?", stream=True)]


def _vertex_errors() -> Tuple[type, ...]:
    from google.api_core.exceptions import GoogleAPIError

    return (GoogleAPIError,)


MISTRAL_REQUEST: Dict[str, Any] = dict(model="mistral-small-2603", messages=[{"role": "user", "content": "Is the invoice late?"}])


def _mistral_call(server: ProviderServer) -> Any:
    r = mistral_client(server).chat.complete(**MISTRAL_REQUEST)
    return (r.model, [c.model_dump() for c in r.choices], r.usage.model_dump() if r.usage else None, r.model_fields_set)


def _mistral_stream(server: ProviderServer) -> Any:
    with mistral_client(server).chat.stream(**MISTRAL_REQUEST) as events:
        return [(e.data.model, [c.model_dump() for c in e.data.choices], e.data.usage, e.data.model_fields_set) for e in events]


COHERE_REQUEST: Dict[str, Any] = dict(model="command-a-03-2025", messages=[{"role": "user", "content": "Is the invoice late?"}])


def _cohere_call(server: ProviderServer) -> Any:
    r = cohere_client(server).chat(**COHERE_REQUEST)
    return (r.message.model_dump() if r.message else None, r.finish_reason, r.usage.model_dump() if r.usage else None, r.model_fields_set)


def _cohere_stream(server: ProviderServer) -> Any:
    return [e.model_dump(exclude={"id"}) for e in cohere_client(server).chat_stream(**COHERE_REQUEST)]


def _cohere_error(server: ProviderServer) -> Any:
    try:
        _cohere_call(server)
    except cohere.core.api_error.ApiError as exc:  # its str() carries the response headers (Date ...)
        return (type(exc), exc.status_code, _IDS.sub("<id>", str(exc.body)))
    raise AssertionError("the provider error did not reach the application")


GROQ_REQUEST: Dict[str, Any] = dict(model="llama-3.3-70b-versatile", messages=[{"role": "user", "content": "Is the invoice late?"}])


def _groq_call(server: ProviderServer) -> Any:
    r = groq_client(server).chat.completions.create(**GROQ_REQUEST)
    return (r.model, [c.model_dump() for c in r.choices], r.usage.model_dump() if r.usage else None, r.model_fields_set)


def _groq_stream(server: ProviderServer) -> Any:
    chunks = groq_client(server).chat.completions.create(stream=True, **GROQ_REQUEST)
    return [(c.model, [ch.model_dump() for ch in c.choices], c.x_groq.usage if c.x_groq else None, c.model_fields_set) for c in chunks]


def _ollama_call(server: ProviderServer) -> Any:
    r = ollama.Client(host=server.url).chat(model="llama3.2", messages=[{"role": "user", "content": "Is the invoice late?"}], stream=False)
    return r.model_dump(exclude={"created_at"})


def _ollama_stream(server: ProviderServer) -> Any:
    parts = ollama.Client(host=server.url).chat(model="llama3.2", messages=[{"role": "user", "content": "Is the invoice late?"}], stream=True)
    return [p.model_dump(exclude={"created_at"}) for p in parts]


def azure_client(server: ProviderServer) -> AzureChatClient:
    return AzureChatClient(endpoint=server.azure_inference_url, credential=AzureKeyCredential(AZURE_KEY), retry_total=0)


AZURE_MESSAGES = [{"role": "user", "content": "Is the invoice late?"}]


def _azure_call(server: ProviderServer) -> Any:
    r = azure_client(server).complete(messages=AZURE_MESSAGES, model="Mistral-Large-2411")
    return (r.model, [dict(c) for c in r.choices], dict(r.usage) if r.usage else None, sorted(r.keys()))


def _azure_stream(server: ProviderServer) -> Any:
    with azure_client(server).complete(messages=AZURE_MESSAGES, model="Mistral-Large-2411", stream=True) as updates:
        return [({k: v for k, v in u.items() if k not in ("id", "created")}) for u in updates]


def _azure_error(server: ProviderServer) -> Any:
    try:
        _azure_call(server)
    except AzureHttpError as exc:  # its str() carries the response's request id
        return (type(exc), exc.status_code, exc.reason, _IDS.sub("<id>", str(exc.message)))
    raise AssertionError("the provider error did not reach the application")


def _litellm_call(server: ProviderServer) -> Any:
    r = litellm.completion(api_base=server.openai_url, api_key=OPENAI_KEY, num_retries=0, **{**OPENAI_REQUEST, "model": "openai/gpt-4o"})
    return (r.model, [c.model_dump() for c in r.choices], r.usage.model_dump() if r.usage else None)


def _litellm_stream(server: ProviderServer) -> Any:
    chunks = litellm.completion(api_base=server.openai_url, api_key=OPENAI_KEY, stream=True, num_retries=0,
                                **{**OPENAI_REQUEST, "model": "openai/gpt-4o"})
    return [(c.model, [ch.model_dump() for ch in c.choices], getattr(c, "usage", None), c.model_fields_set) for c in chunks]


#: Request ids differ between two identical calls.
_IDS = re.compile(r"req_\w+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _error(exc_types: Tuple[type, ...]) -> Callable[[Callable[[ProviderServer], Any]], Callable[[ProviderServer], Any]]:
    def decorate(call: Callable[[ProviderServer], Any]) -> Callable[[ProviderServer], Any]:
        def run(server: ProviderServer) -> Any:
            try:
                call(server)
            except exc_types as exc:
                return (type(exc), _IDS.sub("<id>", str(exc)))
            raise AssertionError("the provider error did not reach the application")

        return run

    return decorate


@dataclass(frozen=True)
class Scenario:
    """One provider: a plain call, a consumed stream and a provider error, each as the app saw it."""

    provider: str
    call: Callable[[ProviderServer], Any]
    stream: Callable[[ProviderServer], Any]
    error: Callable[[ProviderServer], Any]

    def run_all(self, server: ProviderServer, plan_factory: Callable[..., Any]) -> List[Any]:
        """Every path once; a fixed reply text keeps the outcomes comparable between runs."""
        server.enqueue(plan_factory(text="fixed reply"))
        first = self.call(server)
        server.enqueue(plan_factory(text="fixed reply"))
        second = self.stream(server)
        server.enqueue(plan_factory(status=429))
        third = self.error(server)
        return [first, second, third]


def _botocore_error() -> Tuple[type, ...]:
    from botocore.exceptions import ClientError

    return (ClientError,)


SCENARIOS: Dict[str, Scenario] = {
    "openai": Scenario("openai", _openai_call, _openai_stream, _error((openai.RateLimitError,))(_openai_call)),
    "anthropic": Scenario("anthropic", _anthropic_call, _anthropic_stream, _error((anthropic.RateLimitError,))(_anthropic_call)),
    "google": Scenario("google", _google_call, _google_stream, _error((genai.errors.APIError,))(_google_call)),
    "bedrock": Scenario("bedrock", _bedrock_call, _bedrock_stream, _error(_botocore_error())(_bedrock_call)),
    "mistral": Scenario("mistral", _mistral_call, _mistral_stream, _error((mistral_errors.SDKError,))(_mistral_call)),
    "cohere": Scenario("cohere", _cohere_call, _cohere_stream, _cohere_error),
    "groq": Scenario("groq", _groq_call, _groq_stream, _error((groq.RateLimitError,))(_groq_call)),
    "ollama": Scenario("ollama", _ollama_call, _ollama_stream, _error((ollama.ResponseError,))(_ollama_call)),
    "azure_ai_inference": Scenario("azure_ai_inference", _azure_call, _azure_stream, _azure_error),
    "litellm": Scenario("litellm", _litellm_call, _litellm_stream, _error((litellm.RateLimitError,))(_litellm_call)),
}
if HAS_VERTEXAI:
    SCENARIOS["vertexai"] = Scenario("vertexai", _vertex_call, _vertex_stream, _error(_vertex_errors())(_vertex_call))
if HAS_AIOBOTOCORE:
    SCENARIOS["aiobotocore"] = Scenario("aiobotocore", _aiobotocore_call, _aiobotocore_stream, _error(_botocore_error())(_aiobotocore_call))


async def openai_async_calls(server: ProviderServer, count: int) -> List[Any]:
    client = openai_async_client(server)
    return await asyncio.gather(*(client.chat.completions.create(**OPENAI_REQUEST) for _ in range(count)))
