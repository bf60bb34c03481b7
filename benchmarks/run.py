"""tokentrace's overhead against the uninstrumented call, the floor and the peers; one command.

    .venv/bin/python benchmarks/run.py            # full run (several minutes)
    .venv/bin/python benchmarks/run.py --quick    # smoke run (seconds), same table
    PYTHONPATH=src .ci-work/bench-peers-venv/bin/python benchmarks/run.py --peers   # with the peers

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

With ``--peers`` (run it with the venv ``benchmarks/install-peers.sh`` makes), the other
instrumentations (see peers.py) are more variants in the same rounds, and a second table says
what each variant records for one call. OpenLIT, which cannot be switched off again, runs in
worker processes of its own venv, still in the same rounds (see isolated.py).

Memory over 100,000 calls of each kind is benchmarks/memory.py (``--memory-calls N`` here runs
a short non-streaming one).
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
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import anthropic
import httpx2
import openai
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import instructions  # noqa: E402
import isolated  # noqa: E402
import mock_wire  # noqa: E402
import peers as peer_variants  # noqa: E402
from floor import Floor  # noqa: E402

import tokentrace  # noqa: E402

VARIANTS = ("baseline", "floor", "tokentrace")
SHORT, LONG = 20, 220
MESSAGES = [{"role": "system", "content": "Answer in one sentence."}, {"role": "user", "content": "What is the capital of France?"}]
#: Issue #19: overhead at most 1.15x the floor's, at most 1 us of tokentrace's own work per chunk.
TARGET_RATIO, TARGET_CHUNK_US, TARGET_COST_US = 1.15, 1.0, 5.0
#: CPU time of the whole process (all threads, the span export thread included). Wall time on a
#: shared 2-core machine mostly measures the neighbours; CPU time is what instrumentation costs.
#: ``TOKENTRACE_BENCH_CLOCK=thread`` measures the calling thread only (the span export thread left out).
CLOCK = time.thread_time_ns if os.environ.get("TOKENTRACE_BENCH_CLOCK") == "thread" else time.process_time_ns


class DropExporter(SpanExporter):
    """The backend stand-in: accepts and drops every batch, so export cost is the SDK's alone
    (``keep`` is set only to see what a variant records, outside the timed rounds)."""

    def __init__(self) -> None:
        self.keep: Optional[List[Any]] = None

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        if self.keep is not None:
            self.keep.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


@dataclass
class Setup:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    floor: Floor
    exporter: DropExporter
    reader: InMemoryMetricReader
    peers: Dict[str, Any] = field(default_factory=dict)
    active: str = "baseline"

    def switch(self, variant: str) -> None:
        if variant == self.active:
            return
        if self.active == "floor":
            self.floor.uninstall()
        elif self.active == "tokentrace":
            tokentrace.uninstrument()
        elif self.active in self.peers:
            self.peers[self.active].uninstall()
        if variant == "floor":
            self.floor.install()
        elif variant == "tokentrace":
            tokentrace.instrument(tracer_provider=self.tracer_provider, meter_provider=self.meter_provider)
        elif variant in self.peers:
            self.peers[variant].install(self.tracer_provider, self.meter_provider)
        self.active = variant

    def variants(self, provider: str) -> Tuple[str, ...]:
        """Baseline, floor, tokentrace, and the peers that instrument ``provider``."""
        return VARIANTS + tuple(name for name, peer in self.peers.items() if provider in peer.providers())


def make_setup() -> Setup:
    tracer_provider = TracerProvider()
    exporter = DropExporter()
    tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    return Setup(tracer_provider, meter_provider, Floor(tracer_provider, meter_provider), exporter, reader)


# -- scenarios: one callable per call ---------------------------------------------------------------


def sync_client(provider: str, chunks: int = 0) -> Any:
    http = httpx2.Client(transport=mock_wire.TRANSPORTS[provider](chunks))
    if provider == "openai":
        client = openai.OpenAI(api_key="sk-bench", base_url="https://api.openai.com/v1", http_client=http, max_retries=0)
    else:
        client = anthropic.Anthropic(api_key="sk-ant-bench", base_url="https://api.anthropic.com", http_client=http, max_retries=0)
    peer_variants.CLIENTS.append(client)
    return client


def async_client(provider: str, chunks: int = 0) -> Any:
    http = httpx2.AsyncClient(transport=mock_wire.TRANSPORTS[provider](chunks))
    if provider == "openai":
        client = openai.AsyncOpenAI(api_key="sk-bench", base_url="https://api.openai.com/v1", http_client=http, max_retries=0)
    else:
        client = anthropic.AsyncAnthropic(api_key="sk-ant-bench", base_url="https://api.anthropic.com", http_client=http, max_retries=0)
    peer_variants.CLIENTS.append(client)
    return client


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
    of JSON and pydantic work per chunk (and its noise) drops out of the difference. A request
    that asked for ``include_usage`` (tokentrace, the floor) gets the chunks that carry it, the
    others do not.
    """
    plain, with_usage = _parsed_chunks(provider, chunks, False), _parsed_chunks(provider, chunks, True)
    create = _create((async_client if is_async else sync_client)(provider, chunks), provider, True)
    loop = asyncio.new_event_loop() if is_async else None

    def source(inner: Any) -> List[Any]:
        if provider != "openai":
            return plain
        sent = inner.response.request.content
        return with_usage if b'"include_usage":true' in sent or b'"include_usage": true' in sent else plain

    async def calls_async(calls: int) -> None:
        for _ in range(calls):
            stream = await create()
            inner = getattr(stream, "__wrapped__", stream)
            inner._iterator = _AsyncReplay(source(inner))
            async for _chunk in stream:
                pass

    def run(calls: int) -> float:
        start = CLOCK()
        if loop is not None:
            loop.run_until_complete(calls_async(calls))
        else:
            for _ in range(calls):
                stream = create()
                inner = getattr(stream, "__wrapped__", stream)
                inner._iterator = iter(source(inner))
                for _chunk in stream:
                    pass
        return (CLOCK() - start) / calls / 1000

    return run


# -- measurement ------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    times: Dict[str, List[float]] = field(default_factory=dict)

    def median(self, variant: str) -> float:
        return statistics.median(self.times[variant])

    def overhead(self, variant: str) -> float:
        if variant not in self.times:
            return float("nan")
        baseline = self.times[isolated.BASELINE_OF.get(variant, "baseline")]  # a worker's: its own worker baseline
        return statistics.median(a - b for a, b in zip(self.times[variant], baseline, strict=True))


def measure(setup: Setup, name: str, batch: Callable[[int], float], calls: int, rounds: int, variants: Sequence[str] = VARIANTS) -> Result:
    result = Result(name, {v: [] for v in variants})
    variants = tuple(variants)
    for variant in variants:  # warm-up: imports, pydantic caches, price catalog
        setup.switch(variant)
        batch(max(3, calls // 4))
    for r in range(rounds):
        k = r % len(variants)
        order = variants[k:] + variants[:k]
        for variant in order:
            setup.switch(variant)
            gc.collect()
            result.times[variant].append(batch(calls))
    setup.switch("baseline")
    return result


def warm_calls(calls: int) -> int:
    """Calls of the uncounted warm-up batch before a counted one (``--instructions``)."""
    return max(3, calls // 2)


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


# -- what each variant records ---------------------------------------------------------------------


def records(setup: Setup, provider: str, variant: str) -> Dict[str, Any]:
    """One call and one stream under ``variant``: spans, their attributes, metric points."""
    exporter, reader = setup.exporter, setup.reader
    call, stream = _create(sync_client(provider), provider, False), _create(sync_client(provider, 3), provider, True)
    setup.switch(variant)  # after the clients exist: the anthropic-sdk peer configures each client
    setup.tracer_provider.force_flush()  # spans of earlier rounds out of the way
    before = _metric_points(reader)
    exporter.keep = []
    try:
        call()
        for _chunk in stream():
            pass
        setup.tracer_provider.force_flush()
        spans = list(exporter.keep)
    finally:
        exporter.keep = None
    after = _metric_points(reader)
    setup.switch("baseline")
    llm = [span for span in spans if span.kind.name == "CLIENT"]  # one LLM span per call, in call order
    call_span = llm[0] if llm else (spans[0] if spans else None)
    stream_span = llm[-1] if len(llm) > 1 else None
    attrs = dict(call_span.attributes or {}) if call_span is not None else {}
    stream_attrs = dict(stream_span.attributes or {}) if stream_span is not None else {}

    def has(prefixes: Sequence[str], values: Dict[str, Any]) -> bool:
        return any(any(k.startswith(p) for p in prefixes) for k in values)

    usage_keys = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")
    return {
        "spans": len(spans) / 2,
        "attributes": len(attrs),
        "cost": has(("tokentrace.cost.usd", "gen_ai.usage.cost", "llm.cost"), attrs),
        "cache": has(("gen_ai.usage.cache_read", "llm.token_count.prompt_details.cache_read", "gen_ai.usage.cache_read_input_tokens"), attrs),
        "stream_usage": any(k in stream_attrs for k in usage_keys),
        "metrics": sorted(name for name, points in after.items() if points > before.get(name, 0)),
    }


def _metric_points(reader: InMemoryMetricReader) -> Dict[str, float]:
    """Per metric, the sum of its points' counts or values (grows with every recorded point)."""
    totals: Dict[str, float] = {}
    data = reader.get_metrics_data()
    for resource in getattr(data, "resource_metrics", ()) or ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                total = 0.0
                for point in metric.data.data_points:
                    total += getattr(point, "count", None) or getattr(point, "value", 0) or 0
                totals[metric.name] = totals.get(metric.name, 0.0) + total
    return totals


# -- report -----------------------------------------------------------------------------------------


def table(results: List[Result], chunk_rows: List[Dict[str, Any]], cost_us: float, memory: List[Dict[str, float]], args: argparse.Namespace,
          peer_names: Sequence[str] = (), recorded: Optional[Dict[Tuple[str, str], Dict[str, Any]]] = None, notes: Sequence[str] = ()) -> str:
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"openai {openai.__version__}, anthropic {anthropic.__version__}; {args.rounds} rounds x {args.calls} calls (streams: {args.stream_calls}); "
        f"load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "Overhead per call over the uninstrumented SDK, µs of CPU (median of the rounds' differences):",
        "",
        "| scenario | baseline µs/call | floor | tokentrace | ratio (target ≤ 1.15) |" + "".join(f" {p} |" for p in peer_names) + (" below every peer |" if peer_names else ""),
        "|---|---:|---:|---:|---:|" + "---:|" * len(peer_names) + ("---|" if peer_names else ""),
    ]
    for r in results:
        floor, ours = r.overhead("floor"), r.overhead("tokentrace")
        ratio = ours / floor if floor > 0 else float("nan")
        mark = " ✅" if ratio <= TARGET_RATIO else " ❌"
        row = f"| {r.name} | {r.median('baseline'):.1f} | {floor:.1f} | {ours:.1f} | {ratio:.2f}{mark} |"
        peer_values = [r.overhead(p) for p in peer_names]
        for value in peer_values:
            row += " — |" if value != value else f" {value:.1f} |"
        measured = [v for v in peer_values if v == v]
        if peer_names:
            row += (" ✅ |" if ours < min(measured) else " ❌ |") if measured else " — |"
        lines.append(row)
    lines += ["", "| stream, per chunk | floor µs/chunk | tokentrace µs/chunk | tokentrace − floor µs/chunk (target ≤ 1) |", "|---|---:|---:|---:|"]
    for row in chunk_rows:
        own = row["tokentrace"] - row["floor"]
        mark = " ✅" if own <= TARGET_CHUNK_US else " ❌"
        lines.append(f"| {row['name']} | {row['floor']:.2f} | {row['tokentrace']:.2f} | {own:.2f}{mark} |")
    lines += ["", f"Cost lookup (pipeline's catalog, gpt-4o snapshot with cached input): {cost_us:.2f} µs"
              f"{' ✅' if cost_us <= TARGET_COST_US else ' ❌'} (target ≤ 5 µs)"]
    if recorded:
        lines += ["", "What each variant records for one call (non-streaming) and one 3-chunk stream:", "",
                  "| provider | variant | spans per call | span attributes | cost | cache tokens | stream usage | metrics |", "|---|---|---:|---:|---|---|---|---|"]
        for (provider, variant), rec in recorded.items():
            yes = lambda flag: "yes" if flag else "no"  # noqa: E731
            lines.append(f"| {provider} | {variant} | {rec['spans']:g} | {rec['attributes']} | {yes(rec['cost'])} | {yes(rec['cache'])} | "
                         f"{yes(rec['stream_usage'])} | {', '.join(rec['metrics']) or '—'} |")
    if notes:
        lines += [""] + [f"Note: {note}" for note in notes]
    if memory:
        lines += ["", "| calls (tokentrace, OpenAI non-streaming) | RSS MiB | live Python objects |", "|---:|---:|---:|"]
        lines += [f"| {m['calls']:,} | {m['rss_mib']:.1f} | {m['objects']:,} |" for m in memory]
        growth = memory[-1]["rss_mib"] - memory[1]["rss_mib"] if len(memory) > 1 else 0.0
        objects = memory[-1]["objects"] - memory[1]["objects"] if len(memory) > 1 else 0
        lines.append(f"\nGrowth from {memory[1]['calls']:,} to {memory[-1]['calls']:,} calls: {growth:+.1f} MiB RSS, {objects:+,} objects (full run: benchmarks/memory.py).")
    return "\n".join(lines)


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few rounds")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200, help="calls per variant per round (non-streaming)")
    parser.add_argument("--stream-calls", type=int, default=20, help="streams per variant per round")
    parser.add_argument("--memory-calls", type=int, default=0, help="a short memory run here (the full one: benchmarks/memory.py)")
    parser.add_argument("--only", default="", help="comma-separated scenario name filter (substring; =name for an exact name)")
    parser.add_argument("--peers", action="store_true", help="also measure the other instrumentations installed here (see peers.py)")
    parser.add_argument("--no-replay", action="store_true", help="leave out the replayed-stream scenarios")
    parser.add_argument("--instructions", action="store_true", help="instructions per call under callgrind instead of time (see instructions.py)")
    args = parser.parse_args(list(argv))
    if args.instructions and not instructions.under_callgrind():
        labels, counts = instructions.rerun_under_callgrind([os.path.abspath(__file__), *argv])
        counted_apart = isolated.count(labels, counts, instructions.rerun_under_callgrind) if args.peers else []
        peer_names = list(dict.fromkeys(label["variant"] for label in labels if label["variant"] not in VARIANTS))
        print(f"Python {platform.python_version()}, openai {openai.__version__}, anthropic {anthropic.__version__}; "
              f"{labels[0]['calls'] if labels else 0} calls per counted batch.\n")
        print(instructions.table(labels, counts, peer_names, SHORT, LONG, TARGET_RATIO))
        for note in counted_apart:
            print(f"\nNote: {note}")
        return 0
    if args.quick:
        args.rounds, args.calls, args.stream_calls, args.memory_calls = 3, 30, 4, 0
    logging.getLogger("opentelemetry").setLevel(logging.ERROR)
    # Event loops are left open until exit; their pending SSE-generator finalizers are harmless.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the SDK's model-deprecation notice
    setup = make_setup()
    notes: List[str] = []
    if args.peers:
        found, notes = peer_variants.available()
        setup.peers = peer_variants.by_name(found)
        if not args.instructions:  # --instructions counts the openlit workers apart (isolated.count)
            isolated.add_peers(setup.peers, notes)

    scenarios = []
    for provider in ("openai", "anthropic"):
        scenarios += [
            (provider, f"{provider} sync", sync_batch(provider, False), args.calls),
            (provider, f"{provider} async", async_batch(provider, False), args.calls),
            (provider, f"{provider} sync stream {SHORT} chunks", sync_batch(provider, True, SHORT), args.stream_calls),
            (provider, f"{provider} sync stream {LONG} chunks", sync_batch(provider, True, LONG), args.stream_calls),
            (provider, f"{provider} async stream {SHORT} chunks", async_batch(provider, True, SHORT), args.stream_calls),
            (provider, f"{provider} async stream {LONG} chunks", async_batch(provider, True, LONG), args.stream_calls),
        ]
    if not args.no_replay:
        for provider in ("openai", "anthropic"):
            for mode in ("sync", "async"):
                for chunks in (SHORT, LONG):
                    scenarios.append((provider, f"{provider} {mode} replayed stream {chunks} chunks", replay_batch(setup, provider, mode == "async", chunks), args.stream_calls * 3))
    wanted = [w for w in args.only.split(",") if w]

    def selected(name: str) -> bool:
        return not wanted or any(name == w[1:] if w.startswith("=") else w in name for w in wanted)

    if args.instructions:  # under callgrind (see instructions.py): end-to-end scenarios, few calls
        counted = [(p, n, b, c) for p, n, b, c in scenarios if selected(n) and "replayed" not in n]
        counted = [(p, n, b, 20 if c == args.calls else 3) for p, n, b, c in counted]
        instructions.measure_child(setup, counted, setup.variants, warm_calls)
        return 0

    results = []
    for provider, name, batch, calls in scenarios:
        if not selected(name):
            continue
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        variants = VARIANTS if "replayed" in name else setup.variants(provider)  # peers: end to end only
        results.append(measure(setup, name, isolated.routed(setup.peers, lambda: setup.active, name, batch), calls, args.rounds, variants))
    by_name = {r.name: r for r in results}
    chunk_rows = []
    for provider in ("openai", "anthropic"):
        for mode in ("sync", "async", "sync replayed", "async replayed"):
            short, long_ = by_name.get(f"{provider} {mode} stream {SHORT} chunks"), by_name.get(f"{provider} {mode} stream {LONG} chunks")
            if short and long_:
                chunk_rows.append({"name": f"{provider} {mode}", **{v: (long_.overhead(v) - short.overhead(v)) / (LONG - SHORT) for v in ("floor", "tokentrace")}})
    cost_us = cost_lookup_us(setup, 5 if args.quick else 21)
    recorded: Dict[Tuple[str, str], Dict[str, Any]] = {}
    if args.peers:
        for provider in ("openai", "anthropic"):
            for variant in isolated.shown(setup.variants(provider)[1:]):
                peer = setup.peers.get(variant)
                try:
                    recorded[(provider, variant)] = peer.records(provider) if isinstance(peer, isolated.WorkerPeer) else records(setup, provider, variant)
                except Exception as exc:  # a peer that fails on this SDK version: say so, go on
                    notes.append(f"{variant} on {provider}: could not record ({type(exc).__name__}: {exc})")
                    setup.switch("baseline")
    memory = memory_run(setup, args.memory_calls) if args.memory_calls else []
    notes += isolated.worker_status(setup.peers)
    print(table(results, chunk_rows, cost_us, memory, args, isolated.shown(list(setup.peers)), recorded, notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
