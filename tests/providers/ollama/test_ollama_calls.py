"""ollama through the real client against the local server: chat, generate, embed; sync, async, streams.

Ollama has no vendor price: a call is priced only from the user's prices file. The file below
prices llama3.2 at input 0.02 / output 0.04 USD per 1M tokens (the user's own estimate of their
hardware cost); ``mistral-small`` has a Mistral list price in the catalog, and a local model of
that name must never get it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import ollama
import pytest

from tokentrace.testing import ResponsePlan

PRICES = """
[[model]]
provider = "ollama"
name = "llama3.2"
input = 0.02
output = 0.04
"""
LLAMA_COST = (1000 * 0.02 + 400 * 0.04) / 1e6
COUNTS = {"prompt_eval_count": 1000, "eval_count": 400}


@pytest.fixture
def prices(tmp_path: Path) -> str:
    path = tmp_path / "prices.toml"
    path.write_text(PRICES)
    return str(path)


@pytest.fixture
def client(server: Any) -> ollama.Client:
    return ollama.Client(host=server.url)


def _attrs(span: Any) -> dict:
    return dict(span.attributes or {})


def test_chat_priced_from_the_users_prices_file(instrument: Any, server: Any, client: ollama.Client, prices: str) -> None:
    telemetry = instrument(prices=prices)
    server.enqueue(ResponsePlan(usage=COUNTS))
    response = client.chat(model="llama3.2", messages=[{"role": "user", "content": "Is the invoice late?"}],
                           options={"temperature": 0.2, "num_predict": 256, "seed": 3}, stream=False)
    assert response.eval_count == 400
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.provider.name"] == "ollama"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "llama3.2"
    assert attrs["gen_ai.request.max_tokens"] == 256 and attrs["gen_ai.request.seed"] == 3
    assert attrs["gen_ai.request.temperature"] == pytest.approx(0.2)
    assert attrs["gen_ai.usage.input_tokens"] == 1000 and attrs["gen_ai.usage.output_tokens"] == 400
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["ollama.eval_duration_ns"] == 4799921000
    assert attrs["tokentrace.cost.usd"] == pytest.approx(LLAMA_COST)


def test_no_vendor_list_price_for_a_local_model(instrument: Any, server: Any, client: ollama.Client) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(usage=COUNTS))
    client.chat(model="mistral-small", messages=[{"role": "user", "content": "hi"}], stream=False)
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.input_tokens"] == 1000
    assert "tokentrace.cost.usd" not in attrs
    assert attrs["tokentrace.cost.status"] == "unknown_model"


def test_chat_stream_counts_from_the_done_part(instrument: Any, server: Any, client: ollama.Client, prices: str) -> None:
    telemetry = instrument(prices=prices)
    server.enqueue(ResponsePlan(usage=COUNTS, chunks=5))
    parts = list(client.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert parts[-1].done is True and parts[0].done is False
    attrs = _attrs(telemetry.only_llm_span())
    assert attrs["gen_ai.usage.output_tokens"] == 400
    assert attrs["tokentrace.cost.usd"] == pytest.approx(LLAMA_COST)


def test_generate_and_embed(instrument: Any, server: Any, client: ollama.Client, prices: str) -> None:
    telemetry = instrument(prices=prices)
    server.enqueue(ResponsePlan(usage=COUNTS))
    client.generate(model="llama3.2", prompt="def fib(n):", stream=False)
    server.enqueue(ResponsePlan(usage={"prompt_eval_count": 12}))
    result = client.embed(model="nomic-embed-text", input=["late invoice", "early invoice"])
    assert len(result.embeddings) == 2
    spans = sorted(telemetry.llm_spans(), key=lambda s: s.start_time)
    assert spans[0].attributes["gen_ai.operation.name"] == "text_completion"
    assert spans[0].attributes["tokentrace.cost.usd"] == pytest.approx(LLAMA_COST)
    assert spans[1].attributes["gen_ai.operation.name"] == "embeddings"
    assert spans[1].attributes["gen_ai.usage.input_tokens"] == 12
    assert spans[1].attributes["gen_ai.embeddings.dimension.count"] == 8


def test_async_chat_and_stream(instrument: Any, server: Any, prices: str) -> None:
    telemetry = instrument(prices=prices)

    async def run() -> None:
        client = ollama.AsyncClient(host=server.url)
        server.enqueue(ResponsePlan(usage=COUNTS))
        await client.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=False)
        server.enqueue(ResponsePlan(usage=COUNTS))
        async for _ in await client.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}], stream=True):
            pass

    asyncio.run(run())
    assert [s.attributes["tokentrace.cost.usd"] for s in telemetry.llm_spans()] == [pytest.approx(LLAMA_COST)] * 2


def test_model_management_is_not_traced_and_errors_reach_the_app(instrument: Any, server: Any, client: ollama.Client) -> None:
    telemetry = instrument()
    server.enqueue(ResponsePlan(status=404))
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="llama9", messages=[{"role": "user", "content": "hi"}], stream=False)
    assert caught.value.status_code == 404
    with pytest.raises(ollama.ResponseError):
        client.show("llama3.2")  # no route on the local server: 404, and no span for it
    assert len(telemetry.llm_spans()) == 1
    assert _attrs(telemetry.llm_spans()[0])["error.type"] == "ollama.ResponseError"
