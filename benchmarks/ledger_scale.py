"""``tokentrace report`` and ``tokentrace focus`` over a one-million-row spend ledger.

    .venv/bin/python benchmarks/ledger_scale.py                 # 1,000,000 rows, 28 days
    .venv/bin/python benchmarks/ledger_scale.py --rows 100000   # smaller, quicker
    .venv/bin/python benchmarks/ledger_scale.py --keep /tmp/ledger-1m.sqlite   # reuse the file next time

Why this exists: a fleet's ledger grows by one row per (minute, model, token type, attribution)
cell, so a month of a busy fleet is about a million rows, and FinOps runs ``report`` and
``focus`` over it. The issue (#16) asks for "a few seconds" each.

The ledger is built with the real writer's schema (``tokentrace.ledger.store.connect`` creates
the file; rows go in through ``store.add``, the writer's own upsert) and is shaped like a fleet,
not like a grid: 28 days of minute buckets; 16 teams with 2–5 features each, workflows and an
``env`` tag (~160 attribution combinations, Zipf-distributed traffic, a daily cycle); ten models
on five providers (OpenAI, Anthropic, Gemini, Bedrock, an unpriced in-house model); uncached
input, cache reads and writes, output and reasoning rows; some estimated usage, reroutes, a
service tier and budget-blocked calls. Seeded, so every run builds the same file.

Each command runs as the user runs it — a fresh ``python -m tokentrace`` process, which includes
the interpreter start and imports — and is timed in wall time *and* CPU time (user + system of
the child, from ``resource.getrusage``): the benchmark machine is shared, and wall time there
mostly measures the neighbours. Peak RSS of the child is printed too (the memory bound).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from tokentrace.ledger import store  # noqa: E402

DAY = 86400
#: model -> (provider, host, $ per 1M tokens: input, cache read, cache write 5m, output, reasoning model?)
MODELS: Tuple[Tuple[str, str, str, float, float, float, float, bool], ...] = (
    ("gpt-4o-mini-2024-07-18", "openai", "api.openai.com", 0.15, 0.075, 0.0, 0.6, False),
    ("gpt-4o-2024-08-06", "openai", "api.openai.com", 2.5, 1.25, 0.0, 10.0, False),
    ("o4-mini-2025-04-16", "openai", "api.openai.com", 1.1, 0.275, 0.0, 4.4, True),
    ("gpt-4.1-2025-04-14", "openai", "api.openai.com", 2.0, 0.5, 0.0, 8.0, False),
    ("claude-sonnet-4-5-20250929", "anthropic", "api.anthropic.com", 3.0, 0.3, 3.75, 15.0, False),
    ("claude-haiku-4-5-20251001", "anthropic", "api.anthropic.com", 1.0, 0.1, 1.25, 5.0, False),
    ("gemini-2.5-flash", "gcp.gemini", "generativelanguage.googleapis.com", 0.3, 0.03, 0.0, 2.5, False),
    ("gemini-2.5-pro", "gcp.gemini", "generativelanguage.googleapis.com", 1.25, 0.31, 0.0, 10.0, False),
    ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "aws.bedrock", "bedrock-runtime.us-east-1.amazonaws.com", 0.8, 0.08, 1.0, 4.0, False),
    ("acme-internal-70b", "openai", "llm.acme.internal", 0.0, 0.0, 0.0, 0.0, False),  # no price: unknown_model
)
TEAMS = (
    "search", "support", "ads", "platform", "devtools", "checkout", "growth", "risk",
    "data", "mobile", "billing", "legal", "hr", "infra", "research", "security",
)


def _combinations(rng: random.Random) -> List[Tuple[str, Tuple[int, ...], float]]:
    """(dimensions text, model indexes, traffic weight) per attribution combination."""
    combos = []
    for t, team in enumerate(TEAMS):
        for f in range(2 + t % 4):
            feature = f"{team}-{('chat', 'summarize', 'classify', 'extract', 'draft')[f]}"
            for w in range(1 + (t + f) % 3):
                dims = {"team": team, "feature": feature}
                if w:
                    dims["workflow"] = f"{feature}-flow-{w}"
                dims["tag.env"] = "prod" if (t + f + w) % 5 else "staging"
                models = tuple(sorted(rng.sample(range(len(MODELS) - 1), 1 + (t + w) % 3)))
                if team == "research" and f == 0:
                    models += (len(MODELS) - 1,)  # the in-house model nobody priced
                combos.append((store.dimensions_text(dims), models, 1.0 / (len(combos) + 1) ** 0.9))
    return combos


def _cells(at: float, combo: Tuple[str, Tuple[int, ...], float], m: int, rng: random.Random) -> List[Tuple[Tuple[Any, ...], Tuple[Any, ...]]]:
    dims, _, _ = combo
    model, provider, host, rate_in, rate_read, rate_write, rate_out, reasoning = MODELS[m]
    calls = 1 + int(rng.expovariate(0.5))
    estimated = rng.random() < 0.03
    rerouted = m == 0 and rng.random() < 0.05  # asked for gpt-4o, got the mini one
    request_model = "gpt-4o" if rerouted else model.split("-20")[0] if "-20" in model and not provider == "aws.bedrock" else model
    tier = "flex" if provider == "openai" and rng.random() < 0.04 else ""
    status = "unknown_model" if rate_in == 0 else "priced"
    discount = 0.85 if provider == "openai" else 1.0  # a negotiated discount: effective below list
    prompt = calls * rng.randint(200, 4000)
    read = int(prompt * rng.random() * 0.7) if rng.random() < 0.6 and rate_read else 0
    write = int(prompt * 0.1) if rate_write and rng.random() < 0.2 else 0
    parts = [("input", prompt - read - write, rate_in, calls), ("cache_read", read, rate_read, 0), ("cache_write_5m", write, rate_write, 0)]
    output = calls * rng.randint(20, 900)
    parts.append(("output", output, rate_out, 0))
    cells = []
    base = (at, at + 60, provider, host, tier, request_model, model)
    tail = (status, "estimate" if estimated else "provider", 1 if rerouted else 0, dims)
    for token_type, tokens, rate, n in parts:
        if tokens <= 0 and token_type != "input":
            continue
        usd = None if status != "priced" else tokens * rate / 1e6
        cells.append((base + (token_type,) + tail, (tokens, usd, None if usd is None else usd * discount, n, 1 if n and rng.random() < 0.002 else 0)))
    if reasoning:
        cells.append((base + ("reasoning",) + tail, (int(output * 0.6), 0.0, 0.0, 0, 0)))
    return cells


def build_ledger(path: Path, rows: int, days: int, end: float, seed: int = 16) -> int:
    """Write a ledger of about ``rows`` rows over the ``days`` days before ``end``; returns the row count."""
    rng = random.Random(seed)
    combos = _combinations(rng)
    pairs = [(c, m) for c in combos for m in c[1]]
    weights = [c[2] / len(c[1]) for c, _ in pairs]
    minutes = days * 1440
    start = end - days * DAY
    connection = store.connect(path)
    batch: List[Tuple[Any, ...]] = []
    written = draws = 0
    per_draw = 2.0  # rows per draw of a (combination, model), re-estimated as the file grows
    for minute in range(minutes):
        at = float(start + minute * 60)
        hour = (minute // 60) % 24
        cycle = (0.35 + 1.3 * math.exp(-((hour - 14) ** 2) / 18.0)) / 0.757  # office hours, UTC; mean 1
        wanted = (rows - written) / (minutes - minute) / per_draw
        active = max(1, round(rng.gauss(wanted * cycle, 1.0)))
        chosen = {rng.choices(range(len(pairs)), weights)[0] for _ in range(active)}
        draws += active
        for index in chosen:
            combo, m = pairs[index]
            cells = _cells(at, combo, m, rng)
            batch.extend(cells)
            written += len(cells)
        per_draw = written / draws
        if len(batch) >= 50_000:
            store.add(connection, batch)
            batch = []
    store.add(connection, batch)
    count = connection.execute("SELECT count(*) FROM spend").fetchone()[0]
    connection.close()
    return count


def timed(argv: Sequence[str], env: dict) -> Tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MiB, stderr) of one fresh ``python -m tokentrace`` process."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "tokentrace", *argv], env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().strip()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}):\n{text}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="ledger rows to build (default 1,000,000)")
    parser.add_argument("--days", type=int, default=28, help="days of minute buckets (default 28)")
    parser.add_argument("--keep", metavar="FILE", help="build the ledger here and reuse it when it exists")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; the best CPU time is reported (default 3)")
    args = parser.parse_args()

    # The ledger ends at the last UTC midnight, so `--start/--end` cover it exactly and every run sees the same rows.
    end = math.floor(time.time() / DAY) * DAY
    tmp = tempfile.TemporaryDirectory()
    path = Path(args.keep) if args.keep else Path(tmp.name) / "ledger.sqlite"
    if path.exists():
        connection = store.connect(path, create=False)
        count = connection.execute("SELECT count(*) FROM spend").fetchone()[0]
        end = connection.execute("SELECT max(period_end) FROM spend").fetchone()[0]
        connection.close()
        print(f"ledger   reusing {path}: {count:,} rows")
    else:
        started, cpu = time.perf_counter(), time.process_time()
        count = build_ledger(path, args.rows, args.days, end)
        print(f"ledger   {count:,} rows built in {time.perf_counter() - started:.1f} s wall / {time.process_time() - cpu:.1f} s CPU")
    connection = store.connect(path, create=False)
    first = connection.execute("SELECT min(period_start) FROM spend").fetchone()[0]
    (calls,) = connection.execute("SELECT sum(calls) FROM spend").fetchone()
    connection.close()
    print(f"ledger   {path.stat().st_size / 1e6:.0f} MB, {calls:,} calls, {(end - first) / DAY:.0f} days")

    day = lambda t: datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d")  # noqa: E731
    half = first + (end - first) // 2 // DAY * DAY
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), TOKENTRACE_BUDGETS="", TOKENTRACE_ANOMALY="")
    out = Path(tmp.name)
    commands = {
        # the second half, against the first half as the previous period: every row is read
        "report": ["report", "--ledger", str(path), "--start", day(half), "--end", day(end)],
        "report --html": ["report", "--ledger", str(path), "--start", day(half), "--end", day(end), "--html", str(out / "r.html")],
        "focus CSV": ["focus", "--ledger", str(path), "--start", day(first), "--end", day(end), "-o", str(out / "f.csv")],
        "focus Parquet": ["focus", "--ledger", str(path), "--start", day(first), "--end", day(end), "-o", str(out / "f.parquet")],
        "focus 1.0 CSV": ["focus", "--ledger", str(path), "--start", day(first), "--end", day(end), "-o", str(out / "f10.csv"), "--focus-version", "1.0"],
    }
    load = os.getloadavg()
    print(f"machine  {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (shared machine: compare CPU time)")
    print(f"{'command':<16} {'CPU s (best)':>12} {'wall s (best)':>13} {'peak RSS MiB':>12}  output")
    for name, argv in commands.items():
        runs = [timed(argv, env) for _ in range(args.repeat)]
        best_cpu = min(r[1] for r in runs)
        best_wall = min(r[0] for r in runs)
        rss = max(r[2] for r in runs)
        print(f"{name:<16} {best_cpu:>12.2f} {best_wall:>13.2f} {rss:>12.0f}  {runs[-1][3].splitlines()[-1][:90] if runs[-1][3] else ''}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
