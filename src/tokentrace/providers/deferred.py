"""Adapters applied when their SDK is imported, not before: ``instrument()`` stays cheap.

Importing every installed SDK to patch it cost ``instrument()`` 2-4 s with all extras installed
(``anthropic.types`` alone is most of a second), paid by every process even when it only ever
uses one SDK. So an adapter whose SDK is not imported yet is *pending*: a post-import hook
(``core/imports.py``) applies it the moment the application imports the SDK,
before the import statement returns, so no call can go unpatched. An SDK that is already
imported is patched at once, as before.

Locking: the hook runs in the importing thread, which holds the SDK's module lock. It takes only
``_lock`` below (re-entrant, for hooks that fire while an adapter is applied), never
``instrument()``'s lock, and only the hook itself imports while holding it, so a first
``import openai`` in one thread cannot deadlock with ``instrument()`` or ``uninstrument()`` in
another. Applying and cancelling are atomic under ``_lock``: a hook that fires after
``uninstrument()`` finds nothing pending and does nothing.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from typing import TYPE_CHECKING, Callable, Dict, List, Set, Tuple

from ..core.imports import when_imported
from ..core.safety import report

if TYPE_CHECKING:
    from .base import ProviderInstrumentor

#: The SDK module each registered adapter patches (its instrumentor's ``module``; a test keeps
#: them equal). An adapter missing here is loaded the old way, at ``instrument()``.
SDK_MODULES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google_genai": "google.genai",
    "bedrock": "botocore",
    "mistral": "mistralai",
    "cohere": "cohere",
    "groq": "groq",
    "ollama": "ollama",
    "azure_ai_inference": "azure.ai.inference",
    "aiobotocore": "aiobotocore",
    "vertexai": "vertexai",
    "litellm": "litellm",  # its adapter also has a hook of its own; from here it finds litellm imported
}

#: What applying a pending adapter does: (adapter name, SDK module) -> its applied instrumentor or None.
Apply = Callable[[], "ProviderInstrumentor | None"]

#: Re-entrant: applying one adapter imports modules whose own hooks fire in the same thread
#: (botocore's patch imports urllib3, which the transport guard waits for).
_lock = threading.RLock()
_pending: Dict[str, List[Tuple[str, Apply]]] = {}
_applied: List[ProviderInstrumentor] = []
_hooked: Set[str] = set()


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (nor more than its parents)."""
    if module in sys.modules:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def imported(module: str) -> bool:
    return module in sys.modules


def defer(name: str, module: str, apply: Apply) -> None:
    """Run ``apply`` when ``module`` is imported; at once (here) if it was imported meanwhile."""
    with _lock:
        _pending.setdefault(module, []).append((name, apply))
        register = module not in _hooked
        _hooked.add(module)
    # One hook per module at a time; after uninstrument() it fires and finds nothing pending.
    if register and not when_imported(module, _on_import):
        _on_import(sys.modules[module])


def _on_import(module: object) -> None:
    name = getattr(module, "__name__", "")
    with _lock:
        _hooked.discard(name)
        waiting = _pending.pop(name, [])
        for adapter, apply in waiting:
            try:
                instrumentor = apply()
            except Exception as exc:  # the application's import must never fail because of us
                report(f"instrumenting {adapter}", exc)
                continue
            if instrumentor is not None:
                _applied.append(instrumentor)


def pending() -> List[str]:
    """Adapter names still waiting for their SDK's import."""
    with _lock:
        return [adapter for waiting in _pending.values() for adapter, _ in waiting]


def cancel() -> List[ProviderInstrumentor]:
    """Forget every pending adapter; returns (and forgets) those applied by a hook since."""
    with _lock:
        _pending.clear()
        applied = list(_applied)
        _applied.clear()
    return applied
