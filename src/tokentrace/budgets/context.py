"""``tokentrace.budget(...)``: a budget as a context manager and decorator.

Entering a budget pushes it on a :class:`~contextvars.ContextVar`, so nested budgets all apply
(the innermost does not replace the outer ones), asyncio tasks inherit the budgets of the code
that created them, and a thread inherits them when started inside ``contextvars.copy_context()``
(or ``tokentrace.propagate_context``). The budget observer reads the stack before every call.

Without ``scope=`` or ``window=`` a budget covers *this block*: each ``with`` (each call of a
decorated function) gets its own counter in this process. With either, it is shared: one counter
per budget name, scope value and window period, in the configured store (Redis when set), so
every process that declares the same budget counts into it.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import itertools
import logging
from typing import Any, Callable, Mapping, Optional, Sequence, Tuple, TypeVar

from ..core import active
from .spec import DEFAULT_THRESHOLDS, ENTRY_SCOPE, BudgetSpec, Downgrade, OnExceed, build_spec
from .store import Amount, MemoryStore

logger = logging.getLogger("tokentrace")

F = TypeVar("F", bound=Callable[..., Any])

_ids = itertools.count(1)
_warned_uninstrumented = False


class ActiveBudget:
    """One entered budget: its spec and, for a block budget, its own counter."""

    __slots__ = ("spec", "owner", "key", "store", "token")

    def __init__(self, spec: BudgetSpec, owner: Budget) -> None:
        self.spec = spec
        self.owner = owner
        self.key = f"entry:{next(_ids)}"
        self.store: Optional[MemoryStore] = MemoryStore() if spec.scope == ENTRY_SCOPE else None
        self.token: Optional[contextvars.Token] = None

    @property
    def spent_usd(self) -> Optional[float]:
        """USD counted so far by this block's budget (``None`` for shared budgets)."""
        return None if self.store is None else self.store.spent(self.key).nano_usd / 1e9

    @property
    def spent_tokens(self) -> Optional[int]:
        return None if self.store is None else self.store.spent(self.key).tokens

    def spent(self) -> Amount:
        return Amount() if self.store is None else self.store.spent(self.key)


_active: contextvars.ContextVar[Tuple[ActiveBudget, ...]] = contextvars.ContextVar("tokentrace_budgets", default=())


def active_budgets() -> Tuple[ActiveBudget, ...]:
    """The budgets entered in the current context, outermost first."""
    return _active.get()


class Budget:
    """The object ``tokentrace.budget(...)`` returns; see :func:`budget`."""

    def __init__(self, spec: BudgetSpec) -> None:
        self.spec = spec

    def __repr__(self) -> str:
        return f"tokentrace.budget({self.spec!r})"

    def __enter__(self) -> ActiveBudget:
        _warn_if_uninstrumented()
        entry = ActiveBudget(self.spec, self)
        entry.token = _active.set(_active.get() + (entry,))
        return entry

    def __exit__(self, *exc: object) -> None:
        stack = _active.get()
        for index in range(len(stack) - 1, -1, -1):
            entry = stack[index]
            if entry.owner is self:
                if index == len(stack) - 1 and entry.token is not None:
                    try:
                        _active.reset(entry.token)
                        return
                    except ValueError:  # token from another context (generator/task hand-off)
                        pass
                _active.set(stack[:index] + stack[index + 1 :])
                return

    async def __aenter__(self) -> ActiveBudget:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)

    def __call__(self, fn: F) -> F:
        """Decorate ``fn``: each call runs inside the budget (a fresh counter for block budgets)."""
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def budget(
    usd: Optional[float] = None,
    tokens: Optional[int] = None,
    *,
    window: Optional[str] = None,
    scope: Optional[str] = None,
    on_exceed: OnExceed = "raise",
    name: Optional[str] = None,
    match: Optional[Mapping[str, str]] = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    project: bool = False,
    on_store_error: str = "open",
    downgrade: Optional[Downgrade] = None,
    forecast: bool = True,
    forecast_over: Optional[Any] = None,
) -> Budget:
    """A budget for the LLM calls made inside a ``with`` block or a decorated function.

    ``usd`` / ``tokens``: the limits (either or both; tokens are input + output). ``window``:
    ``"hour"``, ``"day"``, ``"month"`` (UTC) or ``"total"``. ``scope``: ``"global"`` or an
    attribution key (``"team"``, ``"feature"``, ``"workflow"``, ``"user"``, ``"task"`` ...);
    leave both out for a budget of this block alone. ``on_exceed``: ``"raise"`` (hard: once used
    up, calls raise :class:`BudgetExceeded` before they are sent), ``"warn"`` (soft: alerts
    only), or a function that receives each :class:`BudgetAlert` (soft). ``project=True`` also
    blocks a call whose projected cost (prompt counted locally + ``max_tokens`` at the output
    price) would take the budget over. ``on_store_error``: ``"open"`` (default: let calls
    through unchecked when the store is unreachable) or ``"closed"`` (block them).
    ``on_exceed="downgrade"`` with ``downgrade={"gpt-5": "gpt-5-mini"}`` (or a function from the
    requested model to the cheaper one) sends calls past the limit to the cheaper model instead
    of blocking them. Windowed budgets forecast their window's spend from the burn rate over
    ``forecast_over`` (``"15m"``, ``"3h"`` ...; ``forecast=False`` turns it off).

    Raises :class:`BudgetConfigError` (a ``ValueError``) at once for bad arguments.
    """
    entry = {
        "usd": usd,
        "tokens": tokens,
        "window": window,
        "scope": scope,
        "on_exceed": on_exceed,
        "name": name or _default_name(scope, window),
        "match": match,
        "thresholds": thresholds,
        "project": project,
        "on_store_error": on_store_error,
        "downgrade": downgrade,
        "forecast": forecast,
        "forecast_over": forecast_over,
    }
    return Budget(build_spec(entry, "tokentrace.budget()", allow_entry_scope=True))


def _default_name(scope: Optional[str], window: Optional[str]) -> Optional[str]:
    return "block" if scope is None and window is None else None


def _warn_if_uninstrumented() -> None:
    global _warned_uninstrumented
    if _warned_uninstrumented:
        return
    if not active.is_instrumented():
        _warned_uninstrumented = True
        logger.warning(
            "tokentrace: a budget was entered but tokentrace.instrument() has not been called; budgets only "
            "see calls made through instrumented SDKs."
        )
