"""Many processes writing one ledger file at once: every call is in it, exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tokentrace.ledger import read_rows

WORKER = Path(__file__).with_name("ledger_worker.py")
PROCESSES = 4
CALLS = 40


def _run(server, ledger: Path, calls: int, count: int):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parents[2] / "src"), os.environ.get("PYTHONPATH")])))
    env.pop("TOKENTRACE_LEDGER", None)
    return [
        subprocess.Popen([sys.executable, str(WORKER), server.openai_url, str(ledger), str(calls)], env=env)
        for _ in range(count)
    ]


def test_concurrent_writers_lose_nothing(server, tmp_path: Path) -> None:
    single = tmp_path / "single.sqlite"
    assert [p.wait(60) for p in _run(server, single, 1, 1)] == [0]
    one = {r.token_type: r.tokens for r in read_rows(ledger=single, start=0, end=time.time() + 3600)}
    assert one["input"] > 0 and one["output"] > 0

    shared = tmp_path / "shared.sqlite"
    assert [p.wait(120) for p in _run(server, shared, CALLS, PROCESSES)] == [0] * PROCESSES
    rows = read_rows(ledger=shared, start=0, end=time.time() + 3600)
    total = PROCESSES * CALLS
    assert sum(r.calls for r in rows) == total
    for token_type, tokens in one.items():
        assert sum(r.tokens for r in rows if r.token_type == token_type) == total * tokens
    assert {r.dimensions["team"] for r in rows} == {f"team-{CALLS % 3}"}
