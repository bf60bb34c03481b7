"""Loaded by the Python interpreter that ``tokentrace run`` starts: instruments before the app runs."""

import os

if os.environ.get("TOKENTRACE_RUN_BOOTSTRAP") == "1":
    try:
        from tokentrace.cli.run import start_in_child

        start_in_child()
    except Exception as exc:  # the app must run even if tokentrace cannot start
        import sys

        print(f"tokentrace: could not instrument this program ({type(exc).__name__}: {exc})", file=sys.stderr)
