"""tokentrace's overhead against the uninstrumented call and against the floor; one command.

    .venv/bin/python benchmarks/run.py            # full run (a few minutes; 100,000-call memory run)
    .venv/bin/python benchmarks/run.py --quick    # smoke run (seconds), same table

Every scenario drives the real ``openai`` / ``anthropic`` SDK over ``httpx2.MockTransport``
(canned, realistic bodies; no sockets). Three variants run interleaved, in rotating order, in
each round: ``baseline`` (nothing patched), ``floor`` (see floor.py) and ``tokentrace``
(``tokentrace.instrument()`` with its defaults). All three share one OpenTelemetry SDK setup: a
TracerProvider with a BatchSpanProcessor over an exporter that drops spans, and a MeterProvider
with an in-memory reader. Per round a variant makes ``calls`` calls; its per-call time is the
batch time divided by ``calls``; its overhead in that round is that time minus the baseline's of
the same round; the table shows medians over the rounds.

Per-chunk overhead comes from two stream lengths: (overhead at LONG chunks - overhead at SHORT
chunks) / (LONG - SHORT), so the per-call start/end work cancels out.

Memory: 100,000 tokentrace-instrumented non-streaming OpenAI calls, RSS and live Python objects
sampled every 10,000 calls after a 5,000-call warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Sequence

import anthropic
import httpx2
import openai
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mock_wire  # noqa: E402
from floor import Floor  # noqa: E402

import tokentrace  # noqa: E402

VARIANTS = ("baseline", "floor", "tokentrace")
SHORT, LONG = 20, 220
MESSAGES = [{"role": "system", "content": "Answer in one sentence."}, {"role": "user", "content": "What is the capital of France?"}]
TARGET_RATIO, TARGET_CHUNK_US, TARGET_COST_US = 1.3, 2.0, 5.0
#: CPU time of the whole process (all threads, the span export thread included). Wall time on a
#: shared 2-core machine mostly measures the neighbours; CPU time is what instrumentation costs.
CLOCK = time.process_time_ns


class DropExporter(SpanExporter):
    """The backend stand-in: accepts and drops every batch, so export cost is the SDK's alone."""

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


@dataclass
class Setup:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    floor: Floor
    active: str = "baseline"

    def switch(self, variant: str) -> None:
        if variant == self.active:
            return
        if self.active == "floor":
            self.floor.uninstall()
        elif self.active == "tokentrace":
            tokentrace.uninstrument()
        if variant == "floor":
            self.floor.install()
        elif variant == "tokentrace":
            tokentrace.instrument(tracer_provider=self.tracer_provider, meter_provider=self.meter_provider)
        self.active = variant


def make_setup() -> Setup:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(DropExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return Setup(tracer_provider, meter_provider, Floor(tracer_provider, meter_provider))


# -- scenarios: one callable per call ---------------------------------------------------------------


def sync_client(provider: str, chunks: int = 0) -> Any:
    http = httpx2.Client(transport=mock_wire.TRANSPORTS[provider](chunks))
    if provider == "openai":
        return openai.OpenAI(api_key="sk-bench", base_url="https://api.openai.com/v1", http_client=http, max_retries=0)
    return anthropic.Anthropic(api_key="sk-ant-bench", base_url="https://api.anthropic.com", http_client=http, max_retries=0)


def async_client(provider: str, chunks: int = 0) -> Any:
    http = httpx2.AsyncClient(transport=mock_wire.TRANSPORTS[provider](chunks))
    if provider == "openai":
        return openai.AsyncOpenAI(api_key="sk-bench", base_url="https://api.openai.com/v1", http_client=http, max_retries=0)
    return anthropic.AsyncAnthropic(api_key="sk-ant-bench", base_url="https://api.anthropic.com", http_client=http, max_retries=0)


def _create(client: Any, provider: str, stream: bool) -> Callable[[], Any]:
    if provider == "openai":
        return lambda: client.chat.completions.create(model=mock_wire.OPENAI_MODEL, messages=MESSAGES, stream=stream)
    return lambda: client.messages.create(model=mock_wire.ANTHROPIC_MODEL, max_tokens=1024, system=MESSAGES[0]["content"], messages=MESSAGES[1:], stream=stream)


def sync_batch(provider: str, stream: bool, chunks: int = 0) -> Callable[[int], float]:
    create = _create(sync_client(provider, chunks), provider, stream)

    def run(calls: int) -> float:
        start = CLOCK()
        for _ in range(calls):
            result = create()
            if stream:
                for _chunk in result:
                    pass
        return (CLOCK() - start) / calls / 1000

    return run


def async_batch(provider: str, stream: bool, chunks: int = 0) -> Callable[[int], float]:
    create = _create(async_client(provider, chunks), provider, stream)
    loop = asyncio.new_event_loop()

    async def calls_(calls: int) -> None:
        for _ in range(calls):
            result = await create()
            if stream:
                async for _chunk in result:
                    pass

    def run(calls: int) -> float:
        start = CLOCK()
        loop.run_until_complete(calls_(calls))
        return (CLOCK() - start) / calls / 1000

    return run


class _AsyncReplay:
    __slots__ = ("_items",)

    def __init__(self, items: List[Any]) -> None:
        self._items = iter(items)

    def __aiter__(self) -> _AsyncReplay:
        return self

    async def __anext__(self) -> Any:
        for item in self._items:
            return item
        raise StopAsyncIteration


def _parsed_chunks(provider: str, chunks: int, with_usage: bool) -> List[Any]:
    """The SDK's own chunk objects for one stream, parsed once by the real SDK."""
    client = sync_client(provider, chunks)
    if provider == "openai":
        extra = {"stream_options": {"include_usage": True}} if with_usage else {}
        return list(client.chat.completions.create(model=mock_wire.OPENAI_MODEL, messages=MESSAGES, stream=True, **extra))
    return list(_create(client, provider, True)())


def replay_batch(setup: Setup, provider: str, is_async: bool, chunks: int) -> Callable[[int], float]:
    """Stream calls whose chunks the SDK already parsed: only per-chunk *instrumentation* work is left.

    The call goes through the real SDK and the variant's wrappers and proxies as usual; the
    SDK stream's chunk source is then swapped for the pre-parsed chunk objects, so the ~100 µs
    of JSON and pydantic work per chunk (and its noise) drops out of the difference. tokentrace
    asked for ``include_usage`` and so gets the chunks that carry it, the others do not.
    """
    plain, with_usage = _parsed_chunks(provider, chunks, False), _parsed_chunks(provider, chunks, True)
    create = _create((async_client if is_async else sync_client)(provider, chunks), provider, True)
    loop = asyncio.new_event_loop() if is_async else None

    def source() -> List[Any]:
        return with_usage if setup.active == "tokentrace" and provider == "openai" else plain

    async def calls_async(calls: int) -> None:
        for _ in range(calls):
            stream = await create()
            getattr(stream, "__wrapped__", stream)._iterator = _AsyncReplay(source())
            async for _chunk in stream:
                pass

    def run(calls: int) -> float:
        start = CLOCK()
        if loop is not None:
            loop.run_until_complete(calls_async(calls))
        else:
            for _ in range(calls):
                stream = create()
                getattr(stream, "__wrapped__", stream)._iterator = iter(source())
                for _chunk in stream:
                    pass
        return (CLOCK() - start) / calls / 1000

    return run


# -- measurement ------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    times: Dict[str, List[float]] = field(default_factory=lambda: {v: [] for v in VARIANTS})

    def median(self, variant: str) -> float:
        return statistics.median(self.times[variant])

    def overhead(self, variant: str) -> float:
        return statistics.median(a - b for a, b in zip(self.times[variant], self.times["baseline"], strict=True))


def measure(setup: Setup, name: str, batch: Callable[[int], float], calls: int, rounds: int) -> Result:
    result = Result(name)
    for variant in VARIANTS:  # warm-up: imports, pydantic caches, price catalog
        setup.switch(variant)
        batch(max(3, calls // 4))
    for r in range(rounds):
        order = VARIANTS[r % 3:] + VARIANTS[: r % 3]
        for variant in order:
            setup.switch(variant)
            gc.collect()
            result.times[variant].append(batch(calls))
    setup.switch("baseline")
    return result


def cost_lookup_us(setup: Setup, repeats: int) -> float:
    """Median time of one price lookup as the pipeline makes it (catalog already loaded)."""
    from tokentrace.instrumentation import active_pipeline
    from tokentrace.records.call import CallRecord, Usage

    setup.switch("tokentrace")
    pipeline = active_pipeline()
    assert pipeline is not None
    record = CallRecord(provider="openai", operation="chat", request_model="gpt-4o", response_model="gpt-4o-2024-08-06",
                        usage=Usage(input_tokens=1117, output_tokens=46, cache_read_tokens=1024))
    now = time.time()
    samples = []
    for _ in range(repeats):
        start = CLOCK()
        for _ in range(1000):
            pipeline.prices.cost(record, now)
        samples.append((CLOCK() - start) / 1000 / 1000)
    setup.switch("baseline")
    return statistics.median(samples)


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_run(setup: Setup, total: int) -> List[Dict[str, float]]:
    batch = sync_batch("openai", False)
    setup.switch("tokentrace")
    batch(5000)
    samples = []
    step = max(1, total // 10)
    for done in range(0, total + 1, step):
        if done:
            batch(step)
        gc.collect()
        samples.append({"calls": done, "rss_mib": rss_mib(), "objects": len(gc.get_objects())})
    setup.switch("baseline")
    return samples


# -- report -----------------------------------------------------------------------------------------


def table(results: List[Result], chunk_rows: List[Dict[str, Any]], cost_us: float, memory: List[Dict[str, float]], args: argparse.Namespace) -> str:
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"openai {openai.__version__}, anthropic {anthropic.__version__}; {args.rounds} rounds x {args.calls} calls (streams: {args.stream_calls}).",
        "",
        "| scenario | baseline µs/call | floor overhead µs | tokentrace overhead µs | ratio (target ≤ 1.3) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        floor, ours = r.overhead("floor"), r.overhead("tokentrace")
        ratio = ours / floor if floor > 0 else float("nan")
        mark = "" if "stream" in r.name else (" ✅" if ratio <= TARGET_RATIO else " ❌")
        lines.append(f"| {r.name} | {r.median('baseline'):.1f} | {floor:.1f} | {ours:.1f} | {ratio:.2f}{mark} |")
    lines += ["", "| stream, per chunk | floor µs/chunk | tokentrace µs/chunk (target ≤ 2) |", "|---|---:|---:|"]
    for row in chunk_rows:
        mark = " ✅" if row["tokentrace"] <= TARGET_CHUNK_US else " ❌"
        lines.append(f"| {row['name']} | {row['floor']:.2f} | {row['tokentrace']:.2f}{mark} |")
    lines += ["", f"Cost lookup (pipeline's catalog, gpt-4o snapshot with cached input): {cost_us:.2f} µs"
              f"{' ✅' if cost_us <= TARGET_COST_US else ' ❌'} (target ≤ 5 µs)"]
    if memory:
        lines += ["", "| calls (tokentrace, OpenAI non-streaming) | RSS MiB | live Python objects |", "|---:|---:|---:|"]
        lines += [f"| {m['calls']:,} | {m['rss_mib']:.1f} | {m['objects']:,} |" for m in memory]
        growth = memory[-1]["rss_mib"] - memory[1]["rss_mib"] if len(memory) > 1 else 0.0
        objects = memory[-1]["objects"] - memory[1]["objects"] if len(memory) > 1 else 0
        lines.append(f"\nGrowth from {memory[1]['calls']:,} to {memory[-1]['calls']:,} calls: {growth:+.1f} MiB RSS, {objects:+,} objects.")
    return "\n".join(lines)


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few rounds, no 100,000-call memory run")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200, help="calls per variant per round (non-streaming)")
    parser.add_argument("--stream-calls", type=int, default=20, help="streams per variant per round")
    parser.add_argument("--memory-calls", type=int, default=100_000)
    parser.add_argument("--only", default="", help="comma-separated scenario name filter (substring)")
    args = parser.parse_args(list(argv))
    if args.quick:
        args.rounds, args.calls, args.stream_calls, args.memory_calls = 3, 30, 4, 0
    logging.getLogger("opentelemetry").setLevel(logging.ERROR)
    # Event loops are left open until exit; their pending SSE-generator finalizers are harmless.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the SDK's model-deprecation notice
    setup = make_setup()

    scenarios = []
    for provider in ("openai", "anthropic"):
        scenarios += [
            (f"{provider} sync", sync_batch(provider, False), args.calls),
            (f"{provider} async", async_batch(provider, False), args.calls),
            (f"{provider} sync stream {SHORT} chunks", sync_batch(provider, True, SHORT), args.stream_calls),
            (f"{provider} sync stream {LONG} chunks", sync_batch(provider, True, LONG), args.stream_calls),
            (f"{provider} async stream {SHORT} chunks", async_batch(provider, True, SHORT), args.stream_calls),
            (f"{provider} async stream {LONG} chunks", async_batch(provider, True, LONG), args.stream_calls),
        ]
    for provider in ("openai", "anthropic"):
        for mode in ("sync", "async"):
            for chunks in (SHORT, LONG):
                scenarios.append((f"{provider} {mode} replayed stream {chunks} chunks", replay_batch(setup, provider, mode == "async", chunks), args.stream_calls * 3))
    wanted = [w for w in args.only.split(",") if w]
    results = []
    for name, batch, calls in scenarios:
        if wanted and not any(w in name for w in wanted):
            continue
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        results.append(measure(setup, name, batch, calls, args.rounds))
    by_name = {r.name: r for r in results}
    chunk_rows = []
    for provider in ("openai", "anthropic"):
        for mode in ("sync", "async", "sync replayed", "async replayed"):
            short, long_ = by_name.get(f"{provider} {mode} stream {SHORT} chunks"), by_name.get(f"{provider} {mode} stream {LONG} chunks")
            if short and long_:
                chunk_rows.append({"name": f"{provider} {mode}", **{v: (long_.overhead(v) - short.overhead(v)) / (LONG - SHORT) for v in ("floor", "tokentrace")}})
    cost_us = cost_lookup_us(setup, 5 if args.quick else 21)
    memory = memory_run(setup, args.memory_calls) if args.memory_calls else []
    print(table(results, chunk_rows, cost_us, memory, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
