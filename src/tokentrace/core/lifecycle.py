"""Flush hooks: everything that settles calls late registers here, and ``flush()`` drains it.

Parts of tokentrace complete or persist calls after the application's call returned (usage
estimation off the app's thread, the spend ledger writer, budget settlement against a shared
store). At exit, and whenever the application calls :func:`tokentrace.flush`, each of them gets a
share of one bounded deadline, in registration order, before the OpenTelemetry providers are
flushed. The hooks live in the core so that every layer above can register without importing
each other.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, List, Tuple

from .safety import report

#: A flush hook receives the seconds it may still use and returns True when it drained everything.
FlushHook = Callable[[float], bool]

_hooks: List[Tuple[str, FlushHook]] = []
_lock = threading.Lock()


def register_flush_hook(name: str, hook: FlushHook) -> None:
    """Add ``hook`` (once per name; a second registration under the same name replaces it)."""
    with _lock:
        for index, (existing, _) in enumerate(_hooks):
            if existing == name:
                _hooks[index] = (name, hook)
                return
        _hooks.append((name, hook))


def unregister_flush_hook(name: str) -> None:
    with _lock:
        _hooks[:] = [(n, h) for n, h in _hooks if n != name]


def run_flush_hooks(timeout: float) -> bool:
    """Run every hook within ``timeout`` seconds in all; True when each one reported it drained."""
    deadline = time.monotonic() + max(0.0, timeout)
    with _lock:
        hooks = list(_hooks)
    complete = True
    for name, hook in hooks:
        remaining = max(0.0, deadline - time.monotonic())
        try:
            complete = bool(hook(remaining)) and complete
        except Exception as exc:
            report(f"flush hook {name}", exc)
            complete = False
    return complete
