"""Budgets that alert on, or stop, runaway LLM spend where the calls are made.

``tokentrace.budget(...)`` declares one in code (context manager or decorator); the ``budgets``
option of ``instrument()`` (or ``TOKENTRACE_BUDGETS``, a TOML file) declares them in
configuration, per team / feature / workflow / user / task, per UTC hour, day or month. Spend is
counted in a store: in this process by default, or in Redis (``budget_store="redis://..."``) to
share budgets across processes and machines. See the README, "Budgets".
"""

from __future__ import annotations

import logging
import os
from typing import Any, List

from ..core.pipeline import CallObserver
from .alerts import METRIC_BUDGET_FORECAST_UTILIZATION, METRIC_BUDGET_UTILIZATION, BudgetAlert
from .context import ActiveBudget, Budget, active_budgets, budget
from .errors import BudgetConfigError, BudgetExceeded, BudgetStoreUnavailable, ModelNotAllowed
from .anomaly import AnomalyAlert
from .forecast import ForecastAlert
from .policy import ModelPolicy, load_policies, model_policy
from .spec import SCOPES, BudgetSpec, load_specs
from .store import BudgetStore, MemoryStore, open_store
from .windows import WINDOWS

logger = logging.getLogger("tokentrace")

__all__ = [
    "ActiveBudget",
    "AnomalyAlert",
    "Budget",
    "BudgetAlert",
    "BudgetConfigError",
    "BudgetExceeded",
    "BudgetSpec",
    "BudgetStore",
    "BudgetStoreUnavailable",
    "ForecastAlert",
    "MemoryStore",
    "METRIC_BUDGET_FORECAST_UTILIZATION",
    "METRIC_BUDGET_UTILIZATION",
    "ModelNotAllowed",
    "ModelPolicy",
    "SCOPES",
    "WINDOWS",
    "active_budgets",
    "budget",
    "model_policy",
    "setup",
]


def setup(config: Any) -> List[CallObserver]:
    """The budget observer for one ``instrument()``; always present so ``budget()`` blocks work.

    A bad budget declaration or store raises :class:`BudgetConfigError` with ``strict=True``;
    otherwise it is logged as an error and the bad part left out (the other budgets still apply,
    and an unusable store falls back to memory).
    """
    from .alerts import Alerter
    from .anomaly import AnomalyDetector, AnomalySettings, parse_settings
    from .enforcer import BudgetEnforcer
    from .policy import PolicyEnforcer
    from .vendor_limits import VendorLimitObserver

    strict = bool(getattr(config, "strict", False))
    specs = []
    policies: List[ModelPolicy] = []
    if getattr(config, "budgets", None) is not None:
        specs = _guard(lambda: load_specs(config.budgets, None if strict else _log_error), [], strict)
        if isinstance(config.budgets, (str, os.PathLike)):
            policies += _guard(lambda: load_policies(config.budgets, None if strict else _log_error), [], strict)
    if getattr(config, "model_policies", None) is not None:
        policies += _guard(lambda: load_policies(config.model_policies, None if strict else _log_error), [], strict)
    store = _guard(lambda: open_store(getattr(config, "budget_store", None)), None, strict) or MemoryStore()
    alerter = Alerter(
        getattr(config, "meter_provider", None),
        getattr(config, "metric_attributes", ()),
        getattr(config, "metric_value_limit", 100),
    )
    meter_provider = getattr(config, "meter_provider", None)
    metric_keys = getattr(config, "metric_attributes", ())
    anomaly = _guard(lambda: parse_settings(getattr(config, "anomaly", None)), AnomalySettings(), strict)
    observers: List[CallObserver] = [
        PolicyEnforcer(policies, meter_provider, metric_keys),
        BudgetEnforcer(specs, store, alerter),
        VendorLimitObserver(meter_provider, metric_keys),
    ]
    if anomaly.enabled:
        observers.append(AnomalyDetector(anomaly, meter_provider, getattr(config, "metric_value_limit", 100)))
    return observers


def _log_error(exc: BudgetConfigError) -> None:
    logger.error("%s (this entry is left out; strict=True makes this an error)", exc)


def _guard(build: Any, fallback: Any, strict: bool) -> Any:
    try:
        return build()
    except BudgetConfigError as exc:
        if strict:
            raise
        logger.error("%s (tokentrace carries on without it; strict=True makes this an error)", exc)
        return fallback
