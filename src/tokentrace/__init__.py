"""tokentrace: LLM token spend, visible and controllable through OpenTelemetry.

``import tokentrace; tokentrace.instrument()`` patches the installed LLM SDKs so that every call
emits one OpenTelemetry span and a set of metrics with its tokens, cost and attribution.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .core.config import ConfigError
from .core.safety import TokentraceError

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time these load on first use
    # ``name as name``: an explicit re-export, which is what these are.
    from .attribution import (
        agent_step as agent_step,
        attribute as attribute,
        current_attribution as current_attribution,
        propagate_context as propagate_context,
        workflow as workflow,
    )
    from .budgets import (
        AnomalyAlert as AnomalyAlert,
        BudgetAlert as BudgetAlert,
        BudgetConfigError as BudgetConfigError,
        BudgetExceeded as BudgetExceeded,
        BudgetStoreUnavailable as BudgetStoreUnavailable,
        ForecastAlert as ForecastAlert,
        ModelNotAllowed as ModelNotAllowed,
        budget as budget,
        model_policy as model_policy,
    )
    from .instrumentation import (
        flush as flush,
        instrument as instrument,
        is_instrumented as is_instrumented,
        uninstrument as uninstrument,
    )

# Public names that live in other modules, imported on first use so that ``import tokentrace``
# stays cheap (benchmarks/startup.py keeps it under 100 ms): even ``instrument`` pulls in the
# OpenTelemetry SDK and the price catalog, which a module that only decorates functions with
# ``@tokentrace.attribute`` at import time should not pay for.
_LAZY = {
    "instrument": "tokentrace.instrumentation",
    "uninstrument": "tokentrace.instrumentation",
    "is_instrumented": "tokentrace.instrumentation",
    "flush": "tokentrace.instrumentation",
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
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tokentrace' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
