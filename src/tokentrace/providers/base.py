"""Reversible patching shared by every provider adapter.

Each adapter declares a flat list of :class:`Patch` entries: (module, attribute path) -> wrapper.
Applying a patch replaces the attribute with a ``wrapt.FunctionWrapper`` around the original;
removing it puts the *original object* back, so ``uninstrument()`` restores identity. Methods are
probed, not pinned to SDK versions: a patch whose target is missing is skipped.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

import wrapt

from ..core.pipeline import Pipeline

logger = logging.getLogger("tokentrace")

Wrapper = Callable[[Callable[..., Any], Any, Tuple[Any, ...], dict], Any]


@dataclass(frozen=True)
class Patch:
    module: str
    path: str  # "Class.method" or "function"
    wrapper_factory: Callable[[Pipeline], Wrapper]


class _Applied:
    __slots__ = ("owner", "name", "original", "own")

    def __init__(self, owner: Any, name: str, original: Any, own: bool) -> None:
        self.owner, self.name, self.original, self.own = owner, name, original, own


def _resolve(patch: Patch) -> Optional[Tuple[Any, str, Any, bool]]:
    try:
        owner: Any = importlib.import_module(patch.module)
    except ImportError:
        return None
    *parents, name = patch.path.split(".")
    for part in parents:
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    # Read from __dict__ so the original descriptor (staticmethod, function) is restored verbatim;
    # an inherited method is wrapped on this class and removed again on uninstrument.
    own = isinstance(owner, type) and name in vars(owner)
    original = vars(owner)[name] if own else getattr(owner, name, None)
    if original is None:
        return None
    return owner, name, original, own or not isinstance(owner, type)


# wrapt 2's FunctionWrapper derives from BaseObjectProxy, not from the Python-level ObjectProxy.
_WRAPT_PROXIES = (wrapt.ObjectProxy, getattr(wrapt, "BaseObjectProxy", wrapt.ObjectProxy))


def is_foreign_wrapper(obj: Any) -> bool:
    """True when another instrumentation's wrapt proxy sits on ``obj``.

    Plain ``__wrapped__`` is no sign: SDKs decorate their own methods with ``functools.wraps``.
    The OpenTelemetry, OpenInference, OpenLLMetry and Langfuse instrumentations all patch with
    wrapt, whose wrappers are ``ObjectProxy`` instances.
    """
    # The marker is read from the type: a foreign proxy forwards attribute reads to what it wraps,
    # which may be tokentrace's own wrapper.
    return isinstance(obj, _WRAPT_PROXIES) and not getattr(type(obj), "_tokentrace_wrapper", False)


def is_tokentrace_wrapper(obj: Any) -> bool:
    return bool(getattr(type(obj), "_tokentrace_wrapper", False))


class _TokentraceFunctionWrapper(wrapt.FunctionWrapper):
    _tokentrace_wrapper = True


def foreign_package(obj: Any) -> str:
    """The instrumentation package a foreign wrapper comes from (``openinference.instrumentation.openai``)."""
    wrapper = getattr(obj, "_self_wrapper", None)
    module = getattr(wrapper, "__module__", None) or type(wrapper).__module__ or ""
    parts = module.split(".")
    if len(parts) >= 3 and parts[1] == "instrumentation":
        return ".".join(parts[:3])
    return parts[0] or "unknown"


def _subclasses(cls: type) -> List[type]:
    found: List[type] = []
    pending: List[type] = list(cls.__subclasses__())
    while pending:
        sub = pending.pop()
        if sub not in found:
            found.append(sub)
            pending.extend(sub.__subclasses__())
    return found


def _shadowing(owner: Any, name: str) -> List[type]:
    """Subclasses of ``owner`` whose own ``name`` is another instrumentation's wrapper.

    Such a wrapper (``openinference`` wraps ``openai.OpenAI.request``) captured the base method
    before tokentrace patched it, so calls through the subclass would bypass tokentrace.
    """
    if not isinstance(owner, type):
        return []
    return [sub for sub in _subclasses(owner) if is_foreign_wrapper(vars(sub).get(name))]


class _Switch:
    """Turns one instrument() cycle's wrappers off for good at uninstrument().

    Another instrumentation applied after tokentrace may have captured tokentrace's wrapper and
    keep calling it; once off, it passes every call straight through.
    """

    __slots__ = ("on", "calls", "first_calls")

    #: Calls (by number) at which the adapter looks again for other instrumentations.
    CHECK_AT = frozenset({1, 10, 100, 1000, 10000})

    def __init__(self, first_calls: Optional[Callable[[], None]]) -> None:
        self.on = True
        self.calls = 0
        self.first_calls = first_calls


def _switched(switch: _Switch, inner: Wrapper) -> Wrapper:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        if not switch.on:
            return wrapped(*args, **kwargs)
        if switch.first_calls is not None:
            switch.calls += 1
            if switch.calls in _Switch.CHECK_AT:
                try:
                    switch.first_calls()
                except Exception:
                    pass
        return inner(wrapped, instance, args, kwargs)

    return wrapper


class ProviderInstrumentor:
    """Base for one SDK's adapter: subclasses set ``name``, ``module`` and ``patches()``."""

    name: str = ""
    module: str = ""

    def __init__(self) -> None:
        self._applied: List[_Applied] = []
        self._switch: Optional[_Switch] = None
        #: Called on a few early calls (instrumentation looks again for other instrumentations).
        self.on_early_call: Optional[Callable[[], None]] = None

    def available(self) -> bool:
        try:
            importlib.import_module(self.module)
        except ImportError:
            return False
        return True

    def patches(self) -> List[Patch]:
        raise NotImplementedError

    def foreign_instrumentation(self) -> List[str]:
        """The patch targets another instrumentation wraps, each with that instrumentation's package.

        Looks at tokentrace's own targets (a wrapper inside tokentrace's, or one applied over it
        on a subclass) and at the subclasses that shadow a base-class target.
        """
        found = []
        for patch in self.patches():
            resolved = _resolve(patch)
            if not resolved:
                continue
            owner, name, current, _ = resolved
            candidates = [(f"{patch.module}.{patch.path}", current)]
            if is_tokentrace_wrapper(current):
                candidates = [(f"{patch.module}.{patch.path}", getattr(current, "__wrapped__", None))]
            for sub in _subclasses(owner) if isinstance(owner, type) else []:
                attr = vars(sub).get(name)
                if attr is not None:
                    if is_tokentrace_wrapper(attr):
                        attr = getattr(attr, "__wrapped__", None)
                    candidates.append((f"{sub.__module__}.{sub.__qualname__}.{name}", attr))
            for where, obj in candidates:
                if is_foreign_wrapper(obj):
                    found.append(f"{where} ({foreign_package(obj)})")
        return found

    def instrument(self, pipeline: Pipeline) -> None:
        switch = self._switch = _Switch(self.on_early_call)
        for patch in self.patches():
            resolved = _resolve(patch)
            if resolved is None:
                logger.debug("tokentrace: %s.%s not found; skipped", patch.module, patch.path)
                continue
            owner, name, original, own = resolved
            setattr(owner, name, _TokentraceFunctionWrapper(original, _switched(switch, patch.wrapper_factory(pipeline))))
            self._applied.append(_Applied(owner, name, original, own))
            # A subclass wrapped by another instrumentation before tokentrace would bypass the
            # patch above: tokentrace wraps it too, outside the other wrapper, so it is never
            # blind and budgets still block the call.
            for sub in _shadowing(owner, name):
                foreign = vars(sub)[name]
                setattr(sub, name, _TokentraceFunctionWrapper(foreign, _switched(switch, patch.wrapper_factory(pipeline))))
                self._applied.append(_Applied(sub, name, foreign, True))

    def uninstrument(self) -> None:
        if self._switch is not None:
            self._switch.on = False
            self._switch = None
        while self._applied:
            applied = self._applied.pop()
            if applied.own:
                setattr(applied.owner, applied.name, applied.original)
            else:
                delattr(applied.owner, applied.name)
