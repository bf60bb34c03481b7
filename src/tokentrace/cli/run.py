"""``tokentrace run -- python app.py``: instrument an unmodified program and summarise its spend.

The child interpreter is started with tokentrace's ``sitecustomize`` first on ``PYTHONPATH``;
it calls ``instrument()`` before the program's first line, and so does every Python process the
program starts (fork, spawn, forkserver, ``subprocess``). Each one leaves its totals in a spool
directory when it ends (:mod:`.run_spool`); the launcher sums them and prints the one summary.

The launcher behaves like the program it runs: SIGINT, SIGTERM and SIGHUP are forwarded to it
(SIGINT only when the terminal did not already deliver it to the program too), the launcher waits
for it, and exits with its code, or dies of the same signal. It never kills the program itself.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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
    spool = tempfile.mkdtemp(prefix="tokentrace-run-")
    env["TOKENTRACE_RUN_SPOOL"] = spool
    env.pop("TOKENTRACE_RUN_NESTED", None)
    try:
        try:
            process = subprocess.Popen(child_command(command), env=env)
        except FileNotFoundError:
            print(f"tokentrace run: no such program: {command[0]}", file=sys.stderr)
            return 127
        returncode = _wait_forwarding_signals(process)
        _print_summary(spool, env["TOKENTRACE_LEDGER"])
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    if returncode < 0:
        _die_like(-returncode)
    return returncode


FORWARDED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _terminal_delivers_sigint() -> bool:
    """A Ctrl-C at the terminal reaches the whole foreground process group, the program included."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def _wait_forwarding_signals(process: subprocess.Popen[Any]) -> int:
    def forward(signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and _terminal_delivers_sigint():
            return  # the program got this Ctrl-C itself; a second one would interrupt its cleanup
        try:
            process.send_signal(signum)
        except OSError:
            pass

    previous = {}
    for signum in FORWARDED:
        try:
            previous[signum] = signal.signal(signum, forward)
        except (OSError, ValueError):  # not the main thread, or a signal this platform lacks
            pass
    try:
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:  # pragma: no cover - SIGINT is handled above
                continue
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _die_like(signum: int) -> None:
    """End the launcher the way the program ended: killed by ``signum`` (a shell sees 128+N)."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    except (OSError, ValueError):
        pass
    sys.exit(128 + signum)


def _print_summary(spool: str, ledger_setting: str) -> None:
    from ..core.config import parse_ledger
    from .run_spool import collect
    from .summary import print_summary

    summary = collect(spool)
    if summary.overall.calls:
        print_summary(summary, sys.stderr, title="tokentrace run summary")
        ledger = parse_ledger(ledger_setting)
        if ledger:
            print(f"tokentrace run: spend ledger written to {ledger} (read it with `tokentrace report` or `tokentrace focus`)", file=sys.stderr)
    elif any(Path(spool).glob("*.json")):
        print("tokentrace run: the program made no LLM calls tokentrace could see.", file=sys.stderr)
    else:
        print(
            "tokentrace run: no totals were reported (the program is not Python, could not be "
            "instrumented, or was killed before it could report).",
            file=sys.stderr,
        )


def is_nested() -> bool:
    """True in a Python process started by the program (its own output stays the program's)."""
    return os.environ.get("TOKENTRACE_RUN_NESTED") == "1"


def start_in_child() -> None:
    """Runs inside every Python process of the program: instrument, leave the totals at exit."""
    import tokentrace

    from ..core import lifecycle
    from . import run_spool
    from .setup import cli_telemetry

    # Every Python process the program starts from here on is "nested": it reports to the spool
    # and prints nothing of its own.
    os.environ["TOKENTRACE_RUN_NESTED"] = "1"
    spool = os.environ.get(run_spool.SPOOL_ENV)
    telemetry = cli_telemetry()  # spans and metrics under one service: OTEL_SERVICE_NAME, else the program's name
    summary = telemetry.summary
    tokentrace.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)

    def finish() -> None:
        # Pending estimates and calls never finished first (bounded), then the totals, and only
        # then the exporters: a hung OTLP endpoint cannot hold the summary back.
        lifecycle.flush_at_exit()
        if spool:
            try:
                run_spool.write(summary, spool)
            except OSError:
                pass
        telemetry.shutdown()

    atexit.register(finish)
    _follow_forks(summary, finish)
    _report_before_signal_death(finish)


def _report_before_signal_death(finish: Any) -> None:
    """SIGTERM / SIGHUP kill Python without ``atexit``: report first, then die of the same signal.

    Only where the program left the default disposition (a handler it sets later replaces this
    one); the process still ends killed by that signal, as it would without tokentrace.
    """
    def report_then_die(signum: int, frame: Any) -> None:
        try:
            finish()
        finally:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            if signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, report_then_die)
        except (OSError, ValueError):  # not the main thread
            pass


def _follow_forks(summary: Any, finish: Any) -> None:
    """A forked child (``multiprocessing`` fork, a pool worker) reports its own calls only.

    It inherits the parent's totals, so they are reset; and ``multiprocessing`` ends its children
    with ``os._exit()``, which skips ``atexit``, so the report is registered as a
    ``multiprocessing`` finalizer too (run by every process it started, fork or not).
    """
    from . import run_spool

    def after_fork_in_child() -> None:
        try:
            run_spool.reset(summary)
        except Exception:
            pass

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=after_fork_in_child)
    _register_multiprocessing_finalizer(finish)


class _Anchor:
    """Keeps the after-fork registration alive (``multiprocessing`` holds it weakly)."""


_anchor = _Anchor()


def _register_multiprocessing_finalizer(finish: Any) -> None:
    """Run ``finish`` when a ``multiprocessing`` child ends (``Process._bootstrap`` -> ``_exit_function``).

    ``_bootstrap`` clears the finalizers it inherited, then runs the after-fork callbacks: that is
    where the finalizer is registered, in every child, whatever the start method.
    """
    try:
        from multiprocessing import util
    except ImportError:  # pragma: no cover
        return

    def in_child(_: Any) -> None:
        util.Finalize(None, finish, exitpriority=0)

    util.register_after_fork(_anchor, in_child)


