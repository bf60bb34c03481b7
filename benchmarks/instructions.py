"""Instruction counts per call under callgrind: the comparison the machine's load cannot move.

    .venv/bin/python benchmarks/run.py --instructions                 # tokentrace, the floor
    PYTHONPATH=src .ci-work/bench-peers-venv/bin/python benchmarks/run.py --instructions --peers

Wall and CPU time on a shared 2-core box move by ±20 % from round to round; the number of
instructions a call executes does not (valgrind counts them exactly; it runs ~50× slower, so
this mode makes few calls). ``run.py --instructions`` re-runs itself under ``valgrind
--tool=callgrind`` with collection off, and each measured batch runs inside a ``qsort_r``
comparator (a ``ctypes`` callback; glibc's ``qsort`` calls ``qsort_r``, the function callgrind
sees): ``--toggle-collect=qsort_r`` counts exactly that batch and
``--dump-after=qsort_r`` writes its total to a file of its own. A dump without the ctypes
callback in it (a sort some library made) is skipped. Counted: the
calling thread (the app's), where instrumentation's cost lands; background threads (the span
exporter, the ledger writer) are not, so ``--ledger`` reports the writer's own work apart.

Per call = (instructions of the variant's batch − the baseline's batch) / calls, the garbage
collector off during the batch (``gc.collect()`` before) so collections do not land in one
variant's batch. Per chunk = (per call at LONG chunks − at SHORT chunks) / (LONG − SHORT).
"""

from __future__ import annotations

import ctypes
import gc
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Callable, Dict, List, Sequence, Tuple

ENV = "TOKENTRACE_BENCH_CALLGRIND_DIR"
_LIBC = ctypes.CDLL(None)
_CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_WORK: List[Callable[[], Any]] = []


def _compare(_a: Any, _b: Any) -> int:
    _WORK[-1]()
    return 0


_CALLBACK = _CMP(_compare)
_PAIR = (ctypes.c_int * 2)(1, 2)


def counted(work: Callable[[], Any]) -> None:
    """Run ``work`` once inside ``qsort`` (two elements: one comparison): callgrind counts it and dumps its total."""
    _WORK.append(work)
    try:
        _LIBC.qsort(_PAIR, 2, ctypes.sizeof(ctypes.c_int), _CALLBACK)
    finally:
        _WORK.pop()


def under_callgrind() -> bool:
    return bool(os.environ.get(ENV))


def rerun_under_callgrind(argv: Sequence[str], python: str = sys.executable) -> Tuple[List[Any], List[int]]:
    """Run this script (or another, with ``python``) under callgrind; the labels the child measured and their counts."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    out = tempfile.mkdtemp(prefix="tokentrace-callgrind-")
    command = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=qsort_r", "--dump-after=qsort_r",
               "--dump-instr=no", f"--callgrind-out-file={out}/cg.%p", python, *argv]
    env = {**os.environ, ENV: out, "PYTHONHASHSEED": "0"}
    subprocess.run(command, env=env, check=True, stderr=subprocess.DEVNULL)
    with open(os.path.join(out, "labels.json")) as handle:
        labels = json.load(handle)
    dumps = sorted(glob.glob(os.path.join(out, "cg.*.*")), key=lambda p: int(p.rsplit(".", 1)[1]))
    counts = []
    for path in dumps:
        with open(path, errors="replace") as handle:
            text = handle.read()
        if "_CallPythonObject" not in text:  # the interpreter's own qsort_r, not a batch
            continue
        match = re.search(r"^totals: (\d+)", text, re.M) or re.search(r"^summary: (\d+)", text, re.M)
        counts.append(int(match.group(1)) if match else 0)
    shutil.rmtree(out, ignore_errors=True)
    if len(counts) != len(labels):
        raise SystemExit(f"callgrind: {len(counts)} batches counted for {len(labels)} labels")
    return labels, counts


def measure_child(setup: Any, scenarios: Sequence[Tuple[str, str, Callable[[int], float], int]], variants_of: Callable[[str], Sequence[str]],
                  warm: Callable[[int], int]) -> None:
    """In the process under callgrind: each scenario's variants, one counted batch each."""
    labels: List[Dict[str, Any]] = []
    for provider, name, batch, calls in scenarios:
        print(f"counting {name} ...", file=sys.stderr, flush=True)
        for variant in variants_of(provider):
            setup.switch(variant)
            batch(warm(calls))
            gc.collect()
            gc.disable()
            try:
                counted(lambda batch=batch, calls=calls: batch(calls))
            finally:
                gc.enable()
            labels.append({"name": name, "variant": variant, "calls": calls})
        setup.switch("baseline")
    with open(os.path.join(os.environ[ENV], "labels.json"), "w") as handle:
        json.dump(labels, handle)


def table(labels: List[Dict[str, Any]], counts: List[int], peer_names: Sequence[str], short: int, long_: int, target: float) -> str:
    per: Dict[str, Dict[str, float]] = {}
    for label, count in zip(labels, counts, strict=True):
        per.setdefault(label["name"], {})[label["variant"]] = count / label["calls"]
    lines = ["Instructions per call added over the uninstrumented SDK (callgrind, calling thread; thousands):", "",
             "| scenario | baseline k | floor | tokentrace | ratio (target ≤ 1.15) |" + "".join(f" {p} |" for p in peer_names)
             + (" cheapest peer | below it |" if peer_names else ""),
             "|---|---:|---:|---:|---:|" + "---:|" * len(peer_names) + ("---|---|" if peer_names else "")]

    def added(name: str, variant: str) -> float:
        values = per.get(name, {})
        return values[variant] - values["baseline"] if variant in values else float("nan")

    for name, values in per.items():
        floor, ours = added(name, "floor"), added(name, "tokentrace")
        ratio = ours / floor if floor > 0 else float("nan")
        row = f"| {name} | {values['baseline'] / 1000:.1f} | {floor / 1000:.1f} | {ours / 1000:.1f} | {ratio:.2f}{' ✅' if ratio <= target else ' ❌'} |"
        peers = {p: added(name, p) for p in peer_names}
        row += "".join(" — |" if v != v else f" {v / 1000:.1f} |" for v in peers.values())
        measured = {p: v for p, v in peers.items() if v == v}
        if peer_names:
            if measured:
                cheapest = min(measured, key=lambda p: measured[p])
                row += f" {cheapest} {ours / measured[cheapest]:.2f}× | {'✅' if ours < measured[cheapest] else '❌'} |"
            else:
                row += " — | — |"
        lines.append(row)
    lines += ["", "| stream, per chunk | floor instructions/chunk | tokentrace | tokentrace − floor |", "|---|---:|---:|---:|"]
    for provider in ("openai", "anthropic"):
        for mode in ("sync", "async"):
            s, lg = f"{provider} {mode} stream {short} chunks", f"{provider} {mode} stream {long_} chunks"
            if s in per and lg in per:
                f, t = ((added(lg, v) - added(s, v)) / (long_ - short) for v in ("floor", "tokentrace"))
                lines.append(f"| {provider} {mode} | {f:.0f} | {t:.0f} | {t - f:+.0f} |")
    return "\n".join(lines)
