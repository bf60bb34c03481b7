"""The borrowed span: one real span ended once, by whichever of its two users is done last.

The SDK-level tests (tests/providers/anthropic/test_anthropic_native_tracing.py) drive it through
the anthropic SDK; these pin the orderings that the SDK does not let a test choose.
"""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tokentrace.core.borrowed import BorrowedSpan


def _span():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("sdk").start_span("anthropic.messages.create", start_time=1_000), exporter


def test_owner_ends_first_then_tokentrace_annotates_and_the_span_ends_once_at_the_later_time():
    real, exporter = _span()
    owner_view = BorrowedSpan(real)
    owner_view.set_attribute("error.type", "rate_limit_error")
    owner_view.end(end_time=5_000)
    assert not owner_view.is_recording()  # the owner sees its span as ended
    owner_view.set_attribute("late", 1)  # dropped, as on an ended span
    assert exporter.get_finished_spans() == ()  # still open for tokentrace
    owner_view.annotate({"error.type": "anthropic.RateLimitError", "tokentrace.cost.status": "no_usage"})
    owner_view.settle(7_000)
    (span,) = exporter.get_finished_spans()
    assert dict(span.attributes) == {"error.type": "rate_limit_error", "tokentrace.cost.status": "no_usage"}
    assert span.end_time == 7_000
    assert owner_view.added == {"tokentrace.cost.status"}


def test_tokentrace_settles_first_and_the_owners_later_writes_win():
    real, exporter = _span()
    owner_view = BorrowedSpan(real)
    owner_view.annotate({"gen_ai.usage.output_tokens": 1, "tokentrace.usage.source": "provider"})
    owner_view.settle(3_000)
    assert exporter.get_finished_spans() == ()  # the owner is not done yet
    owner_view.set_attribute("gen_ai.usage.output_tokens", 5)
    owner_view.end(end_time=4_000)
    owner_view.end(end_time=9_000)  # a second end changes nothing
    (span,) = exporter.get_finished_spans()
    assert span.attributes["gen_ai.usage.output_tokens"] == 5
    assert span.end_time == 4_000
    assert owner_view.added == {"tokentrace.usage.source"}


def test_settle_alone_ends_a_span_the_owner_never_ends():
    real, exporter = _span()
    owner_view = BorrowedSpan(real)
    owner_view.settle(2_000, alone=True)
    (span,) = exporter.get_finished_spans()
    assert span.end_time == 2_000
    owner_view.set_attribute("after", True)  # the owner's writes after that are dropped
    owner_view.end()
    assert len(exporter.get_finished_spans()) == 1 and "after" not in exporter.get_finished_spans()[0].attributes


def test_the_owner_is_told_when_it_ends_first():
    real, _ = _span()
    told = []
    owner_view = BorrowedSpan(real, lambda: told.append("owner ended"))
    owner_view.end()
    owner_view.end()
    assert told == ["owner ended"]
    settled = BorrowedSpan(_span()[0], lambda: told.append("not told"))
    settled.settle(10)
    settled.end()
    assert told == ["owner ended"]
