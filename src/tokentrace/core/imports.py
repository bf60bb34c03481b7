"""Run a callback when a module is imported, without importing it: the post-import hook.

``instrument()`` patches SDKs (and the HTTP packages and OpenTelemetry SDK classes under them)
that the application may import only later, or never. Importing them all up front cost seconds;
instead each patch waits here for its module. A ``sys.meta_path`` finder wraps the loader of a
watched module only, and runs the callbacks right after the module's code ran, inside the
application's own ``import`` statement: by the time that statement returns, the module is
patched, so no call can slip through unpatched.

Kept in the core and free of third-party imports (wrapt's importer pulls in asyncio and
importlib.metadata, a good part of what it was meant to save). The module gets its real loader
back before its code runs, so ``importlib.resources``, ``pkgutil`` and ``inspect`` see no
difference.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Sequence

from .safety import report

Callback = Callable[[ModuleType], None]

_lock = threading.Lock()
_callbacks: Dict[str, List[Callback]] = {}
_finder: Optional[_PostImportFinder] = None


def when_imported(name: str, callback: Callback) -> bool:
    """Call ``callback(module)`` once ``name`` is imported; False (and no call) if it already is.

    The caller handles the already-imported case itself (usually: do the work now), which keeps
    this function from ever running a callback on the caller's stack under the caller's locks.
    """
    global _finder
    with _lock:
        if name in sys.modules:
            return False
        _callbacks.setdefault(name, []).append(callback)
        if _finder is None or _finder not in sys.meta_path:
            _finder = _PostImportFinder()
            sys.meta_path.insert(0, _finder)
    return True


def watched() -> List[str]:
    with _lock:
        return sorted(_callbacks)


def _fire(module: ModuleType) -> None:
    with _lock:
        callbacks = _callbacks.pop(module.__name__, [])
    for callback in callbacks:
        try:
            callback(module)
        except Exception as exc:  # an application's import must never fail because of tokentrace
            report(f"post-import hook for {module.__name__}", exc)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: asks the other finders, and wraps the loader of watched modules."""

    def find_spec(self, fullname: str, path: Optional[Sequence[str]], target: Optional[ModuleType] = None) -> Any:
        if fullname not in _callbacks:  # the common case: one dict lookup per import
            return None
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is None:
                continue
            loader = spec.loader
            if loader is not None and hasattr(loader, "exec_module"):
                spec.loader = _NotifyingLoader(loader)
            elif loader is None and spec.submodule_search_locations is not None:
                # A namespace package (mistralai 3.x is one): the import system would give it a
                # namespace loader later, which nobody could wrap; this one does what that one does
                # (nothing: the package has no code) and then tells the watchers.
                spec.loader = _NamespaceNotifyingLoader()
            return spec
        return None


class _NamespaceNotifyingLoader(importlib.abc.Loader):
    def create_module(self, spec: Any) -> Optional[ModuleType]:
        return None

    def exec_module(self, module: ModuleType) -> None:
        _fire(module)


class _NotifyingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Optional[ModuleType]:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.loader = self._loader
        self._loader.exec_module(module)
        _fire(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)
