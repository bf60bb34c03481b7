"""A small application the exit tests run in a fresh interpreter: one LLM call left unfinished.

``python exit_app.py SCENARIO ORDER OUT`` talks to the provider server at ``$TT_SERVER_URL``,
exports its spans with a ``BatchSpanProcessor`` and its metrics with a periodic reader whose
interval is far beyond the program's life, both into the JSON-lines file ``OUT``: only what is
exported when the providers shut down at exit reaches that file, exactly as with an OTLP
exporter. ``ORDER`` is ``providers-first`` (the app sets its global providers, then calls
``instrument()``), ``instrument-first`` (the other way round) or ``passed`` (providers handed to
``instrument()``). Exit code 3 means an SDK this scenario needs is not installed here.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from typing import Any, Sequence

SCENARIO, ORDER, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
URL = os.environ["TT_SERVER_URL"]

from opentelemetry import metrics, trace  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import (  # noqa: E402
    MetricExporter,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult  # noqa: E402


def _write(line: dict) -> None:
    with open(OUT, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


class FileSpans(SpanExporter):
    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        for span in spans:
            _write({"span": span.name, "kind": span.kind.name, "attributes": dict(span.attributes or {})})
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


class FileMetrics(MetricExporter):
    def __init__(self) -> None:
        super().__init__()

    def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        for resource_metrics in metrics_data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    for point in metric.data.data_points:
                        value = getattr(point, "value", None)
                        if value is None:
                            value = getattr(point, "sum", None)
                        _write({"metric": metric.name, "value": value, "attributes": dict(point.attributes or {})})
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


def providers() -> Any:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(FileSpans(), schedule_delay_millis=600_000))
    reader = PeriodicExportingMetricReader(FileMetrics(), export_interval_millis=600_000)
    return tracer_provider, MeterProvider(metric_readers=[reader])


#: Only the SDK the scenario uses (importing every SDK takes seconds).
OPTIONS = {"providers": [{"google": "google_genai"}.get(SCENARIO.split("-")[0], SCENARIO.split("-")[0])]}


def set_up() -> None:
    import tokentrace

    if ORDER == "passed":
        tracer_provider, meter_provider = providers()
        tokentrace.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, **OPTIONS)
        return
    if ORDER == "instrument-first":
        tokentrace.instrument(**OPTIONS)
    tracer_provider, meter_provider = providers()
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    if ORDER == "providers-first":
        tokentrace.instrument(**OPTIONS)


def need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        sys.exit(3)


REQUEST = dict(model="gpt-4o", messages=[{"role": "user", "content": "Is the invoice late?"}])
ANTHROPIC_REQUEST = dict(model="claude-haiku-4-5", max_tokens=256, messages=[{"role": "user", "content": "Is the invoice late?"}])

#: Kept alive until the interpreter exits: the stream the app never finished.
kept: Any = None


def run() -> None:
    global kept
    if SCENARIO.startswith("openai"):
        openai = need("openai")
        client = openai.OpenAI(base_url=URL + "/v1", api_key="sk-test", max_retries=0)
        if SCENARIO == "openai-early-close":
            with client.chat.completions.create(stream=True, **REQUEST) as stream:
                next(iter(stream))
        elif SCENARIO == "openai-collected":
            stream = client.chat.completions.create(stream=True, **REQUEST)
            next(iter(stream))
            del stream
            gc.collect()
        elif SCENARIO == "openai-referenced":
            kept = client.chat.completions.create(stream=True, **REQUEST)
            next(iter(kept))
        elif SCENARIO == "openai-unread":
            kept = client.chat.completions.create(stream=True, **REQUEST)
        elif SCENARIO == "openai-no-usage":
            for _ in client.chat.completions.create(stream=True, **REQUEST):
                pass
        elif SCENARIO == "openai-workflow":
            import tokentrace

            with tokentrace.workflow("nightly"):
                with client.chat.completions.create(stream=True, **REQUEST) as stream:
                    next(iter(stream))
        else:
            raise SystemExit(f"unknown scenario {SCENARIO}")
    elif SCENARIO == "anthropic-referenced":
        anthropic = need("anthropic")
        client = anthropic.Anthropic(base_url=URL, api_key="sk-ant-test", max_retries=0)
        kept = client.messages.create(stream=True, **ANTHROPIC_REQUEST)
        next(iter(kept))
    elif SCENARIO == "google-referenced":
        genai = need("google.genai")
        types = need("google.genai.types")
        client = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=URL))
        kept = client.models.generate_content_stream(model="gemini-2.5-flash", contents="Is the invoice late?")
        next(iter(kept))
    elif SCENARIO == "bedrock-referenced":
        boto3 = need("boto3")
        client = boto3.client(
            "bedrock-runtime", region_name="us-east-1", endpoint_url=URL,
            aws_access_key_id="AKIATEST", aws_secret_access_key="secret",
        )
        response = client.converse_stream(
            modelId="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            messages=[{"role": "user", "content": [{"text": "Is the invoice late?"}]}],
        )
        kept = response
        next(iter(response["stream"]))
    else:
        raise SystemExit(f"unknown scenario {SCENARIO}")


set_up()
run()
