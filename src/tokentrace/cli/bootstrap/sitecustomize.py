"""Loaded by the Python interpreter that ``tokentrace run`` starts: instruments before the app runs.

Kept to syntax any Python 3 accepts: this file is read by whatever interpreter the command names,
which may be one without tokentrace, and then it must say exactly what to do instead of failing.
"""

import os


def _explain_missing_tokentrace(exc):  # type: (BaseException) -> None
    import shlex
    import sys

    own = os.environ.get("TOKENTRACE_RUN_PYTHON") or "path/to/venv/bin/python"
    args = list(getattr(sys, "orig_argv", [None] + sys.argv)[1:])
    command = " ".join(shlex.quote(part) for part in [own] + args)
    print(
        f"tokentrace run: {sys.executable} cannot import tokentrace ({exc}), so the program runs without it. Run it "
        f"with the Python tokentrace is installed in: `tokentrace run -- {command}`, or install tokentrace "
        f"into {sys.executable}.",
        file=sys.stderr,
    )


if os.environ.get("TOKENTRACE_RUN_BOOTSTRAP") == "1":
    try:
        from tokentrace.cli.run import start_in_child

        start_in_child()
    except ImportError as exc:  # tokentrace, or what it needs, is not installed for this Python
        # Only the program itself explains; a Python it starts keeps its stderr as it is.
        if os.environ.get("TOKENTRACE_RUN_NESTED") != "1":
            _explain_missing_tokentrace(exc)
    except Exception as exc:  # the app must run even if tokentrace cannot start
        import sys

        print(f"tokentrace: could not instrument this program ({type(exc).__name__}: {exc})", file=sys.stderr)
