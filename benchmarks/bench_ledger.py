"""The spend ledger's cost: per call on the app's thread, and report / focus over a million calls.

``python benchmarks/bench_ledger.py`` (add ``--quick`` for a smoke run). Three measurements:

1. **App thread**: ``LedgerWriter.after_call`` — what the application's thread pays per completed
   call (the target is at most 2 µs). The writer's thread is kept parked so it cannot take the
   GIL in the middle of the loop; its own work is measured separately (2).
2. **Writer thread**: folding queued calls into cells (pricing each token type) and writing them
   to SQLite, per call — off the app's thread, reported for capacity planning.
3. **FinOps side**: a ledger holding one million calls (7 days of minute buckets, 5 teams × 4
   models, ~600,000 rows) read back with ``read_rows``, turned into a report, and exported as
   FOCUS rows and CSV (the target is a few seconds each).

Times are CPU time of the process (``time.process_time``), as in ``run.py``: on the shared
benchmark machine wall time mostly measures the neighbours.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import List

from tokentrace.core.config import Config
from tokentrace.core.pipeline import NO_ATTRIBUTION, Call
from tokentrace.focus import columns_for, focus_rows
from tokentrace.focus.write import write_csv
from tokentrace.ledger import store
from tokentrace.ledger.reader import read_rows
from tokentrace.ledger.writer import LedgerWriter
from tokentrace.pricing import load_catalog
from tokentrace.records.call import CallRecord, Usage
from tokentrace.report import build, render_text


class _Attribution:
    values = {"team": "search", "feature": "autocomplete"}
    span_attributes = {"tokentrace.team": "search", "tokentrace.feature": "autocomplete"}
    metric_attributes = {"tokentrace.team": "search", "tokentrace.feature": "autocomplete"}


def _calls(n: int, prices) -> List[Call]:
    calls = []
    for i in range(n):
        record = CallRecord("openai", "chat", "gpt-4o-mini", server_address="api.openai.com", response_model="gpt-4o-mini-2024-07-18")
        record.usage = Usage(input_tokens=1200, cache_read_tokens=1024, output_tokens=300)
        call = Call(record, _Attribution() if i % 2 else NO_ATTRIBUTION)
        call.cost = prices.cost(record, call.start_time)
        call.rerouted = False
        calls.append(call)
    return calls


def bench_app_thread(rounds: int, per_round: int) -> None:
    prices = load_catalog(Config())
    with tempfile.TemporaryDirectory() as tmp:
        writer = LedgerWriter(os.path.join(tmp, "ledger.sqlite"), prices)
        writer._thread = threading.current_thread()  # parked: after_call never starts the real thread
        calls = _calls(per_round, prices)
        samples = []
        for _ in range(rounds):
            writer._pending.clear()
            after_call = writer.after_call
            started = time.process_time_ns()
            for call in calls:
                after_call(call)
            samples.append((time.process_time_ns() - started) / per_round / 1000)
        print(f"app thread   LedgerWriter.after_call: median {statistics.median(samples):.3f} µs/call, best {min(samples):.3f} (target <= 2 µs)")

        writer._pending.clear()
        for call in calls:
            writer._pending.append(call)
        started = time.process_time()
        assert writer.flush(60)
        elapsed = time.process_time() - started
        print(f"writer thread fold + SQLite write:   {elapsed / per_round * 1e6:.2f} µs/call ({per_round:,} calls in {elapsed:.2f} s, off the app's thread)")
        writer.close()


def _million_call_ledger(path: Path, days: int) -> int:
    teams = ["support", "search", "platform", "devtools", "ads"]
    models = [("gpt-4o-mini-2024-07-18", 0.15, 0.075, 0.6), ("gpt-4o-2024-08-06", 2.5, 1.25, 10), ("claude-sonnet-4-6", 3, 0.3, 15), ("gemini-2.5-flash", 0.3, 0.03, 2.5)]
    connection = store.connect(path)
    start = math.floor((time.time() - days * 86400) / 86400) * 86400
    calls = 0
    for minute in range(days * 1440):
        at = start + minute * 60
        cells = []
        for team in teams:
            for m, (model, rate_in, rate_read, rate_out) in enumerate(models):
                n = 5  # calls of this team and model in this minute
                calls += n
                dims = store.dimensions_text({"team": team, "feature": f"{team}-feature-{m}"})
                provider = "anthropic" if model.startswith("claude") else "gcp.gemini" if model.startswith("gemini") else "openai"
                base = (at, at + 60, provider, "", "", model, model)
                tail = ("priced", "provider", 0, dims)
                for token_type, tokens, rate, n_calls in (("input", 400 * n, rate_in, n), ("cache_read", 800 * n, rate_read, 0), ("output", 150 * n, rate_out, 0)):
                    usd = tokens * rate / 1e6
                    cells.append((base + (token_type,) + tail, (tokens, usd, usd, n_calls, 0)))
        store.add(connection, cells)
    connection.close()
    return calls


def bench_finops(days: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.sqlite"
        started = time.process_time()
        calls = _million_call_ledger(path, days)
        print(f"setup        ledger of {calls:,} calls written in {time.process_time() - started:.1f} s ({path.stat().st_size / 1e6:.0f} MB)")
        end = time.time() + 60
        begin = end - (days + 1) * 86400
        started = time.process_time()
        rows = read_rows(ledger=path, start=begin, end=end)
        read_s = time.process_time() - started
        print(f"finops       read_rows: {len(rows):,} rows in {read_s:.2f} s")
        prices = load_catalog(Config())
        started = time.process_time()
        data = build(rows, begin, end, previous=[], prices=prices)
        text = render_text(data)
        print(f"finops       report (build + tables): {time.process_time() - started:.2f} s, {len(text.splitlines())} lines; with reading: {read_s + time.process_time() - started:.2f} s")
        started = time.process_time()
        records = focus_rows(rows)
        write_csv(records, columns_for("1.3"), io.StringIO())
        print(f"finops       focus (rows + CSV): {len(records):,} FOCUS rows in {time.process_time() - started:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smoke run: few rounds, one day of ledger")
    args = parser.parse_args()
    bench_app_thread(rounds=3 if args.quick else 15, per_round=2_000 if args.quick else 20_000)
    bench_finops(days=1 if args.quick else 7)


if __name__ == "__main__":
    main()
