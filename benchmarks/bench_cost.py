"""Time tokentrace's cost computation on the hot path: ``python benchmarks/bench_cost.py``.

The first call for a (provider, model) pair resolves the name against the catalog; every later
call is a dict lookup plus arithmetic on cached rates. The target is at most 5 µs per call.
"""

from __future__ import annotations

import time

from tokentrace.core.config import Config
from tokentrace.core.record import CallRecord, Usage
from tokentrace.pricing import load_catalog

ITERATIONS = 200_000


def bench(name: str, record: CallRecord, at: float) -> None:
    catalog = load_catalog(Config())
    started = time.perf_counter()
    catalog.cost(record, at)
    first = time.perf_counter() - started
    cost = catalog.cost
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(ITERATIONS):
            cost(record, at)
        best = min(best, (time.perf_counter() - started) / ITERATIONS)
    print(f"{name:<48} first lookup {first * 1e6:8.1f} µs   then {best * 1e6:5.2f} µs/call")


def main() -> None:
    now = time.time()
    started = time.perf_counter()
    load_catalog(Config())
    print(f"load_catalog (parse built-in TOML, once per process) {(time.perf_counter() - started) * 1e3:.1f} ms")
    bench("openai gpt-4o snapshot, cached input", CallRecord("openai", "chat", "gpt-4o", response_model="gpt-4o-2024-08-06",
          usage=Usage(input_tokens=2006, cache_read_tokens=1920, output_tokens=300)), now)
    bench("openai gpt-5.4 long-context tier + flex", CallRecord("openai", "chat", "gpt-5.4", service_tier="flex",
          usage=Usage(input_tokens=300_000, cache_read_tokens=100_000, output_tokens=2000, reasoning_tokens=1500)), now)
    bench("anthropic sonnet 4.5, 5m + 1h cache writes", CallRecord("anthropic", "chat", "claude-sonnet-4-5-20250929",
          usage=Usage(input_tokens=102_050, cache_read_tokens=100_000, cache_write_tokens=2000, cache_write_long_tokens=500, output_tokens=1000)), now)
    bench("bedrock us. profile (regional premium)", CallRecord("aws.bedrock", "chat", "us.anthropic.claude-haiku-4-5-20251001-v1:0",
          usage=Usage(input_tokens=1000, output_tokens=1000)), now)
    bench("o3 with price history (date lookup)", CallRecord("openai", "chat", "o3", usage=Usage(input_tokens=1000, output_tokens=1000)), now)
    bench("unknown model (no cost)", CallRecord("openai", "chat", "not-a-model", usage=Usage(input_tokens=1, output_tokens=1)), now)


if __name__ == "__main__":
    main()
