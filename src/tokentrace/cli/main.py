"""Entry point of the ``tokentrace`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from .._version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tokentrace", description="LLM token spend, visible and controllable through OpenTelemetry.")
    parser.add_argument("--version", action="version", version=f"tokentrace {__version__}")
    commands = parser.add_subparsers(dest="command_name", metavar="COMMAND")

    demo = commands.add_parser("demo", help="run a small multi-team LLM app against a local provider server and print its spend")
    demo.add_argument("--ledger", metavar="FILE", help="spend ledger to write (default: $TOKENTRACE_LEDGER or ~/.local/share/tokentrace/ledger.sqlite; 'off' for none)")
    demo.set_defaults(handler="demo")

    run = commands.add_parser("run", help="instrument an unmodified program: tokentrace run -- python app.py")
    run.add_argument("--ledger", metavar="FILE", help="spend ledger to write (default: $TOKENTRACE_LEDGER or ~/.local/share/tokentrace/ledger.sqlite; 'off' for none)")
    run.add_argument("command", nargs=argparse.REMAINDER, help="the program and its arguments, after --")
    run.set_defaults(handler="run")

    try:
        from . import prices

        prices.add_parsers(commands)
    except ImportError:
        pass
    from . import finops

    finops.add_parsers(commands)
    from . import reconcile, serve

    reconcile.add_parser(commands)
    serve.add_parser(commands)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    if handler == "demo":
        from . import demo

        return demo.main(args)
    if handler == "run":
        from . import run

        return run.main(args)
    if callable(handler):
        return int(handler(args) or 0)
    parser.error(f"unknown command {handler!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
