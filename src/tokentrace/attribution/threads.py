"""Attribution into threads: an explicit helper, and automatic carrying while instrumented.

asyncio tasks copy the context by themselves; threads do not: a ``ThreadPoolExecutor`` worker or
a new ``threading.Thread`` starts with an empty context, so its LLM calls would lose their team
and escape their workflow's roll-up. :func:`propagate_context` binds a callable to the caller's
attribution and OpenTelemetry context. While tokentrace is instrumented, ``ThreadPoolExecutor.submit``
and ``Thread.start`` do that on their own (only tokentrace's scope and the OpenTelemetry context
are carried, not every context variable of the application, and only when a tokentrace scope is
open, so other threads start exactly as before); ``uninstrument()`` removes it.
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional, Tuple, TypeVar

from opentelemetry import context as otel_context

from ..core.safety import report
from . import scope as _scope

F = TypeVar("F", bound=Callable[..., Any])

_Carried = Tuple[Optional["_scope.Scope"], Any]

#: Set while a patched ``submit`` runs: the pool's worker threads it starts serve every later task,
#: so they must not keep the first submitter's attribution (each task carries its own instead).
_submitting = threading.local()


def _carry(require_scope: bool = False) -> Optional[_Carried]:
    """What to carry into another thread; None when there is nothing (or, automatic, no scope)."""
    scope = _scope._current.get()
    if scope is None and require_scope:
        return None
    ctx = otel_context.get_current()
    if scope is None and not ctx:
        return None
    return scope, ctx


def _run_with(carried: _Carried, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    scope, ctx = carried
    scope_token = _scope._current.set(scope)
    otel_token = otel_context.attach(ctx)
    try:
        return fn(*args, **kwargs)
    finally:
        otel_context.detach(otel_token)
        _scope._current.reset(scope_token)


def propagate_context(fn: F) -> F:
    """Bind ``fn`` to the current attribution and trace context, for running on another thread.

    ``executor.submit(tokentrace.propagate_context(fn), ...)`` or
    ``threading.Thread(target=tokentrace.propagate_context(fn))``. Needed only when tokentrace
    is not instrumented (instrumented, executors and threads carry the context on their own).
    """
    carried = _carry()
    return fn if carried is None else _bound(carried, fn)


def _bound(carried: _Carried, fn: F) -> F:
    @functools.wraps(fn)
    def bound(*args: Any, **kwargs: Any) -> Any:
        return _run_with(carried, fn, args, kwargs)

    return bound  # type: ignore[return-value]


class ThreadPatches:
    """Reversible patches of ``ThreadPoolExecutor.submit`` and ``Thread.start``; ``close()`` undoes them."""

    def __init__(self) -> None:
        self._original_submit = ThreadPoolExecutor.__dict__["submit"]
        self._original_start = threading.Thread.__dict__["start"]
        self.active = True
        original_submit, original_start, patches = self._original_submit, self._original_start, self

        @functools.wraps(original_submit)
        def submit(executor: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            if patches.active:
                try:
                    carried = _carry(require_scope=True)
                    if carried is not None:
                        fn = _bound(carried, fn)
                except Exception as exc:
                    report("carrying attribution into a thread pool", exc)
            _submitting.active = True
            try:
                return original_submit(executor, fn, *args, **kwargs)
            finally:
                _submitting.active = False

        @functools.wraps(original_start)
        def start(thread: threading.Thread) -> None:
            if patches.active and not getattr(_submitting, "active", False):
                try:
                    _bind_thread(thread)
                except Exception as exc:
                    report("carrying attribution into a thread", exc)
            return original_start(thread)

        submit._tokentrace_patch = True  # type: ignore[attr-defined]
        start._tokentrace_patch = True  # type: ignore[attr-defined]
        ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]
        threading.Thread.start = start  # type: ignore[method-assign, assignment]  # the wraps() wrapper is the method

    def close(self) -> None:
        """Restore the originals; if someone wrapped them since, leave their wrapper and go inert."""
        self.active = False
        if getattr(ThreadPoolExecutor.__dict__.get("submit"), "_tokentrace_patch", False):
            ThreadPoolExecutor.submit = self._original_submit  # type: ignore[method-assign]
        if getattr(threading.Thread.__dict__.get("start"), "_tokentrace_patch", False):
            threading.Thread.start = self._original_start  # type: ignore[method-assign]


def _bind_thread(thread: threading.Thread) -> None:
    """Run the thread's ``run`` (a subclass's override too) inside the starter's context."""
    carried = _carry(require_scope=True)
    if carried is None or "run" in vars(thread):
        return
    run = thread.run

    def run_with_context() -> None:
        try:
            _run_with(carried, run, (), {})
        finally:
            vars(thread).pop("run", None)

    thread.run = run_with_context  # type: ignore[method-assign]
