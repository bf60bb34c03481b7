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
from typing import Any, Callable, List, Optional

from ..core.pipeline import CallObserver
from .alerts import METRIC_BUDGET_FORECAST_UTILIZATION, METRIC_BUDGET_UTILIZATION, BudgetAlert
from .anomaly import AnomalyAlert
from .context import ActiveBudget, Budget, active_budgets, budget
from .errors import BudgetConfigError, BudgetExceeded, BudgetStoreUnavailable, ModelNotAllowed
from .forecast import ForecastAlert
from .policy import ModelPolicy, load_policies, model_policy
from .spec import SCOPES, BudgetSpec, load_specs
from .store import SHARED_MEMORY, BudgetStore, MemoryStore, open_store
from .users import hash_user_match
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


def setup(config: Any, hash_user: Optional[Callable[[str], str]] = None) -> List[CallObserver]:
    """The budget observer for one ``instrument()``; always present so ``budget()`` blocks work.

    ``hash_user`` is attribution's user-id hash: a ``match`` on ``user`` is compared as the hash
    the calls carry (:mod:`.users`).

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
    specs = [hash_user_match(spec, hash_user) for spec in specs]
    policies = [hash_user_match(policy, hash_user) for policy in policies]
    store = _open_store(config, strict)
    specs = _refuse_unshared_user_hashes(specs, store, config, strict)
    alerter = Alerter(
        getattr(config, "meter_provider", None),
        getattr(config, "metric_attributes", ()),
        getattr(config, "metric_value_limit", 100),
    )
    meter_provider = getattr(config, "meter_provider", None)
    metric_keys = getattr(config, "metric_attributes", ())
    anomaly = _guard(lambda: parse_settings(getattr(config, "anomaly", None)), AnomalySettings(), strict)
    observers: List[CallObserver] = [
        PolicyEnforcer(policies, meter_provider, metric_keys, hash_user),
        BudgetEnforcer(specs, store, alerter, hash_user),
        VendorLimitObserver(meter_provider, metric_keys),
    ]
    if anomaly.enabled:
        observers.append(AnomalyDetector(anomaly, meter_provider, getattr(config, "metric_value_limit", 100)))
    return observers


def _open_store(config: Any, strict: bool) -> BudgetStore:
    """The configured store; an unusable one is a ConfigError under strict, else memory and a warning."""
    try:
        return open_store(getattr(config, "budget_store", None))
    except BudgetConfigError as exc:
        if strict:
            raise
        logger.error(
            "%s. Budgets fall back to the in-memory store (counted in this process only); tracing goes on. "
            "strict=True makes this an error.",
            exc,
        )
        return SHARED_MEMORY


def _refuse_unshared_user_hashes(specs: List[BudgetSpec], store: BudgetStore, config: Any, strict: bool) -> List[BudgetSpec]:
    """A shared store with ``user`` budgets needs one hash key for every process.

    Without ``TOKENTRACE_USER_HASH_KEY`` each process hashes user ids with its own random key,
    so the same user gets a different counter in each process and a 5-calls-a-day budget
    admits 5 calls per process. Such budgets are refused: ``BudgetConfigError`` under strict,
    otherwise an error line and the budget left out (the others still apply).
    """
    if isinstance(store, MemoryStore) or getattr(config, "user_hash_key", None):
        return specs
    refused = [spec for spec in specs if spec.scope == "user" or "user" in spec.match]
    if not refused:
        return specs
    message = (
        f"budget(s) {', '.join(repr(spec.name) for spec in refused)} count per user in the shared store "
        f"{store.label}, but no TOKENTRACE_USER_HASH_KEY (instrument(user_hash_key=...)) is set: every process "
        "would hash users with its own random key and give each user a separate allowance per process. Set the "
        "same secret TOKENTRACE_USER_HASH_KEY in every process"
    )
    if strict:
        raise BudgetConfigError(message)
    logger.error("tokentrace: %s; these budgets are left out until then (strict=True makes this an error).", message)
    return [spec for spec in specs if spec not in refused]


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
