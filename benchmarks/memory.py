"""Memory over many calls: does anything tokentrace keeps per call outlive the call?

    .venv/bin/python benchmarks/memory.py                      # 100,000 calls of each kind
    .venv/bin/python benchmarks/memory.py --calls 20000        # shorter
    .venv/bin/python benchmarks/memory.py --tracemalloc        # also Python allocations (slower)
    .venv/bin/python benchmarks/memory.py --provider anthropic

Four kinds of call, each through the real SDK over ``httpx2.MockTransport`` (see run.py), with
``tokentrace.instrument()`` and the spend **ledger on** (a SQLite file in a temporary directory,
written by its thread as in production): ``non-streaming``, ``streaming`` (a stream read to its
end), ``early-closed`` (a stream closed after its first two chunks, the usage still unread) and
``async`` (non-streaming through the async client). After a warm-up, the process's RSS, the
number of live Python objects (``len(gc.get_objects())`` after a collection) and, with
``--tracemalloc``, the bytes Python has allocated, are sampled every tenth of the run. The slope
is a least-squares fit over the second half of the samples (the first half includes the
allocator's and SQLite's page cache warming up): memory that grows with the number of calls
shows up there, whatever the noise of a single sample.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import warnings
from typing import Callable, Dict, List, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run as bench  # noqa: E402

import tokentrace  # noqa: E402

KINDS = ("non-streaming", "streaming", "early-closed", "async")
STREAM_CHUNKS = 5
#: Growth per 10,000 calls below which a kind counts as flat (RSS moves in allocator arenas).
FLAT_RSS_KIB, FLAT_OBJECTS = 256.0, 200.0


def _calls(kind: str, provider: str) -> Callable[[int], None]:
    """A function making ``n`` calls of one kind."""
    if kind == "async":
        create = bench._create(bench.async_client(provider), provider, False)
        loop = asyncio.new_event_loop()

        async def many(n: int) -> None:
            for _ in range(n):
                await create()

        return lambda n: loop.run_until_complete(many(n))
    stream = kind != "non-streaming"
    create = bench._create(bench.sync_client(provider, STREAM_CHUNKS), provider, stream)

    def run(n: int) -> None:
        for _ in range(n):
            result = create()
            if kind == "streaming":
                for _chunk in result:
                    pass
            elif kind == "early-closed":
                iterator = iter(result)
                next(iterator)
                next(iterator)
                result.close()

    return run


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys over xs."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def measure(kind: str, provider: str, total: int, warmup: int, traced: bool) -> List[Dict[str, float]]:
    make = _calls(kind, provider)
    make(warmup)
    samples: List[Dict[str, float]] = []
    step = max(1, total // 10)
    for done in range(0, total + 1, step):
        if done:
            make(step)
        tokentrace.flush(timeout=10)  # the ledger's pending rows written, as at a collection
        gc.collect()
        sample = {"calls": done, "rss_mib": bench.rss_mib(), "objects": len(gc.get_objects())}
        if traced:
            sample["traced_mib"] = tracemalloc.get_traced_memory()[0] / 2**20
        samples.append(sample)
        print(f"  {kind}: {done:,} calls, RSS {sample['rss_mib']:.1f} MiB, {sample['objects']:,} objects", file=sys.stderr, flush=True)
    return samples


def report(results: Dict[str, List[Dict[str, float]]], provider: str, total: int) -> str:
    lines = [
        f"Memory over {total:,} {provider} calls of each kind, tokentrace with the ledger on "
        "(slopes: least squares over the second half of the samples, per 10,000 calls).",
        "",
        "| kind | RSS start → half → end MiB | RSS slope KiB/10k | live objects start → end | objects slope /10k | traced slope KiB/10k | flat |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for kind, all_samples in results.items():
        samples = all_samples[len(all_samples) // 2 :]
        xs = [s["calls"] / 10_000 for s in samples]
        rss = slope(xs, [s["rss_mib"] * 1024 for s in samples])
        objects = slope(xs, [s["objects"] for s in samples])
        traced = slope(xs, [s["traced_mib"] * 1024 for s in samples]) if "traced_mib" in samples[0] else None
        flat = rss <= FLAT_RSS_KIB and objects <= FLAT_OBJECTS and (traced is None or traced <= FLAT_RSS_KIB)
        lines.append(
            f"| {kind} | {all_samples[0]['rss_mib']:.1f} → {samples[0]['rss_mib']:.1f} → {samples[-1]['rss_mib']:.1f} | {rss:+.1f} | "
            f"{all_samples[0]['objects']:,} → {samples[-1]['objects']:,} | {objects:+.1f} | "
            f"{'—' if traced is None else f'{traced:+.1f}'} | {'✅' if flat else '❌'} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls of each kind after the warm-up")
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--provider", choices=("openai", "anthropic"), default="openai")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of " + ", ".join(KINDS))
    parser.add_argument("--tracemalloc", action="store_true", help="also sample tracemalloc's traced memory (slower)")
    args = parser.parse_args(list(argv))
    logging.getLogger("opentelemetry").setLevel(logging.ERROR)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    setup = bench.make_setup()
    results: Dict[str, List[Dict[str, float]]] = {}
    started = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        ledger = os.path.join(tmp, "spend.sqlite")
        tokentrace.instrument(tracer_provider=setup.tracer_provider, meter_provider=setup.meter_provider, ledger=ledger)
        if args.tracemalloc:
            tracemalloc.start()
        try:
            for kind in [k for k in args.kinds.split(",") if k]:
                if kind not in KINDS:
                    parser.error(f"unknown kind {kind!r}")
                results[kind] = measure(kind, args.provider, args.calls, args.warmup, args.tracemalloc)
        finally:
            tokentrace.uninstrument()
    print(report(results, args.provider, args.calls))
    print(f"\n({time.process_time() - started:.0f} s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
