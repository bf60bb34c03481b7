"""OpenTelemetry instruments, created once per tokentrace setup.

Tracer and meter come from the providers passed to ``instrument()`` or the global ones. The
global API objects are proxies, so a provider the application sets *after* ``instrument()``
still receives tokentrace's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from opentelemetry import metrics, trace

from .. import __version__
from . import semconv as sc

SCOPE_NAME = "tokentrace"


@dataclass
class Instruments:
    tracer: trace.Tracer
    token_usage: Any
    duration: Any
    time_to_first_chunk: Any
    tokens: Any
    cost: Any
    calls: Any


def create_instruments(tracer_provider: Optional[Any] = None, meter_provider: Optional[Any] = None) -> Instruments:
    tracer = trace.get_tracer(SCOPE_NAME, __version__, tracer_provider=tracer_provider)
    meter = metrics.get_meter(SCOPE_NAME, __version__, meter_provider=meter_provider)
    return Instruments(
        tracer=tracer,
        token_usage=meter.create_histogram(
            sc.METRIC_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used per GenAI operation.",
            explicit_bucket_boundaries_advisory=list(sc.TOKEN_BUCKETS),
        ),
        duration=meter.create_histogram(
            sc.METRIC_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(sc.DURATION_BUCKETS),
        ),
        time_to_first_chunk=meter.create_histogram(
            sc.METRIC_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streamed GenAI response.",
            explicit_bucket_boundaries_advisory=list(sc.DURATION_BUCKETS),
        ),
        tokens=meter.create_counter(
            sc.METRIC_TT_TOKENS,
            unit="{token}",
            description="Tokens used, by gen_ai.token.type (input, output, cache_read, cache_write, reasoning).",
        ),
        cost=meter.create_counter(
            sc.METRIC_TT_COST,
            unit="USD",
            description="Cost of GenAI operations in US dollars, from tokentrace's price catalog.",
        ),
        calls=meter.create_counter(
            sc.METRIC_TT_CALLS,
            unit="{call}",
            description="GenAI operations, by tokentrace.cost.status (priced, unknown_model, ...) and outcome.",
        ),
    )
