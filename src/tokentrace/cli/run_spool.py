"""The totals each process of a ``tokentrace run`` program leaves for the launcher to sum.

The program may be several Python processes (``multiprocessing`` with fork, spawn or forkserver,
``ProcessPoolExecutor``, ``subprocess`` running Python): each one is instrumented by the
bootstrap and, when it ends, writes its own totals as one small JSON file into the directory the
launcher named in ``TOKENTRACE_RUN_SPOOL``. No process prints a summary of its own; the launcher
sums the files and prints one. A forked child starts from zero (it inherited its parent's
totals, which the parent reports itself).
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any, Dict

from .summary import SummaryProcessor, Totals

SPOOL_ENV = "TOKENTRACE_RUN_SPOOL"


def _totals_to_dict(totals: Totals) -> Dict[str, Any]:
    return {f.name: getattr(totals, f.name) for f in fields(totals)}


def _add(into: Totals, data: Dict[str, Any]) -> None:
    for f in fields(into):
        value = data.get(f.name)
        if f.name == "tokens" and isinstance(value, dict):
            for key, count in value.items():
                if isinstance(count, int):
                    into.tokens[key] = into.tokens.get(key, 0) + count
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            setattr(into, f.name, getattr(into, f.name) + value)


def dump(summary: SummaryProcessor) -> Dict[str, Any]:
    with summary._lock:
        return {
            "overall": _totals_to_dict(summary.overall),
            "by_model": {k: _totals_to_dict(v) for k, v in summary.by_model.items()},
            "by_team": {k: _totals_to_dict(v) for k, v in summary.by_team.items()},
            "by_provider": {k: _totals_to_dict(v) for k, v in summary.by_provider.items()},
        }


def merge(summary: SummaryProcessor, data: Dict[str, Any]) -> None:
    _add(summary.overall, data.get("overall") or {})
    for name in ("by_model", "by_team", "by_provider"):
        table = getattr(summary, name)
        for key, totals in (data.get(name) or {}).items():
            _add(table[key], totals)


def reset(summary: SummaryProcessor) -> None:
    """A forked child's totals start from zero."""
    with summary._lock:
        summary.overall = Totals()
        summary.by_model.clear()
        summary.by_team.clear()
        summary.by_provider.clear()


def write(summary: SummaryProcessor, directory: str) -> None:
    """Write this process's totals (replacing what it wrote before); atomic by rename."""
    path = Path(directory) / f"{os.getpid()}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(dump(summary)), encoding="utf-8")
    os.replace(temporary, path)


def collect(directory: str) -> SummaryProcessor:
    """The sum of every process's totals."""
    summary = SummaryProcessor()
    for path in sorted(Path(directory).glob("*.json")):
        try:
            merge(summary, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return summary
