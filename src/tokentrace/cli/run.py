"""``tokentrace run -- python app.py``: instrument an unmodified program and summarise its spend.

The child interpreter is started with tokentrace's ``sitecustomize`` first on ``PYTHONPATH``;
it calls ``instrument()`` before the program's first line and prints the summary when the
program exits. The program's own exit code is returned unchanged.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

BOOTSTRAP_DIR = Path(__file__).with_name("bootstrap")


def child_command(command: List[str]) -> List[str]:
    if command and command[0].endswith(".py"):
        return [sys.executable, *command]
    return command


def with_own_environment(env: Dict[str, str]) -> Dict[str, str]:
    """Let ``python`` in the command mean the Python this tokentrace is installed in.

    ``.venv/bin/tokentrace run -- python app.py`` with the venv not activated would otherwise
    start the system's ``python``, which has no tokentrace. So the program gets this
    interpreter's ``bin`` directory first on its ``PATH``, as activating the venv would (only when
    it is not on ``PATH`` already). ``TOKENTRACE_RUN_PYTHON`` tells the child which interpreter to
    suggest if it still cannot import tokentrace.
    """
    own_bin = str(Path(sys.executable).parent)
    path = env.get("PATH", os.defpath).split(os.pathsep)
    if own_bin not in path:
        env["PATH"] = os.pathsep.join([own_bin, *path])
    env["TOKENTRACE_RUN_PYTHON"] = sys.executable
    return env


def main(args: Any) -> int:
    command = [part for part in args.command if part != "--"]
    if not command:
        print("tokentrace run: give the program to run, e.g. `tokentrace run -- python app.py`", file=sys.stderr)
        return 2
    from .ledger_path import chosen_ledger

    env = dict(os.environ)
    env["TOKENTRACE_RUN_BOOTSTRAP"] = "1"
    env["TOKENTRACE_LEDGER"] = chosen_ledger(getattr(args, "ledger", None)) or "off"
    with_own_environment(env)
    env["PYTHONPATH"] = os.pathsep.join([str(BOOTSTRAP_DIR), *filter(None, [env.get("PYTHONPATH")])])
    try:
        return subprocess.call(child_command(command), env=env)
    except FileNotFoundError:
        print(f"tokentrace run: no such program: {command[0]}", file=sys.stderr)
        return 127


def start_in_child() -> None:
    """Runs inside the child: instrument, and print the summary at exit."""
    import tokentrace

    from ..core import estimate
    from ..core.config import parse_ledger
    from ..core.lifecycle import run_flush_hooks
    from .setup import cli_telemetry
    from .summary import print_summary

    telemetry = cli_telemetry()  # spans and metrics under one service: OTEL_SERVICE_NAME, else the program's name
    tracer_provider, summary = telemetry.tracer_provider, telemetry.summary
    tokentrace.instrument(tracer_provider=tracer_provider, meter_provider=telemetry.meter_provider)

    def finish() -> None:
        estimate.worker.flush(5)
        tracer_provider.force_flush()
        run_flush_hooks(5)
        if summary.overall.calls:
            print_summary(summary, sys.stderr, title="tokentrace run summary")
            ledger = parse_ledger(os.environ.get("TOKENTRACE_LEDGER", "off"))
            if ledger:
                print(f"tokentrace run: spend ledger written to {ledger} (read it with `tokentrace report` or `tokentrace focus`)", file=sys.stderr)
        else:
            print("tokentrace run: the program made no LLM calls tokentrace could see.", file=sys.stderr)
        telemetry.shutdown()

    atexit.register(finish)
