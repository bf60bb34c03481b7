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
    return isinstance(obj, _WRAPT_PROXIES) and not getattr(obj, "_tokentrace_wrapper", False)


class _TokentraceFunctionWrapper(wrapt.FunctionWrapper):
    _tokentrace_wrapper = True


class ProviderInstrumentor:
    """Base for one SDK's adapter: subclasses set ``name``, ``module`` and ``patches()``."""

    name: str = ""
    module: str = ""

    def __init__(self) -> None:
        self._applied: List[_Applied] = []

    def available(self) -> bool:
        try:
            importlib.import_module(self.module)
        except ImportError:
            return False
        return True

    def patches(self) -> List[Patch]:
        raise NotImplementedError

    def foreign_instrumentation(self) -> List[str]:
        """Names of the patch targets another instrumentation already wraps."""
        found = []
        for patch in self.patches():
            resolved = _resolve(patch)
            if resolved and is_foreign_wrapper(resolved[2]):
                found.append(f"{patch.module}.{patch.path}")
        return found

    def instrument(self, pipeline: Pipeline) -> None:
        for patch in self.patches():
            resolved = _resolve(patch)
            if resolved is None:
                logger.debug("tokentrace: %s.%s not found; skipped", patch.module, patch.path)
                continue
            owner, name, original, own = resolved
            setattr(owner, name, _TokentraceFunctionWrapper(original, patch.wrapper_factory(pipeline)))
            self._applied.append(_Applied(owner, name, original, own))

    def uninstrument(self) -> None:
        while self._applied:
            applied = self._applied.pop()
            if applied.own:
                setattr(applied.owner, applied.name, applied.original)
            else:
                delattr(applied.owner, applied.name)
