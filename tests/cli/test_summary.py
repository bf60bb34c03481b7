"""The spend summary never shows "$0.000000" for a call that was not free.

Real calls through the openai SDK to the local provider server, the summary fed by the same
finished spans an exporter would get; expected costs computed by hand from the price table.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

import tokentrace
from tokentrace.cli.summary import SummaryProcessor, _usd, render
from tokentrace.testing import ResponsePlan, openai_usage


@pytest.fixture
def summary(instrument: Any) -> SummaryProcessor:
    processor = SummaryProcessor()
    telemetry = instrument()
    telemetry.tracer_provider.add_span_processor(processor)
    return processor


def _row(text: str, first_cell: str) -> str:
    return next(line for line in text.splitlines() if line.split("  ")[0].strip() == first_cell)


def test_failed_unpriced_and_tiny_calls_are_never_shown_as_zero_dollars(summary: SummaryProcessor, server: Any, telemetry: Any) -> None:
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    with tokentrace.attribute(team="search"):
        server.enqueue(ResponsePlan(usage={"prompt_tokens": 2, "total_tokens": 2}))
        client.embeddings.create(model="text-embedding-3-small", input="hi")
    with tokentrace.attribute(team="labs"):
        server.enqueue(ResponsePlan(usage=openai_usage(300, 40)))
        client.chat.completions.create(model="acme-llama-70b-selfhosted", messages=[{"role": "user", "content": "hi"}])
    with tokentrace.attribute(team="platform"):
        server.enqueue(ResponsePlan(status=429))
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    telemetry.spans()  # estimates flushed, every span ended
    text = render(summary)
    assert "$0.000000 " not in text + " " and "$0.00 " not in text + " "
    # text-embedding-3-small: $0.02 per million input tokens, 2 tokens = $0.00000004.
    assert _row(text, "text-embedding-3-small").endswith("$0.000000040")
    assert _row(text, "search").endswith("$0.000000040")
    assert _row(text, "acme-llama-70b-selfhosted").endswith("unpriced")
    assert _row(text, "labs").endswith("unpriced")
    assert _row(text, "gpt-4o").endswith("no usage")
    assert _row(text, "platform").endswith("no usage")
    assert "total cost: $0.000000040" in text
    assert "no usage for 1 call(s)" in text


def test_nothing_priced_says_so_in_the_total(summary: SummaryProcessor, server: Any, telemetry: Any) -> None:
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(ResponsePlan(status=429))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    telemetry.spans()
    assert "total cost: none priced" in render(summary)


@pytest.mark.parametrize(
    "value, text",
    [(0.0, "$0.00"), (4e-08, "$0.000000040"), (1.23e-05, "$0.000012"), (0.0155, "$0.015500"), (0.5, "$0.500000"), (12.3456, "$12.35"), (1234.5, "$1,234.50")],
)
def test_dollar_amounts_keep_two_significant_digits(value: float, text: str) -> None:
    assert _usd(value) == text
