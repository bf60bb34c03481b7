"""Every numeric input path, fuzzed through the real SDKs: the ones test_numbers.py leaves out.

OpenAI Responses, embeddings and streamed chat, Mistral, Cohere; the gateway cost fields
(OpenRouter's ``usage.cost``); budget files. For each the rule is the same: a count that is not a
whole number in ``[0, MAX_TOKENS]`` never yields ``tokentrace.cost.status=priced`` (no silent $0),
a priced call with tokens has a cost above 0, and nothing that reaches OTLP is out of its range.
Parts larger than their totals (cache, reasoning) are marked for every provider that reports them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, List

import openai
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

import tokentrace
from tokentrace.budgets.errors import BudgetConfigError
from tokentrace.budgets.spec import load_specs
from tokentrace.core.numbers import MAX_COST_USD, MAX_TOKENS
from tokentrace.testing import ProviderServer, ResponsePlan

MESSAGES = [{"role": "user", "content": "hi"}]

#: What a hostile gateway sends where a count belongs.
counts = st.one_of(
    st.integers(min_value=-(2**66), max_value=2**66),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.floats(min_value=0, max_value=10**6).map(float.__floor__).map(float),  # whole floats are fine
    st.none(),
)

FUZZ = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _whole(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= MAX_TOKENS
    return isinstance(value, float) and math.isfinite(value) and value.is_integer() and 0 <= value <= MAX_TOKENS


def _check(telemetry: Any, values: List[Any]) -> None:
    """The invariants every provider path must keep."""
    invalid = not all(_whole(v) for v in values)
    for span in telemetry.llm_spans():
        attributes = span.attributes
        status = attributes.get("tokentrace.cost.status")
        if invalid:
            assert status != "priced" or attributes.get("tokentrace.usage.source") == "estimate", (values, dict(attributes))
        if status == "priced":
            assert "tokentrace.usage.invalid" not in attributes
            tokens = attributes.get("gen_ai.usage.input_tokens", 0) + attributes.get("gen_ai.usage.output_tokens", 0)
            assert attributes["tokentrace.cost.usd"] > 0 or tokens == 0, dict(attributes)
        if status in ("invalid_usage", "invalid_cost"):
            assert "tokentrace.cost.usd" not in attributes and attributes["tokentrace.usage.invalid"]
        assert all(abs(v) < 2**63 for v in attributes.values() if isinstance(v, int) and not isinstance(v, bool))
    data = telemetry.reader.get_metrics_data()
    if data is not None:  # None: nothing recorded yet (the SDK refused the body before usage)
        encode_metrics(data).SerializeToString()
    encode_spans(telemetry.spans()).SerializeToString()
    assert math.isfinite(telemetry.total("tokentrace.cost")) and telemetry.total("tokentrace.cost") <= 10 * MAX_COST_USD


def _openai(server: ProviderServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


def _responses(server: ProviderServer, a: Any, b: Any, c: Any, d: Any) -> None:
    usage = {"input_tokens": a, "output_tokens": b, "total_tokens": 0,
             "input_tokens_details": {"cached_tokens": c}, "output_tokens_details": {"reasoning_tokens": d}}
    server.enqueue(ResponsePlan(usage=usage))
    _openai(server).responses.create(model="gpt-4o-mini", input="hi")


def _responses_stream(server: ProviderServer, a: Any, b: Any, c: Any, d: Any) -> None:
    usage = {"input_tokens": a, "output_tokens": b, "total_tokens": 0,
             "input_tokens_details": {"cached_tokens": c}, "output_tokens_details": {"reasoning_tokens": d}}
    server.enqueue(ResponsePlan(usage=usage))
    for _ in _openai(server).responses.create(model="gpt-4o-mini", input="hi", stream=True):
        pass


def _embeddings(server: ProviderServer, a: Any, b: Any, c: Any, d: Any) -> None:
    server.enqueue(ResponsePlan(usage={"prompt_tokens": a, "total_tokens": b}))
    _openai(server).embeddings.create(model="text-embedding-3-small", input="hi")


def _chat_stream(server: ProviderServer, a: Any, b: Any, c: Any, d: Any) -> None:
    usage = {"prompt_tokens": a, "completion_tokens": b, "total_tokens": 0,
             "prompt_tokens_details": {"cached_tokens": c}, "completion_tokens_details": {"reasoning_tokens": d}}
    server.enqueue(ResponsePlan(usage=usage))
    for _ in _openai(server).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
        pass


def _chat(server: ProviderServer, a: Any, b: Any, c: Any, d: Any) -> None:
    usage = {"prompt_tokens": a, "completion_tokens": b, "total_tokens": 0,
             "prompt_tokens_details": {"cached_tokens": c}, "completion_tokens_details": {"reasoning_tokens": d}}
    server.enqueue(ResponsePlan(usage=usage))
    _openai(server).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def _mistral(server: ProviderServer, a: Any, b: Any, c: Any, d: Any) -> None:
    from mistralai import Mistral

    usage = {"prompt_tokens": a, "completion_tokens": b, "total_tokens": 0, "prompt_tokens_details": {"cached_tokens": c}}
    server.enqueue(ResponsePlan(usage=usage))
    Mistral(api_key="mistral-test-key-0123456789abcdef", server_url=server.mistral_url).chat.complete(
        model="mistral-small-2603", messages=MESSAGES
    )


def _cohere(server: ProviderServer, a: Any, b: Any, c: Any, d: Any) -> None:
    import cohere

    usage = {"billed_units": {"input_tokens": a, "output_tokens": b}, "tokens": {"input_tokens": c, "output_tokens": d}}
    server.enqueue(ResponsePlan(usage=usage))
    cohere.ClientV2(api_key="cohere-test-key", base_url=server.url, max_retries=0).chat(model="command-a-03-2025", messages=MESSAGES)


#: name -> (call, how many of the four fuzzed values the adapter reads as counts)
PATHS: Dict[str, Any] = {
    "openai-responses": (_responses, 4),
    "openai-responses-stream": (_responses_stream, 4),
    "openai-embeddings": (_embeddings, 1),
    "openai-chat": (_chat, 4),  # test_numbers.py fuzzes it too, with a weaker check
    "openai-chat-stream": (_chat_stream, 4),
    "mistral": (_mistral, 3),
    "cohere": (_cohere, 2),
}


@pytest.mark.parametrize("path", sorted(PATHS))
@FUZZ
@given(values=st.lists(counts, min_size=4, max_size=4))
def test_fuzzed_counts_over_every_sdk_path(instrument: Any, server: ProviderServer, path: str, values: List[Any]) -> None:
    call, used = PATHS[path]
    telemetry = instrument()
    try:
        call(server, *values)
    except Exception:
        pass  # the SDK itself may refuse a body it cannot parse; tokentrace must still hold
    try:
        _check(telemetry, values[:used])
    finally:
        tokentrace.uninstrument()
        telemetry.exporter.clear()


costs = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**1100),
    st.floats(min_value=0, max_value=5),
)


@FUZZ
@given(cost=costs)
def test_fuzzed_gateway_cost(instrument: Any, server: ProviderServer, cost: Any) -> None:
    telemetry = instrument()
    try:
        with tokentrace.budget(usd=1_000.0):
            server.enqueue(ResponsePlan(usage={"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13, "cost": cost}))
            _openai(server).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        (span,) = telemetry.llm_spans()
        status = span.attributes["tokentrace.cost.status"]
        plausible = isinstance(cost, (int, float)) and 0 <= cost <= MAX_COST_USD  # NaN fails both
        if plausible:
            assert span.attributes["tokentrace.cost.usd"] == pytest.approx(float(cost))
        else:
            assert status == "invalid_cost" and "tokentrace.cost.usd" not in span.attributes
        _check(telemetry, [])
    finally:
        tokentrace.uninstrument()
        telemetry.exporter.clear()


def _anthropic(server: ProviderServer, usage: Dict[str, Any]) -> None:
    import anthropic

    server.enqueue(ResponsePlan(usage=usage))
    anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0).messages.create(
        model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES
    )


def _gemini(server: ProviderServer, usage: Dict[str, Any]) -> None:
    from google import genai
    from google.genai import types

    server.enqueue(ResponsePlan(usage=usage))
    client = genai.Client(  # kept in a name: a collected client closes its HTTP client mid-call
        api_key="AIza-test", http_options=types.HttpOptions(base_url=server.url, retry_options=types.HttpRetryOptions(attempts=1))
    )
    client.models.generate_content(model="gemini-2.5-flash", contents="hi")


def _bedrock(server: ProviderServer, usage: Dict[str, Any]) -> None:
    import boto3
    from botocore.config import Config

    server.enqueue(ResponsePlan(usage=usage))
    boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=server.url, aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="x", config=Config(retries={"total_max_attempts": 1}),
    ).converse(modelId="anthropic.claude-3-haiku-20240307-v1:0", messages=[{"role": "user", "content": [{"text": "hi"}]}])


def _openai_chat(server: ProviderServer, usage: Dict[str, Any]) -> None:
    server.enqueue(ResponsePlan(usage=usage))
    _openai(server).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def _responses_usage(server: ProviderServer, usage: Dict[str, Any]) -> None:
    server.enqueue(ResponsePlan(usage=usage))
    _openai(server).responses.create(model="gpt-4o-mini", input="hi")


SUBSETS: Dict[str, Any] = {
    # provider: (call, usage with a part larger than its total, the problem the span names)
    "anthropic-thinking": (_anthropic, {"input_tokens": 10, "output_tokens": 5, "output_tokens_details": {"thinking_tokens": 50}},
                           "reasoning_tokens:exceed_output"),
    "anthropic-1h-writes": (_anthropic, {"input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": 20,
                                         "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 90}},
                            "cache_write_long_tokens:exceed_cache_write"),
    "gemini-cached": (_gemini, {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15, "cachedContentTokenCount": 80},
                      "cache_tokens:exceed_input"),
    "gemini-thoughts-inside": (_gemini, {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 9, "totalTokenCount": 15},
                               "reasoning_tokens:exceed_output"),
    "bedrock-1h-writes": (_bedrock, {"inputTokens": 10, "outputTokens": 5, "cacheWriteInputTokens": 20,
                                     "cacheDetails": [{"ttl": "1h", "inputTokens": 70}]},
                          "cache_write_long_tokens:exceed_cache_write"),
    "openai-cached": (_openai_chat, {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                                     "prompt_tokens_details": {"cached_tokens": 11}}, "cache_tokens:exceed_input"),
    "openai-responses-reasoning": (_responses_usage, {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
                                                      "output_tokens_details": {"reasoning_tokens": 6}}, "reasoning_tokens:exceed_output"),
}


@pytest.mark.parametrize("case", sorted(SUBSETS))
def test_parts_larger_than_their_totals_are_marked_never_priced(instrument: Any, server: ProviderServer, case: str) -> None:
    call, usage, problem = SUBSETS[case]
    telemetry = instrument()
    call(server, usage)
    span = telemetry.only_llm_span()
    assert span.attributes["tokentrace.cost.status"] == "invalid_usage"
    assert problem in span.attributes["tokentrace.usage.invalid"]
    assert "tokentrace.cost.usd" not in span.attributes and telemetry.total("tokentrace.cost") == 0


@pytest.mark.parametrize(
    "headers, problem",
    [
        ({"x-amzn-bedrock-input-token-count": "99999999999999999999999", "x-amzn-bedrock-output-token-count": "5"}, "input_tokens:too_large"),
        ({"x-amzn-bedrock-input-token-count": "-4", "x-amzn-bedrock-output-token-count": "5"}, "input_tokens:negative"),
        ({"x-amzn-bedrock-input-token-count": "12.5", "x-amzn-bedrock-output-token-count": "5"}, "input_tokens:fractional"),
        ({"x-amzn-bedrock-input-token-count": "12", "x-amzn-bedrock-output-token-count": "lots"}, "output_tokens:not_a_number"),
    ],
)
def test_bedrock_token_headers_are_counts_too(headers: Dict[str, str], problem: str) -> None:
    from tokentrace.core.numbers import usage_problems
    from tokentrace.providers.bedrock.extract import header_usage

    usage = header_usage(headers)
    assert usage is not None and problem in usage_problems(usage)
    assert all(abs(v) <= MAX_TOKENS for v in (usage.input_tokens, usage.output_tokens))


budget_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["nan", "inf", "-inf", "1e300", "-0.0", "0"]),
)


def _toml_number(value: Any) -> str:
    if isinstance(value, str):
        return value
    return repr(value) if isinstance(value, float) else str(value)


@settings(max_examples=60, deadline=None)
@given(usd=budget_numbers, tokens=budget_numbers, threshold=budget_numbers)
def test_fuzzed_budget_file(tmp_path_factory: pytest.TempPathFactory, usd: Any, tokens: Any, threshold: Any) -> None:
    """A budgets TOML file (TOKENTRACE_BUDGETS) with any numbers: loaded within bounds, or refused by name."""
    path: Path = tmp_path_factory.mktemp("budgets") / "budgets.toml"
    path.write_text(
        "[[budget]]\n"
        'name = "fuzzed"\nwindow = "day"\n'
        f"usd = {_toml_number(usd)}\ntokens = {_toml_number(tokens)}\nthresholds = [{_toml_number(threshold)}]\n"
    )
    try:
        specs = load_specs(str(path), None)
    except BudgetConfigError as exc:
        assert "fuzzed" in str(exc) or "budgets.toml" in str(exc), str(exc)
        return
    for spec in specs:
        if spec.usd is not None:
            assert math.isfinite(spec.usd) and 0 <= spec.usd <= 1e9
            assert spec.limit_nano_usd is not None and spec.limit_nano_usd < 2**63
        if spec.tokens is not None:
            assert 0 <= spec.tokens <= 1e15
        assert all(math.isfinite(t) and 0 < t <= 10 for t in spec.thresholds), spec.thresholds


class _Collector:
    """A real OTLP/HTTP endpoint that keeps every metrics and traces request it is sent."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.metrics: List[Any] = []
        self.traces: List[Any] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
                    ExportMetricsServiceRequest,
                )
                from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.endswith("/v1/metrics"):
                    collector.metrics.append(ExportMetricsServiceRequest.FromString(body))
                else:
                    collector.traces.append(ExportTraceServiceRequest.FromString(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def sums(self, name: str) -> List[Any]:
        return [
            point
            for request in self.metrics[-1:]
            for rm in request.resource_metrics for sm in rm.scope_metrics for m in sm.metrics if m.name == name
            for point in m.sum.data_points
        ]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def test_a_count_above_2_63_never_stops_the_apps_own_export_through_real_otlp(server: ProviderServer) -> None:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    collector = _Collector()
    reader = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=collector.url + "/v1/metrics"), export_interval_millis=10**8)
    meter_provider = MeterProvider(metric_readers=[reader])
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=collector.url + "/v1/traces")))
    app_requests = meter_provider.get_meter("app").create_counter("app.requests")
    tokentrace.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, configure_sdk=False)
    try:
        client = _openai(server)
        server.enqueue(ResponsePlan(usage={"prompt_tokens": 2**63 + 10, "completion_tokens": 2**64, "total_tokens": 2**65}))
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=2**70)
        app_requests.add(1)
        with tracer_provider.get_tracer("app").start_as_current_span("app.handler"):
            pass
        assert reader.force_flush()
        server.enqueue(ResponsePlan(usage={"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}))
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        app_requests.add(1)
        assert reader.force_flush()
        # What the collector received, not what force_flush() said: both exports carried everything.
        assert len(collector.metrics) == 2
        assert [p.as_int for p in collector.sums("app.requests")] == [2]
        tokens = {next(a.value.string_value for a in p.attributes if a.key == "gen_ai.token.type"): p.as_int for p in collector.sums("tokentrace.tokens")}
        assert tokens["input"] == 100 and tokens["output"] == 10  # the absurd call added 0, marked
        names = [s.name for request in collector.traces for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
        assert "app.handler" in names and len(names) == 3
    finally:
        tokentrace.uninstrument()
        meter_provider.shutdown()
        tracer_provider.shutdown()
        collector.close()


request_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)


@FUZZ
@given(max_tokens=request_numbers, temperature=request_numbers, top_p=request_numbers, seed=request_numbers)
def test_fuzzed_request_parameters_and_the_budget_projection_they_feed(
    instrument: Any, server: ProviderServer, max_tokens: Any, temperature: Any, top_p: Any, seed: Any
) -> None:
    """Request numbers become span attributes and a budget's projection (max_tokens): bounded, never
    an internal error; a projection too large to fit is a block, never an overflow."""
    import logging

    telemetry = instrument(budgets=[{"name": "projected", "window": "day", "usd": 5, "project": True}])
    records: List[Any] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("tokentrace").addHandler(handler)
    try:
        server.enqueue(ResponsePlan())
        try:
            _openai(server).chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, max_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed
            )
        except tokentrace.BudgetExceeded as exc:
            assert exc.reason == "projected" and isinstance(max_tokens, int) and max_tokens > 1_000_000
        except openai.APIError:
            pass  # the SDK may refuse to serialize NaN; nothing tokentrace did
        except ValueError:
            pass  # json refuses NaN/inf when the SDK serializes the body
        assert not [r for r in records if "internal error" in r.getMessage()], [r.getMessage() for r in records]
        for span in telemetry.llm_spans():
            for key, value in span.attributes.items():
                if isinstance(value, float):
                    assert math.isfinite(value), key
                elif isinstance(value, int) and not isinstance(value, bool):
                    assert abs(value) < 2**63, key
        _check(telemetry, [])
    finally:
        logging.getLogger("tokentrace").removeHandler(handler)
        tokentrace.uninstrument()
        telemetry.exporter.clear()
