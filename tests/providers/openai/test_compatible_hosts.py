"""Streams from OpenAI-compatible hosts reach the app exactly as without tokentrace.

Each host flavour is a quirk seen in recorded traffic (``usage: null`` on every chunk unasked,
a usage chunk unasked, a chunk carrying a moderation report, ``choices: null``, content as a list
of parts). For every shape the app's view is recorded uninstrumented, then instrumented over
several calls (the first one to an unknown host is observed, the later ones ask for usage):
chunk fields-set, ``model_dump(exclude_unset=True)``, ``to_dict()``, ``to_json()`` and the
``.stream()`` helper's events and final completion must be identical, and the span must carry
the host's real usage as soon as tokentrace may ask for it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, Iterator, List, Tuple

import openai
import pytest

from tokentrace.testing import ProviderServer, ResponsePlan

pytestmark = pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")

VOLATILE = ("id", "created")
MESSAGES = [{"role": "user", "content": "What did we spend on retries?"}]
USAGE = {"prompt_tokens": 311, "completion_tokens": 47, "total_tokens": 358}

SHAPES: Dict[str, Tuple[str, ...]] = {
    "null_usage (vLLM)": ("null_usage",),
    "usage_chunk (Together)": ("usage_chunk",),
    "null_usage+usage_chunk": ("null_usage", "usage_chunk"),
    "moderation": ("moderation",),
    "moderation+null_usage": ("moderation", "null_usage"),
    "writer (usage chunk, choices null)": ("usage_chunk", "null_choices"),
    "null_choices when asked": ("null_choices",),
    "content_parts (Mistral thinking)": ("content_parts",),
    "content_parts+null_usage": ("content_parts", "null_usage"),
}
#: Shapes whose host sends usage even when nobody asks for it.
SENDS_USAGE_UNASKED = {"usage_chunk (Together)", "null_usage+usage_chunk", "writer (usage chunk, choices null)"}


@pytest.fixture(params=list(SHAPES), scope="module")
def flavoured(request: Any) -> Iterator[Tuple[str, ProviderServer]]:
    with ProviderServer(stand_in=False, openai_flavour=SHAPES[request.param]) as server:
        yield request.param, server


def _strip(data: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in data.items() if k not in VOLATILE}


def _chunk_view(chunk: Any) -> Dict[str, Any]:
    """Everything the app can observe of one chunk, minus per-request ids and timestamps."""
    return {
        "fields_set": sorted(chunk.model_fields_set),
        "dump_unset": _strip(chunk.model_dump(exclude_unset=True)),
        "dump": _strip(chunk.model_dump()),
        "to_dict": _strip(chunk.to_dict()),
        "to_json": _strip(json.loads(chunk.to_json())),
        "extra": chunk.model_extra,
    }


def _outcome(fn: Any) -> Any:
    try:
        return ("ok", fn())
    except Exception as exc:  # the app's own exception must be the same too
        return ("raised", type(exc).__qualname__, str(exc))


def _raw(client: openai.OpenAI, endpoint: str) -> List[Dict[str, Any]]:
    if endpoint == "chat":
        stream = client.chat.completions.create(model="llama-3.3-70b", messages=MESSAGES, stream=True)
    else:
        stream = client.completions.create(model="llama-3.3-70b", prompt="Say hi", stream=True)
    return [_chunk_view(chunk) for chunk in stream]


def _helper(client: openai.OpenAI) -> Dict[str, Any]:
    events = []
    with client.chat.completions.stream(model="llama-3.3-70b", messages=MESSAGES) as stream:
        for event in stream:
            events.append((event.type, _chunk_view(event.chunk) if event.type == "chunk" else None))
        final = stream.get_final_completion()
    return {"events": events, "final": _strip(final.to_dict()), "final_unset": _strip(final.model_dump(exclude_unset=True))}


def _plan() -> ResponsePlan:
    return ResponsePlan(usage=dict(USAGE))


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_raw_stream_identical_plain_and_instrumented(instrument, flavoured, endpoint):
    name, server = flavoured
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(_plan())
    plain = _outcome(lambda: _raw(client, endpoint))
    assert plain[0] == "ok", plain

    telemetry = instrument()
    for attempt in range(3):
        server.enqueue(_plan())
        assert _outcome(lambda: _raw(client, endpoint)) == plain, f"{name}: call {attempt + 1} differs"
        sent = server.requests[-1].json
        if name in SENDS_USAGE_UNASKED or attempt == 0:
            assert "stream_options" not in sent  # never asked: observed first, or not needed
        else:
            assert sent["stream_options"] == {"include_usage": True}
    spans = sorted(telemetry.llm_spans(), key=lambda s: s.start_time)  # estimates end off-thread, later
    assert len(spans) == 3 and all(s.status.status_code.name == "UNSET" for s in spans)
    for index, span in enumerate(spans):
        a = span.attributes
        if name in SENDS_USAGE_UNASKED or index > 0:
            assert a["tokentrace.usage.source"] == "provider"
            assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (311, 47)
        else:
            assert a["tokentrace.usage.source"] == "estimate"  # the observed first stream had none
            assert a["gen_ai.usage.output_tokens"] > 0
        assert a["gen_ai.provider.name"] not in ("",)
        assert tuple(a["gen_ai.response.finish_reasons"]) in (("stop",), ("length",))


def test_stream_helper_identical_plain_and_instrumented(instrument, flavoured):
    name, server = flavoured
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
    server.enqueue(_plan())
    plain = _outcome(lambda: _helper(client))
    instrument()
    for attempt in range(3):
        server.enqueue(_plan())
        assert _outcome(lambda: _helper(client)) == plain, f"{name}: .stream() call {attempt + 1} differs"


def test_async_stream_identical_plain_and_instrumented(instrument, flavoured):
    name, server = flavoured

    async def run() -> List[Dict[str, Any]]:
        client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
        stream = await client.chat.completions.create(model="llama-3.3-70b", messages=MESSAGES, stream=True)
        return [_chunk_view(chunk) async for chunk in stream]

    server.enqueue(_plan())
    plain = asyncio.run(run())
    telemetry = instrument()
    for _ in range(2):
        server.enqueue(_plan())
        assert asyncio.run(run()) == plain
    assert max(telemetry.llm_spans(), key=lambda s: s.start_time).attributes["gen_ai.usage.output_tokens"] == 47


def test_app_that_asks_for_usage_gets_the_hosts_stream_untouched(instrument, flavoured):
    name, server = flavoured
    client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)

    def run() -> List[Dict[str, Any]]:
        stream = client.chat.completions.create(
            model="llama-3.3-70b", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        return [_chunk_view(chunk) for chunk in stream]

    server.enqueue(_plan())
    plain = run()
    telemetry = instrument()
    server.enqueue(_plan())
    assert run() == plain
    assert telemetry.only_llm_span().attributes["gen_ai.usage.input_tokens"] == 311


def test_moderation_chunk_keeps_its_report_when_tokentrace_asked(instrument):
    """The usage tokentrace caused rides on a chunk with a moderation report: the chunk stays,
    the usage goes, and the report reaches the app."""
    with ProviderServer(stand_in=False, openai_flavour=("moderation",)) as server:
        client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
        telemetry = instrument()
        for _ in range(2):
            server.enqueue(_plan())
            chunks = list(client.chat.completions.create(model="llama-3.3-70b", messages=MESSAGES, stream=True))
        assert server.requests[-1].json["stream_options"] == {"include_usage": True}
        last = chunks[-1]
        assert last.moderation is not None and last.moderation.to_dict()["results"][0]["flagged"] is False
        assert last.usage is None and "usage" not in last.model_fields_set
        assert max(telemetry.llm_spans(), key=lambda s: s.start_time).attributes["gen_ai.usage.output_tokens"] == 47


def test_list_of_parts_content_is_counted_with_capture_off_and_on(instrument):
    """Mistral's thinking models stream content as parts: no TypeError on the estimate path,
    and captured output holds the text parts only."""
    with ProviderServer(stand_in=False, openai_flavour=("content_parts",)) as server:
        client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)
        telemetry = instrument()
        server.enqueue(ResponsePlan(text="Retries cost 4%."))
        list(client.chat.completions.create(model="magistral-medium-latest", messages=MESSAGES, stream=True))
        a = telemetry.only_llm_span().attributes
        assert a["tokentrace.usage.source"] == "estimate"
        assert a["gen_ai.usage.output_tokens"] > 0

        telemetry = instrument(capture_content="SPAN_ONLY")
        server.enqueue(ResponsePlan(text="Retries cost 4%."))
        list(client.chat.completions.create(model="magistral-medium-latest", messages=MESSAGES, stream=True))
        output = json.loads(telemetry.llm_spans()[-1].attributes["gen_ai.output.messages"])
        assert output[0]["parts"][0]["content"] == "Retries cost 4%."


def test_unknown_flavour_is_refused_in_words():
    with pytest.raises(ValueError, match="unknown OpenAI host flavour"):
        ProviderServer(openai_flavour=("usage_everywhere",))
