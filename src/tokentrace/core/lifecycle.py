"""Lossless lifecycle: calls still open and work still pending are settled before exit.

Parts of tokentrace complete or persist calls after the application's call returned (usage
estimation off the app's thread, the spend ledger writer, budget settlement against a shared
store), and a stream the application never finished has no natural end before the interpreter
goes away. :func:`flush` is the one place that settles all of it, within one bounded deadline:

1. at exit only, every call still open (a stream never exhausted nor closed) is ended with what is
   known and marked ``tokentrace.call.incomplete``;
2. every flush hook, in order (the usage estimator first, then the ledger writer and the others,
   in registration order), each with the share of the deadline still left.

It runs at exit *before the OpenTelemetry SDK providers shut down*, whatever order the
application created them and called ``instrument()`` in: an ``atexit`` handler covers providers
created before ``instrument()`` (their own handler runs after ours), and a pre-hook on the SDK's
``TracerProvider.shutdown`` / ``MeterProvider.shutdown`` covers those created later and an
explicit ``shutdown()`` by the application. After the exit flush, and during interpreter
finalization, nothing here starts a thread (:func:`threads_allowed`): on Python 3.11 a
``Thread.start()`` during finalization never returns.

The hooks live in the core so that every layer above can register without importing each other.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .safety import report

#: A flush hook receives the seconds it may still use and returns True when it drained everything.
FlushHook = Callable[[float], bool]

#: The whole budget of the flush at exit, in seconds (pending estimates, open calls, ledger ...).
EXIT_FLUSH_TIMEOUT_S = 5.0

_hooks: List[Tuple[int, str, FlushHook]] = []
_lock = threading.Lock()
_local = threading.local()
_exit_flushed = False


def register_flush_hook(name: str, hook: FlushHook, *, order: int = 0) -> None:
    """Add ``hook`` (once per name; a second registration under the same name replaces it).

    Hooks run by ascending ``order``, then in registration order; tokentrace's estimator uses a
    negative order so that what it completes reaches the hooks after it (the ledger writer).
    """
    with _lock:
        for index, (_, existing, _) in enumerate(_hooks):
            if existing == name:
                _hooks[index] = (order, name, hook)
                break
        else:
            _hooks.append((order, name, hook))
        _hooks.sort(key=lambda entry: entry[0])  # stable: registration order within one order


def unregister_flush_hook(name: str) -> None:
    with _lock:
        _hooks[:] = [entry for entry in _hooks if entry[1] != name]


def run_flush_hooks(timeout: float) -> bool:
    """Run every hook within ``timeout`` seconds in all; True when each one reported it drained."""
    deadline = time.monotonic() + max(0.0, timeout)
    with _lock:
        hooks = list(_hooks)
    complete = True
    for _, name, hook in hooks:
        remaining = max(0.0, deadline - time.monotonic())
        try:
            complete = bool(hook(remaining)) and complete
        except Exception as exc:
            report(f"flush hook {name}", exc)
            complete = False
    return complete


# -- calls still open -----------------------------------------------------------------------------

#: Calls started and not yet ended, by id; each has ``settle_incomplete()``. A dict operation is
#: atomic under the GIL, so the hot path takes no lock.
_open: Dict[int, Any] = {}


def track(call: Any) -> None:
    _open[id(call)] = call


def untrack(call: Any) -> None:
    _open.pop(id(call), None)


def open_calls() -> List[Any]:
    return list(_open.values())


def settle_open_calls() -> int:
    """End every call still open with what is known; returns how many were settled."""
    settled = 0
    for call in open_calls():
        try:
            call.settle_incomplete()
            settled += 1
        except Exception as exc:
            report("settling an open call", exc)
        untrack(call)
    return settled


# -- exit -----------------------------------------------------------------------------------------


def interpreter_exiting() -> bool:
    """True once the main thread has finished (``atexit`` handlers, finalization).

    Non-daemon threads are joined before that point, so a call still open now will never be
    ended by the application.
    """
    try:
        return sys.is_finalizing() or not threading.main_thread().is_alive()
    except Exception:  # pragma: no cover - interpreter half torn down
        return True


def threads_allowed() -> bool:
    """Whether tokentrace may start a thread now: not once the main thread finished.

    Python 3.12+ refuses new threads from then on, and 3.11 hangs in ``Thread.start()`` during
    finalization; so from the exit flush on, work runs inline (bounded) or not at all.
    """
    return not (_exit_flushed or interpreter_exiting())


def flush(timeout: float = EXIT_FLUSH_TIMEOUT_S, *, settle_open: Optional[bool] = None) -> bool:
    """Settle what is pending within ``timeout`` seconds; True when everything drained.

    ``settle_open`` ends the calls still open too; by default only when the interpreter is exiting
    (an application's stream may be mid-iteration at any other time). Re-entrant calls (a hook
    that flushes a provider whose shutdown is hooked) return at once.
    """
    if getattr(_local, "active", False):
        return True
    _local.active = True
    try:
        deadline = time.monotonic() + max(0.0, timeout)
        if settle_open if settle_open is not None else interpreter_exiting():
            settle_open_calls()
        return run_flush_hooks(max(0.0, deadline - time.monotonic()))
    finally:
        _local.active = False


def flush_at_exit() -> None:
    """The ``atexit`` handler (and the SDK providers' shutdown pre-hook when exiting)."""
    global _exit_flushed
    if _exit_flushed:
        return
    try:
        flush(EXIT_FLUSH_TIMEOUT_S, settle_open=True)
    except Exception as exc:  # pragma: no cover - flush guards itself
        report("flush at exit", exc)
    finally:
        _exit_flushed = True


_atexit_registered = False


def register_exit_flush() -> None:
    """Register :func:`flush_at_exit` with ``atexit`` (once per process)."""
    global _atexit_registered
    if _atexit_registered:
        return
    import atexit

    atexit.register(flush_at_exit)
    _atexit_registered = True


# -- the SDK providers' shutdown ------------------------------------------------------------------

_SHUTDOWN_TARGETS = (
    ("opentelemetry.sdk.trace", "TracerProvider", "shutdown"),
    ("opentelemetry.sdk.metrics", "MeterProvider", "shutdown"),
)
_patched: List[Tuple[type, str, Any]] = []


def _before_shutdown(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    try:
        if interpreter_exiting():
            flush_at_exit()
        else:
            flush(EXIT_FLUSH_TIMEOUT_S, settle_open=False)
    except Exception as exc:  # pragma: no cover - flush guards itself
        report("flush before provider shutdown", exc)
    return wrapped(*args, **kwargs)


_hook_wanted = False


def hook_provider_shutdown() -> None:
    """Make the SDK providers' ``shutdown()`` flush tokentrace first (reversible).

    An SDK module not imported yet is patched when it is (``core/imports.py``): importing the
    OpenTelemetry SDK only to patch it was a good part of ``instrument()``'s time, and a provider
    cannot exist before its module is imported.
    """
    import functools
    import importlib

    from .imports import when_imported

    global _hook_wanted
    if _patched or _hook_wanted:
        return
    _hook_wanted = True
    for module_name, class_name, method in _SHUTDOWN_TARGETS:
        callback = functools.partial(_hook_one, class_name, method)
        if not when_imported(module_name, callback):
            try:
                callback(importlib.import_module(module_name))
            except ImportError:
                continue


def _hook_one(class_name: str, method: str, module: Any) -> None:
    import wrapt

    if not _hook_wanted:
        return
    try:
        owner = getattr(module, class_name)
        original = vars(owner)[method]
    except (AttributeError, KeyError):
        return
    if any(o is owner and m == method for o, m, _ in _patched):
        return
    setattr(owner, method, wrapt.FunctionWrapper(original, _before_shutdown))
    _patched.append((owner, method, original))


def unhook_provider_shutdown() -> None:
    global _hook_wanted
    _hook_wanted = False
    while _patched:
        owner, method, original = _patched.pop()
        setattr(owner, method, original)
