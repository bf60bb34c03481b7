"""Time tokentrace's pricing: ``python benchmarks/bench_cost.py`` (``--quick`` for a smoke run).

Three numbers, each with its target (issue #15):

* **catalog load** - what building the catalog adds to ``instrument()``: the curated overlay
  (TOML) and the base data converted from genai-prices (JSON, read lazily), in a fresh process so
  nothing is cached. Target <= 50 ms.
* **first lookup** - the first call for a (provider, model, host): resolving the name against the
  catalog (exact-name index, genai-prices' match rules, tokentrace's overlay and rules) and
  building the model's rate cards. Target <= 50 us; measured in a fresh process per model, so it
  is a real first one (after the process priced the other calls once: its code is warm). The
  first miss of each provider (a name no rule matches) is reported apart; ``bench_lookup.py``
  times first lookups over ~1,000 models.
* **cached cost** - every later call: a dict lookup and arithmetic on cached rates. Target <= 2 us.

CPU time (``time.process_time``) is reported beside wall time: the benchmark machine is a shared
2-core box where wall time mostly measures the neighbours.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import List, Tuple

from tokentrace.core.config import Config
from tokentrace.pricing import load_catalog
from tokentrace.records.call import CallRecord, Usage

TARGET_LOAD_MS = 50.0
TARGET_FIRST_US = 50.0
TARGET_CACHED_US = 2.0

LOAD_SNIPPET = """
import time
import tokentrace.pricing.catalog as c
from tokentrace.core.config import Config
wall, cpu = time.perf_counter(), time.process_time()
c.load_catalog(Config())
print((time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3)
"""

RECORDS: List[Tuple[str, CallRecord]] = [
    ("openai gpt-4o snapshot, cached input", CallRecord("openai", "chat", "gpt-4o", response_model="gpt-4o-2024-08-06",
     server_address="api.openai.com", usage=Usage(input_tokens=2006, cache_read_tokens=1920, output_tokens=300))),
    ("openai gpt-5.4 long-context tier + flex", CallRecord("openai", "chat", "gpt-5.4", service_tier="flex",
     usage=Usage(input_tokens=300_000, cache_read_tokens=100_000, output_tokens=2000, reasoning_tokens=1500))),
    ("anthropic sonnet 4.5, 5m + 1h cache writes", CallRecord("anthropic", "chat", "claude-sonnet-4-5-20250929",
     usage=Usage(input_tokens=102_050, cache_read_tokens=100_000, cache_write_tokens=2000, cache_write_long_tokens=500, output_tokens=1000))),
    ("bedrock us. profile (regional price)", CallRecord("aws.bedrock", "chat", "us.anthropic.claude-haiku-4-5-20251001-v1:0",
     server_address="bedrock-runtime.us-east-1.amazonaws.com", usage=Usage(input_tokens=1000, output_tokens=1000))),
    ("vertex claude, regional endpoint premium", CallRecord("gcp.vertex_ai", "chat", "claude-sonnet-4-5@20250929",
     server_address="us-east5-aiplatform.googleapis.com", usage=Usage(input_tokens=1000, output_tokens=1000))),
    ("gemini 2.5 pro priority (provider rule)", CallRecord("gcp.gemini", "chat", "gemini-2.5-pro", service_tier="priority",
     usage=Usage(input_tokens=1000, output_tokens=1000))),
    ("deepseek-chat (moved alias, time of day)", CallRecord("deepseek", "chat", "deepseek-chat", usage=Usage(input_tokens=1000, output_tokens=1000))),
    ("o3 with price history (date lookup)", CallRecord("openai", "chat", "o3", usage=Usage(input_tokens=1000, output_tokens=1000))),
    ("openrouter vendor/model (923-model provider)", CallRecord("openrouter", "chat", "anthropic/claude-sonnet-4.5",
     usage=Usage(input_tokens=1000, output_tokens=1000))),
    ("self-hosted gpt-4o on localhost (unpriced)", CallRecord("openai", "chat", "gpt-4o", server_address="127.0.0.1", server_port=8000,
     usage=Usage(input_tokens=1000, output_tokens=1000))),
    ("unknown model (no cost)", CallRecord("openai", "chat", "not-a-model", usage=Usage(input_tokens=1, output_tokens=1))),
]


def mark(value: float, target: float) -> str:
    return "ok" if value <= target else "OVER"


def catalog_load(rounds: int) -> None:
    walls, cpus = [], []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", LOAD_SNIPPET], capture_output=True, text=True, check=True).stdout.split()
        walls.append(float(out[0]))
        cpus.append(float(out[1]))
    cpu = statistics.median(cpus)
    print(f"catalog load (fresh process)           wall {statistics.median(walls):6.1f} ms   cpu {cpu:6.1f} ms   "
          f"target <= {TARGET_LOAD_MS:.0f} ms: {mark(cpu, TARGET_LOAD_MS)}")


FIRST_SNIPPET = """
import logging, pickle, sys, time
logging.getLogger("tokentrace").setLevel(logging.ERROR)
from tokentrace.core.config import Config
from tokentrace.records.call import CallRecord
from tokentrace.pricing import load_catalog
record, others = pickle.loads(sys.stdin.buffer.read())
now = time.time()
catalog = load_catalog(Config())
# A running app has priced other calls before it meets a new model: warm the code paths with the
# other benchmark calls and with a name of this provider that no rule matches.
for other in others:
    catalog.cost(other, now)
catalog.cost(CallRecord(record.provider, "chat", "warm-up-model-x", usage=record.usage), now)
wall, cpu = time.perf_counter(), time.process_time()
catalog.cost(record, now)
print((time.perf_counter() - wall) * 1e6, (time.process_time() - cpu) * 1e6)
"""


def first_lookup(record: CallRecord, rounds: int) -> Tuple[float, float]:
    """Median (wall, cpu) µs of the first cost of ``record`` in a fresh process that priced other models."""
    import pickle

    others = [r for _, r in RECORDS if r is not record]
    walls, cpus = [], []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", FIRST_SNIPPET], input=pickle.dumps((record, others)), capture_output=True, check=True).stdout
        wall, cpu = (float(v) for v in out.split())
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus)


def cached(record: CallRecord, iterations: int) -> float:
    """Best CPU µs per call over 5 runs of ``iterations`` cached costs."""
    now = time.time()
    catalog = load_catalog(Config())
    catalog.cost(record, now)
    cost = catalog.cost
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(iterations):
            cost(record, now)
        best = min(best, (time.process_time() - started) / iterations)
    return best * 1e6


def first_and_cached(rounds: int, iterations: int) -> None:
    for name, record in RECORDS:
        wall, cpu = first_lookup(record, rounds)
        per_call = cached(record, iterations)
        print(f"{name:<46} first {cpu:6.1f} us cpu ({wall:6.1f} wall) {mark(cpu, TARGET_FIRST_US):4}   "
              f"cached {per_call:5.2f} us {mark(per_call, TARGET_CACHED_US)}")


def first_miss() -> None:
    """A name no rule of the provider matches: every rule its anchors leave is tried (and compiled)."""
    catalog = load_catalog(Config())
    now = time.time()
    for provider in ("openai", "anthropic", "aws.bedrock", "openrouter"):
        cpu = time.process_time()
        catalog.cost(CallRecord(provider, "chat", "no-such-model-x", usage=Usage(input_tokens=1)), now)
        print(f"first miss of a provider ({provider:<11}, a name no rule matches; the first line is the process's first call) {(time.process_time() - cpu) * 1e6:8.1f} us cpu")


def main() -> None:
    import logging

    logging.getLogger("tokentrace").setLevel(logging.ERROR)  # unknown-model warnings are expected here
    quick = "--quick" in sys.argv
    catalog_load(3 if quick else 9)
    first_miss()
    first_and_cached(1 if quick else 7, 20_000 if quick else 200_000)


if __name__ == "__main__":
    main()
