"""A downgrade budget and a rewrite policy through every SDK request tokentrace can rewrite.

For each provider, sync and async, plain and streamed, the call asks for the expensive model and
the budget (``tokens=0``: used up from the first call) sends the cheaper one. What must hold, in
each case: the provider received the cheaper model; the span keeps the requested model in
``gen_ai.request.model``, names the policy's model in ``tokentrace.model.policy`` and the
answering one in ``gen_ai.response.model``; it is not a silent reroute; and the call is priced
at the cheaper model's rates. Costs are hand-computed from the catalog (USD per 1M tokens):

* gpt-5-mini $0.25 in / $2 out: 1,000 in + 500 out = 0.00025 + 0.001 = $0.00125
* claude-haiku-4-5 $1 / $5 (Anthropic): 0.001 + 0.0025 = $0.0035
* gemini-2.5-flash $0.30 / $2.50: 0.0003 + 0.00125 = $0.00155
* Bedrock's in-region id of claude-haiku-4-5 costs 10 % more than the global one: $1.10 / $5.50,
  0.0011 + 0.00275 = $0.00385
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping

import anthropic
import boto3
import openai
import pytest
from botocore.config import Config
from google import genai
from google.genai import types

import tokentrace
from tokentrace.pricing.identity import same_model
from tokentrace.testing import ProviderServer, ResponsePlan

PROMPT = "Draft the refund reply."
OPENAI_USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}
RESPONSES_USAGE = {"input_tokens": 1000, "output_tokens": 500, "total_tokens": 1500}
ANTHROPIC_USAGE = {"input_tokens": 1000, "output_tokens": 500}
GEMINI_USAGE = {"promptTokenCount": 1000, "candidatesTokenCount": 500, "totalTokenCount": 1500}
CONVERSE_USAGE = {"inputTokens": 1000, "outputTokens": 500, "totalTokens": 1500}
MINI_USD = 1000 * 0.25e-6 + 500 * 2e-6
HAIKU_USD = 1000 * 1e-6 + 500 * 5e-6
FLASH_USD = 1000 * 0.30e-6 + 500 * 2.50e-6
HAIKU_BEDROCK_USD = 1000 * 1.10e-6 + 500 * 5.50e-6
OPUS_BEDROCK = "anthropic.claude-opus-4-5-20251101-v1:0"
HAIKU_BEDROCK = "anthropic.claude-haiku-4-5-20251001-v1:0"


@dataclass(frozen=True)
class Case:
    asked: str
    cheaper: str
    usage: Dict[str, Any]
    cost: float
    #: Sends one call for ``asked`` through the real SDK and consumes it as an app would.
    send: Callable[[ProviderServer, str], None]
    #: The model the provider received, read from the request the server logged.
    received: Callable[[Any], str]


def _body_model(request: Any) -> str:
    return request.json["model"]


def _path_model(request: Any) -> str:
    """``/model/<id>/converse`` (Bedrock) or ``/v1beta/models/<model>:generateContent`` (Gemini)."""
    from urllib.parse import unquote

    path = unquote(request.path.split("?", 1)[0])
    if path.startswith("/model/"):
        return path[len("/model/"):].rsplit("/", 1)[0]
    return path.rsplit("/models/", 1)[1].split(":", 1)[0]


def _run(coroutine: Any) -> None:
    asyncio.run(coroutine)


# -- OpenAI ---------------------------------------------------------------------------------------


def _openai(server: ProviderServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test-routing", max_retries=0)


def _openai_async(server: ProviderServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test-routing", max_retries=0)


def openai_chat(server: ProviderServer, model: str) -> None:
    _openai(server).chat.completions.create(model=model, messages=[{"role": "user", "content": PROMPT}])


def openai_chat_stream(server: ProviderServer, model: str) -> None:
    for _ in _openai(server).chat.completions.create(model=model, messages=[{"role": "user", "content": PROMPT}], stream=True):
        pass


def openai_chat_async(server: ProviderServer, model: str) -> None:
    async def main() -> None:
        async with _openai_async(server) as client:
            await client.chat.completions.create(model=model, messages=[{"role": "user", "content": PROMPT}])

    _run(main())


def openai_chat_async_stream(server: ProviderServer, model: str) -> None:
    async def main() -> None:
        async with _openai_async(server) as client:
            stream = await client.chat.completions.create(model=model, messages=[{"role": "user", "content": PROMPT}], stream=True)
            async for _ in stream:
                pass

    _run(main())


def openai_responses(server: ProviderServer, model: str) -> None:
    _openai(server).responses.create(model=model, input=PROMPT)


def openai_responses_stream(server: ProviderServer, model: str) -> None:
    with _openai(server).responses.stream(model=model, input=PROMPT) as stream:
        stream.get_final_response()


def openai_responses_async(server: ProviderServer, model: str) -> None:
    async def main() -> None:
        async with _openai_async(server) as client:
            stream = await client.responses.create(model=model, input=PROMPT, stream=True)
            async for _ in stream:
                pass

    _run(main())


# -- Anthropic ------------------------------------------------------------------------------------

ANTHROPIC_ARGS: Dict[str, Any] = dict(max_tokens=600, messages=[{"role": "user", "content": PROMPT}])


def _anthropic(server: ProviderServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test-routing", max_retries=0)


def anthropic_messages(server: ProviderServer, model: str) -> None:
    _anthropic(server).messages.create(model=model, **ANTHROPIC_ARGS)


def anthropic_stream_helper(server: ProviderServer, model: str) -> None:
    with _anthropic(server).messages.stream(model=model, **ANTHROPIC_ARGS) as stream:
        stream.get_final_message()


def anthropic_async_stream(server: ProviderServer, model: str) -> None:
    async def main() -> None:
        client = anthropic.AsyncAnthropic(base_url=server.url, api_key="sk-ant-test-routing", max_retries=0)
        async with client:
            stream = await client.messages.create(model=model, stream=True, **ANTHROPIC_ARGS)
            async for _ in stream:
                pass

    _run(main())


# -- google-genai ---------------------------------------------------------------------------------


def _gemini(server: ProviderServer) -> genai.Client:
    options = types.HttpOptions(base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1))
    return genai.Client(api_key="AIza-test-routing", http_options=options)


def gemini_generate(server: ProviderServer, model: str) -> None:
    client = _gemini(server)
    client.models.generate_content(model=model, contents=PROMPT)
    client.close()


def gemini_stream(server: ProviderServer, model: str) -> None:
    client = _gemini(server)
    for _ in client.models.generate_content_stream(model=model, contents=PROMPT):
        pass
    client.close()


def gemini_async_stream(server: ProviderServer, model: str) -> None:
    async def main() -> None:
        client = _gemini(server)
        async for _ in await client.aio.models.generate_content_stream(model=model, contents=PROMPT):
            pass
        await client.aio.aclose()

    _run(main())


# -- Bedrock --------------------------------------------------------------------------------------


def _bedrock(server: ProviderServer) -> Any:
    return boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=server.url,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"total_max_attempts": 1}),
    )


BEDROCK_MESSAGES = [{"role": "user", "content": [{"text": PROMPT}]}]
INVOKE_BODY = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 600, "messages": [{"role": "user", "content": PROMPT}]})


def bedrock_converse(server: ProviderServer, model: str) -> None:
    _bedrock(server).converse(modelId=model, messages=BEDROCK_MESSAGES)


def bedrock_converse_stream(server: ProviderServer, model: str) -> None:
    for _ in _bedrock(server).converse_stream(modelId=model, messages=BEDROCK_MESSAGES)["stream"]:
        pass


def bedrock_invoke(server: ProviderServer, model: str) -> None:
    _bedrock(server).invoke_model(modelId=model, body=INVOKE_BODY)["body"].read()


def bedrock_invoke_stream(server: ProviderServer, model: str) -> None:
    for _ in _bedrock(server).invoke_model_with_response_stream(modelId=model, body=INVOKE_BODY)["body"]:
        pass


def _openai_case(send: Callable[[ProviderServer, str], None], usage: Dict[str, Any] = OPENAI_USAGE) -> Case:
    return Case("gpt-5", "gpt-5-mini", usage, MINI_USD, send, _body_model)


def _anthropic_case(send: Callable[[ProviderServer, str], None]) -> Case:
    return Case("claude-opus-4-5", "claude-haiku-4-5", ANTHROPIC_USAGE, HAIKU_USD, send, _body_model)


def _gemini_case(send: Callable[[ProviderServer, str], None]) -> Case:
    return Case("gemini-2.5-pro", "gemini-2.5-flash", GEMINI_USAGE, FLASH_USD, send, _path_model)


def _bedrock_case(send: Callable[[ProviderServer, str], None], usage: Dict[str, Any]) -> Case:
    return Case(OPUS_BEDROCK, HAIKU_BEDROCK, usage, HAIKU_BEDROCK_USD, send, _path_model)


CASES: Mapping[str, Case] = {
    "openai-chat": _openai_case(openai_chat),
    "openai-chat-stream": _openai_case(openai_chat_stream),
    "openai-chat-async": _openai_case(openai_chat_async),
    "openai-chat-async-stream": _openai_case(openai_chat_async_stream),
    "openai-responses": _openai_case(openai_responses, RESPONSES_USAGE),
    "openai-responses-stream-helper": _openai_case(openai_responses_stream, RESPONSES_USAGE),
    "openai-responses-async-stream": _openai_case(openai_responses_async, RESPONSES_USAGE),
    "anthropic-messages": _anthropic_case(anthropic_messages),
    "anthropic-stream-helper": _anthropic_case(anthropic_stream_helper),
    "anthropic-async-stream": _anthropic_case(anthropic_async_stream),
    "gemini-generate": _gemini_case(gemini_generate),
    "gemini-stream": _gemini_case(gemini_stream),
    "gemini-async-stream": _gemini_case(gemini_async_stream),
    "bedrock-converse": _bedrock_case(bedrock_converse, CONVERSE_USAGE),
    "bedrock-converse-stream": _bedrock_case(bedrock_converse_stream, CONVERSE_USAGE),
    "bedrock-invoke-model": _bedrock_case(bedrock_invoke, ANTHROPIC_USAGE),
    "bedrock-invoke-stream": _bedrock_case(bedrock_invoke_stream, ANTHROPIC_USAGE),
}


def _check(telemetry: Any, server: ProviderServer, case: Case) -> None:
    (request,) = server.requests
    assert case.received(request) == case.cheaper
    span = telemetry.only_llm_span()
    attributes = span.attributes
    assert attributes["gen_ai.request.model"] == case.asked
    assert attributes["tokentrace.model.policy"] == case.cheaper
    answered = attributes["gen_ai.response.model"]
    assert same_model(answered, case.cheaper) is True, answered  # the cheaper model (or its dated snapshot)
    assert attributes.get("tokentrace.model.rerouted", False) is False  # the policy's choice is no silent reroute
    assert attributes["tokentrace.cost.usd"] == pytest.approx(case.cost, abs=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_downgrade_budget_rewrites_the_request_and_says_so(instrument: Any, server: ProviderServer, name: str) -> None:
    case = CASES[name]
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=dict(case.usage)))
    with tokentrace.budget(tokens=0, on_exceed="downgrade", downgrade={case.asked: case.cheaper}) as block:
        case.send(server, case.asked)
    _check(telemetry, server, case)
    event = next(e for e in telemetry.only_llm_span().events if e.name == "tokentrace.budget.downgraded")
    assert event.attributes["tokentrace.model.requested"] == case.asked
    assert block.spent_usd == pytest.approx(case.cost, abs=1e-12)


@pytest.mark.parametrize("name", ["openai-chat-async-stream", "anthropic-stream-helper", "gemini-async-stream", "bedrock-invoke-stream"])
def test_downgrade_callback_chooses_the_model(instrument: Any, server: ProviderServer, name: str) -> None:
    case = CASES[name]
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=dict(case.usage)))
    asked: List[str] = []

    def cheaper(model: str) -> str:
        asked.append(model)
        return case.cheaper

    with tokentrace.budget(tokens=0, on_exceed="downgrade", downgrade=cheaper):
        case.send(server, case.asked)
    assert asked == [case.asked]
    _check(telemetry, server, case)


@pytest.mark.parametrize("name", sorted(CASES))
def test_rewrite_policy_rewrites_the_request_and_says_so(instrument: Any, server: ProviderServer, name: str) -> None:
    case = CASES[name]
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=dict(case.usage)))
    with tokentrace.model_policy(deny=[case.asked], action="rewrite", rewrite={case.asked: case.cheaper}, name="no-flagship"):
        case.send(server, case.asked)
    _check(telemetry, server, case)
    event = next(e for e in telemetry.only_llm_span().events if e.name == "tokentrace.policy.violation")
    assert event.attributes["tokentrace.policy.action"] == "rewrite"
    assert event.attributes["tokentrace.model.requested"] == case.asked


# -- SDKs whose requests tokentrace does not rewrite ----------------------------------------------


def _groq(server: ProviderServer, model: str) -> None:
    import groq

    groq.Groq(api_key="gsk_test_routing", base_url=server.groq_url, max_retries=0).chat.completions.create(
        model=model, messages=[{"role": "user", "content": PROMPT}]
    )


def _mistral(server: ProviderServer, model: str) -> None:
    from mistralai.client import Mistral

    Mistral(api_key="test-routing", server_url=server.mistral_url).chat.complete(
        model=model, messages=[{"role": "user", "content": PROMPT}]
    )


UNREWRITABLE = {"groq": (_groq, "llama-3.3-70b-versatile", "llama-3.1-8b-instant"), "mistral": (_mistral, "mistral-large-latest", "mistral-small-latest")}


@pytest.mark.parametrize("name", sorted(UNREWRITABLE))
def test_where_the_request_cannot_be_rewritten_the_call_is_blocked_not_mislabelled(
    instrument: Any, server: ProviderServer, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A downgrade or rewrite tokentrace cannot apply is never claimed: the call is blocked."""
    from tokentrace.budgets import BudgetExceeded, ModelNotAllowed

    send, asked, cheaper = UNREWRITABLE[name]
    telemetry = instrument()
    caplog.set_level("WARNING", "tokentrace")
    with tokentrace.budget(tokens=0, on_exceed="downgrade", downgrade={asked: cheaper}):
        with pytest.raises(BudgetExceeded):
            send(server, asked)
    with tokentrace.model_policy(deny=[asked], action="rewrite", rewrite={asked: cheaper}, name="no-flagship"):
        with pytest.raises(ModelNotAllowed):
            send(server, asked)
    assert server.requests == []  # neither was sent
    spans = telemetry.llm_spans()
    assert len(spans) == 2 and all("tokentrace.model.policy" not in s.attributes for s in spans)
    assert sum("cannot send them to another model" in r.getMessage() for r in caplog.records) == 1
    assert sum("cannot send calls made through" in r.getMessage() for r in caplog.records) == 1
