"""tokentrace: LLM token spend, visible and controllable through OpenTelemetry.

``import tokentrace; tokentrace.instrument()`` patches the installed LLM SDKs so that every call
emits one OpenTelemetry span and a set of metrics with its tokens, cost and attribution.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from .core.config import ConfigError
from .core.safety import TokentraceError
from .instrumentation import flush, instrument, is_instrumented, uninstrument

# Public names that live in feature packages, imported on first use so that
# ``import tokentrace`` stays cheap.
_LAZY = {
    "attribute": "tokentrace.attribution",
    "workflow": "tokentrace.attribution",
    "agent_step": "tokentrace.attribution",
    "current_attribution": "tokentrace.attribution",
    "propagate_context": "tokentrace.attribution",
    "budget": "tokentrace.budgets",
    "BudgetExceeded": "tokentrace.budgets",
    "BudgetAlert": "tokentrace.budgets",
    "BudgetConfigError": "tokentrace.budgets",
    "BudgetStoreUnavailable": "tokentrace.budgets",
    "ForecastAlert": "tokentrace.budgets",
    "AnomalyAlert": "tokentrace.budgets",
    "model_policy": "tokentrace.budgets",
    "ModelNotAllowed": "tokentrace.budgets",
}

__all__ = [
    "__version__",
    "ConfigError",
    "TokentraceError",
    "flush",
    "instrument",
    "is_instrumented",
    "uninstrument",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tokentrace' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
