"""Reversible patching shared by every provider adapter.

Each adapter declares a flat list of :class:`Patch` entries: (module, attribute path) -> wrapper.
Applying a patch replaces the attribute with a ``wrapt.FunctionWrapper`` around the original;
removing it puts the *original object* back, so ``uninstrument()`` restores identity. Methods are
probed, not pinned to SDK versions: a patch whose target is missing is skipped.
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import wrapt

from ..core.pipeline import Pipeline
from ..core.safety import report

logger = logging.getLogger("tokentrace")

Wrapper = Callable[[Callable[..., Any], Any, Tuple[Any, ...], dict], Any]


@dataclass(frozen=True)
class Patch:
    module: str
    path: str  # "Class.method" or "function"
    wrapper_factory: Callable[[Pipeline], Wrapper]
    #: A method name of ``type(instance)`` that every call through this patch checks still reaches
    #: tokentrace (see :meth:`ProviderInstrumentor.reclaim`); "" for none.
    watch: str = ""


class _Applied:
    __slots__ = ("owner", "name", "original", "own", "wrapper", "patch")

    def __init__(self, owner: Any, name: str, original: Any, own: bool, wrapper: Any, patch: Patch) -> None:
        self.owner, self.name, self.original, self.own = owner, name, original, own
        self.wrapper, self.patch = wrapper, patch


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


def _chain(obj: Any) -> List[Any]:
    """``obj`` and what it wraps (wrapt's ``__wrapped__``, a bound wrapper's parent), a few levels."""
    found: List[Any] = []
    for _ in range(8):
        if obj is None:
            break
        found.append(obj)
        try:  # arbitrary class attributes: a proxy may forward the read and fail in its own way
            parent = getattr(obj, "_self_parent", None) if isinstance(obj, _WRAPT_PROXIES) else None
            if parent is not None:
                found.append(parent)
            obj = getattr(obj, "__wrapped__", None)
        except Exception:
            break
    return found


def _lookup(cls: type, name: str) -> Any:
    """What ``cls.name`` resolves to, unbound (the raw class-dict entry along the MRO)."""
    for klass in cls.__mro__:
        attr = klass.__dict__.get(name)
        if attr is not None:
            return attr
    return None


class _Switch:
    """Turns one instrument() cycle's wrappers off for good at uninstrument().

    Another instrumentation applied after tokentrace may have captured tokentrace's wrapper and
    keep calling it; once off, it passes every call straight through.
    """

    __slots__ = ("on", "calls", "first_calls", "reclaim", "reached")

    #: Calls (by number) at which the adapter looks again for other instrumentations.
    CHECK_AT = frozenset({1, 10, 100, 1000, 10000})
    #: Classes whose watched method's resolution is remembered (a process has a handful).
    MAX_REACHED = 256

    def __init__(self, first_calls: Optional[Callable[[], None]], reclaim: Optional[Callable[[], Any]] = None) -> None:
        self.on = True
        self.calls = 0
        self.first_calls = first_calls
        self.reclaim = reclaim
        #: method name -> {class: what ``class.name`` resolved to when it last reached tokentrace}.
        self.reached: Dict[str, Dict[type, Any]] = {}

    def rewatch(self, cls: type, name: str, seen: Dict[type, Any]) -> None:
        """``cls.name`` resolves to something new: reclaim (see :meth:`ProviderInstrumentor.reclaim`)."""
        if self.reclaim is not None:
            try:
                self.reclaim()
            except Exception as exc:
                report("patching again what another instrumentation undid", exc)
        if len(seen) < self.MAX_REACHED or cls in seen:
            seen[cls] = _lookup(cls, name)


def _switched(switch: _Switch, inner: Wrapper, watch: str = "") -> Wrapper:
    # Per call with a watch: one MRO lookup and a dict read; the reclaim runs only on a change.
    seen = switch.reached.setdefault(watch, {}) if watch else None

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        if not switch.on:
            return wrapped(*args, **kwargs)
        if seen is not None and instance is not None:
            cls = type(instance)
            if seen.get(cls, seen) is not _lookup(cls, watch):
                switch.rewatch(cls, watch, seen)
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
        self._pipeline: Optional[Pipeline] = None
        self._reclaim_lock = threading.Lock()
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
        self._switch = _Switch(self.on_early_call, self.reclaim)
        self._pipeline = pipeline
        for patch in self.patches():
            resolved = _resolve(patch)
            if resolved is None:
                logger.debug("tokentrace: %s.%s not found; skipped", patch.module, patch.path)
                continue
            owner, name, original, own = resolved
            self._wrap(owner, name, original, own, patch)
        try:
            self.reclaim()
        except Exception as exc:  # the patches above stand; only the subclasses' check failed
            report(f"{self.name or 'adapter'}: checking other instrumentations' leftovers", exc)

    def _wrap(self, owner: Any, name: str, target: Any, own: bool, patch: Patch) -> None:
        assert self._switch is not None and self._pipeline is not None
        inner = _switched(self._switch, patch.wrapper_factory(self._pipeline), patch.watch)
        wrapper = _TokentraceFunctionWrapper(target, inner)
        setattr(owner, name, wrapper)
        self._applied.append(_Applied(owner, name, target, own, wrapper, patch))

    def reclaim(self) -> List[str]:
        """Patch again what another instrumentation undid or shadowed; returns where.

        Another instrumentation can take a patch away after ``instrument()``: OpenInference's
        ``uninstrument()`` leaves a plain ``request`` on ``openai.OpenAI`` (the base method it
        captured) that shadows tokentrace's patch on the base class, and OpenTelemetry's
        ``unwrap`` puts its own wrapper's target back over tokentrace's. A subclass's method is
        wrapped when it is another instrumentation's wrapper, the very method tokentrace wrapped
        on the base class, or a wrapper of an earlier ``instrument()`` cycle; a subclass's own
        override (which calls ``super()``) is left alone. Run at ``instrument()`` and, through
        :attr:`Patch.watch`, whenever a watched method's resolution changes, before the call.
        """
        if self._switch is None:
            return []
        reclaimed: List[str] = []
        with self._reclaim_lock:
            ours: Set[int] = {id(applied.wrapper) for applied in self._applied}
            bases: Dict[Tuple[int, str], _Applied] = {}
            for applied in self._applied:
                if isinstance(applied.owner, type):
                    bases.setdefault((id(applied.owner), applied.name), applied)
            for first in list(bases.values()):
                owner, name = first.owner, first.name
                current = vars(owner).get(name)
                if not any(id(obj) in ours for obj in _chain(current)):
                    own = current is not None
                    target = current if own else getattr(owner, name, None)
                    if target is not None:
                        self._wrap(owner, name, target, own, first.patch)
                        ours.add(id(self._applied[-1].wrapper))
                        reclaimed.append(f"{owner.__module__}.{owner.__qualname__}.{name}")
                for sub in _subclasses(owner):
                    attr = vars(sub).get(name)
                    if attr is None or (id(sub), name) in bases:
                        continue
                    chain = _chain(attr)
                    if any(id(obj) in ours for obj in chain):
                        continue
                    if is_foreign_wrapper(attr) or any(obj is first.original or is_tokentrace_wrapper(obj) for obj in chain):
                        self._wrap(sub, name, attr, True, first.patch)
                        ours.add(id(self._applied[-1].wrapper))
                        reclaimed.append(f"{sub.__module__}.{sub.__qualname__}.{name}")
        return reclaimed

    def uninstrument(self) -> None:
        if self._switch is not None:
            self._switch.on = False
            self._switch = None
        self._pipeline = None
        while self._applied:
            applied = self._applied.pop()
            # Only what is still tokentrace's is put back: an attribute another instrumentation
            # replaced since keeps its value (its wrapper, or what its own uninstrument restored).
            if vars(applied.owner).get(applied.name) is not applied.wrapper:
                continue
            if applied.own:
                setattr(applied.owner, applied.name, applied.original)
            else:
                delattr(applied.owner, applied.name)
