"""Model policies: which models a team, feature or workflow may call, decided on purpose.

Teams are told to route models *intentionally* instead of discovering routing on the invoice. A
policy names the models allowed (``allow``) or refused (``deny``) for the calls it covers and
what happens to a call for any other model:

* ``warn``: the call goes out as written; a ``tokentrace.policy.violation`` span event, a
  ``tokentrace.policy.violations`` count and one log line per policy and model say so;
* ``block``: the call is not sent; :class:`ModelNotAllowed` reaches the application;
* ``rewrite``: the call is sent to the model ``rewrite`` maps it to (or ``to``), never silently:
  the span keeps the requested model in ``gen_ai.request.model`` and records the policy's in
  ``tokentrace.model.policy`` (distinct from ``tokentrace.model.rerouted``, which is the
  provider's doing); a call the policy has no target for is blocked.

Policies come from code (``tokentrace.model_policy(...)``, a context manager and decorator that
covers the calls inside it) and from configuration (``instrument(model_policies=...)``, or
``[[policy]]`` tables in the budgets file), with ``match = {team = "search"}`` to choose the
calls by attribution. Model names match exactly, as the same model (a dated snapshot or a Bedrock
id of an allowed model is allowed), or as a glob (``"gpt-5*"``).
"""

from __future__ import annotations

import contextvars
import fnmatch
import functools
import inspect
import logging
import os
from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple, TypeVar

from ..core.ratelog import RateLimitedLog
from ..core.safety import report
from ..pricing.identity import model_part, same_model
from ..pricing.resolve import name_forms
from ..records import semconv as sc
from .errors import REWRITABLE_SDKS, BudgetConfigError, ModelNotAllowed
from .spec import SCOPES, entry_places
from .users import HashedMatches, HashUser

logger = logging.getLogger("tokentrace")

ACTIONS = ("warn", "block", "rewrite")
EVENT_VIOLATION = "tokentrace.policy.violation"
ATTR_POLICY = "tokentrace.policy.name"
ATTR_ACTION = "tokentrace.policy.action"
METRIC_VIOLATIONS = "tokentrace.policy.violations"

_KEYS = ("name", "match", "allow", "deny", "action", "rewrite", "to")

F = TypeVar("F", bound=Callable[..., Any])


def _same(pattern: str, model: str) -> bool:
    """A policy's model name covers the model by the catalog's one model identity (dated snapshots,
    vendor spellings, Bedrock ids); a glob matches the name as sent, or its bare model part with or
    without its snapshot date and version."""
    pattern, model = pattern.strip().lower(), model.strip().lower()
    if pattern == model:
        return True
    if any(ch in pattern for ch in "*?["):
        return any(fnmatch.fnmatchcase(form, pattern) for form in (model, *name_forms(model_part(model))))
    return same_model(pattern, model) is True


@dataclass(frozen=True)
class ModelPolicy:
    """One policy; see the module docstring. Build it with :func:`build_policy` to have it checked."""

    name: str
    allow: Tuple[str, ...] = ()
    deny: Tuple[str, ...] = ()
    action: str = "warn"
    rewrite: Mapping[str, str] = field(default_factory=dict)
    to: Optional[str] = None
    match: Mapping[str, str] = field(default_factory=dict)

    def covers(self, values: Mapping[str, str]) -> bool:
        return all(values.get(key) == wanted for key, wanted in self.match.items())

    def allows(self, model: str) -> bool:
        if any(_same(pattern, model) for pattern in self.deny):
            return False
        return not self.allow or any(_same(pattern, model) for pattern in self.allow)

    def target(self, model: str) -> Optional[str]:
        """The model a ``rewrite`` policy sends instead of ``model`` (``None``: it names none)."""
        for source, target in self.rewrite.items():
            if _same(source, model):
                return target
        return self.to

    def describe(self) -> str:
        scope = ", ".join(f"{k}={v}" for k, v in sorted(self.match.items())) or "every call it covers"
        return f"model policy {self.name!r} ({scope})"


def _models(raw: Any, what: str) -> Tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, Sequence):
        raise ValueError(f"{what} must be a list of model names such as [\"gpt-5-mini\"], got {raw!r}")
    models = []
    for item in raw:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"{what} must hold model names, got {item!r}")
        models.append(item.strip())
    return tuple(models)


def build_policy(entry: Mapping[str, Any], where: str) -> ModelPolicy:
    """Check one declaration; raises :class:`BudgetConfigError` naming ``where`` and the fix."""
    try:
        return _build(entry)
    except (TypeError, ValueError) as exc:
        raise BudgetConfigError(f"{where}: {exc}") from None


def _build(entry: Mapping[str, Any]) -> ModelPolicy:
    if not isinstance(entry, Mapping):
        raise ValueError(f"expected a table of model policy settings, got {entry!r}")
    unknown = sorted(set(entry) - set(_KEYS))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(map(repr, unknown))}; known settings are {', '.join(_KEYS)}")
    allow = _models(entry.get("allow"), "allow")
    deny = _models(entry.get("deny"), "deny")
    if not allow and not deny:
        raise ValueError("a model policy needs allow=[...] (the models it permits), deny=[...], or both")
    action = entry.get("action", "warn")
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
    rewrite = entry.get("rewrite") or {}
    if not isinstance(rewrite, Mapping):
        raise ValueError(f"rewrite must be a map of models such as {{\"gpt-5\" = \"gpt-5-mini\"}}, got {rewrite!r}")
    for source, target in rewrite.items():
        if not isinstance(source, str) or not isinstance(target, str) or not source.strip() or not target.strip():
            raise ValueError(f"rewrite maps model names to model names, got {source!r} -> {target!r}")
    to = entry.get("to")
    if to is not None and (not isinstance(to, str) or not to.strip()):
        raise ValueError(f"to must be a model name, got {to!r}")
    if action == "rewrite" and not rewrite and to is None:
        raise ValueError("action='rewrite' needs rewrite={...} (model -> model) or to='<model>'")
    if action != "rewrite" and (rewrite or to is not None):
        raise ValueError("rewrite= and to= only apply with action='rewrite'")
    policy_for_check = ModelPolicy("check", allow, deny, action, dict(rewrite), to)
    for target in [*rewrite.values(), *([to] if to else [])]:
        if not policy_for_check.allows(target):
            raise ValueError(f"the rewrite target {target!r} is not allowed by this policy itself")
    match = entry.get("match") or {}
    if not isinstance(match, Mapping):
        raise ValueError(f"match must be a table such as {{team = \"search\"}}, got {match!r}")
    for key in match:
        if key not in SCOPES or key == "global":
            raise ValueError(f"unknown key {key!r} in match; expected one of {', '.join(SCOPES[1:])}")
    name = entry.get("name") or (",".join(f"{k}={v}" for k, v in sorted(match.items())) or "policy")
    if not isinstance(name, str):
        raise ValueError(f"name must be text, got {name!r}")
    return ModelPolicy(
        name=name,
        allow=allow,
        deny=deny,
        action=action,
        rewrite={k.strip(): v.strip() for k, v in rewrite.items()},
        to=to.strip() if to else None,
        match={str(k): str(v) for k, v in match.items()},
    )


def load_policies(source: Any, on_error: Optional[Callable[[BudgetConfigError], None]] = None) -> List[ModelPolicy]:
    """Policies from a TOML path (its ``[[policy]]`` tables), ``{"policy": [...]}`` or a list of tables."""
    where_base, entries = _entries(source)
    places = entry_places(source, where_base, ("policy", "policies"), len(entries))
    policies: List[ModelPolicy] = []
    seen: Set[str] = set()
    for index, entry in enumerate(entries, start=1):
        label = f"policy entry #{index}"
        if isinstance(entry, Mapping) and entry.get("name"):
            label += f" ({entry['name']!r})"
        where = f"{label} in {places[index - 1]}"
        try:
            policy = entry if isinstance(entry, ModelPolicy) else build_policy(entry, where)
            if policy.name in seen:
                raise BudgetConfigError(f"{where}: the name {policy.name!r} is used twice; give each policy a distinct name=")
        except BudgetConfigError as exc:
            if on_error is None:
                raise
            on_error(exc)
            continue
        seen.add(policy.name)
        policies.append(policy)
    return policies


def _entries(source: Any) -> Tuple[str, List[Any]]:
    if isinstance(source, (str, os.PathLike)):
        from .spec import read_toml

        path = os.fspath(source)
        document = read_toml(path, "model policies file")
        tables = document.get("policy", document.get("policies", []))
        if not isinstance(tables, list):
            raise BudgetConfigError(f"{path}: 'policy' must be an array of tables ([[policy]]), got {tables!r}")
        return path, tables
    if isinstance(source, Mapping):
        tables = source.get("policy", source.get("policies", []))
        if not isinstance(tables, list):
            raise BudgetConfigError(f"the model_policies option: 'policy' must be a list of tables, got {tables!r}")
        return "the model_policies option", tables
    if isinstance(source, Sequence):
        return "the model_policies option", list(source)
    raise BudgetConfigError(
        f"model_policies must be a path to a TOML file or a list of policy tables, got {type(source).__name__}"
    )


# -- in code ------------------------------------------------------------------------------------

_active: contextvars.ContextVar[Tuple[ModelPolicy, ...]] = contextvars.ContextVar("tokentrace_model_policies", default=())


class PolicyBlock:
    """What ``tokentrace.model_policy(...)`` returns: a context manager and a decorator.

    Entering pushes the policy on a context variable (so threads started with
    ``contextvars.copy_context()`` and asyncio tasks inherit it); leaving removes the innermost
    occurrence from the current context's stack.
    """

    def __init__(self, policy: ModelPolicy) -> None:
        self.policy = policy

    def __enter__(self) -> ModelPolicy:
        _active.set(_active.get() + (self.policy,))
        return self.policy

    def __exit__(self, *exc: object) -> None:
        stack = _active.get()
        for index in range(len(stack) - 1, -1, -1):
            if stack[index] is self.policy:
                _active.set(stack[:index] + stack[index + 1 :])
                return

    async def __aenter__(self) -> ModelPolicy:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)

    def __call__(self, fn: F) -> F:
        policy = self.policy
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with PolicyBlock(policy):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with PolicyBlock(policy):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def model_policy(
    allow: Optional[Iterable[str]] = None,
    *,
    deny: Optional[Iterable[str]] = None,
    action: str = "warn",
    rewrite: Optional[Mapping[str, str]] = None,
    to: Optional[str] = None,
    name: Optional[str] = None,
    match: Optional[Mapping[str, str]] = None,
) -> PolicyBlock:
    """A model policy for the LLM calls made inside a ``with`` block or a decorated function.

    ``allow`` / ``deny``: model names (or globs such as ``"gpt-5*"``); snapshots of a named model
    count as that model. ``action``: ``"warn"``, ``"block"`` (raise :class:`ModelNotAllowed`
    before the call is sent) or ``"rewrite"`` (send the model ``rewrite`` maps it to, or ``to``).
    ``match``: cover only the calls whose attribution has these values. Raises
    :class:`BudgetConfigError` (a ``ValueError``) at once for bad arguments.
    """
    entry: Dict[str, Any] = {"action": action, "name": name or "model_policy()"}
    if allow is not None:
        entry["allow"] = list(allow) if not isinstance(allow, str) else allow
    if deny is not None:
        entry["deny"] = list(deny) if not isinstance(deny, str) else deny
    if rewrite is not None:
        entry["rewrite"] = dict(rewrite)
    if to is not None:
        entry["to"] = to
    if match is not None:
        entry["match"] = dict(match)
    return PolicyBlock(build_policy(entry, "tokentrace.model_policy()"))


def active_policies() -> Tuple[ModelPolicy, ...]:
    return _active.get()


# -- the observer -------------------------------------------------------------------------------


class PolicyEnforcer:
    """The :class:`~tokentrace.core.pipeline.CallObserver` that applies model policies.

    It runs before the budgets, so a budget's projection prices the model that will be sent.
    """

    #: Policies act before the request only: the pipeline skips the empty ``after_call``.
    wants_after_call = False

    def __init__(
        self, policies: Sequence[ModelPolicy], meter_provider: Any = None, metric_keys: Iterable[str] = (),
        hash_user: Optional[HashUser] = None,
    ) -> None:
        self.policies = tuple(policies)
        #: Policies declared in code that match on ``user``, compared as the hash calls carry.
        self._hashed = HashedMatches(hash_user)
        #: One line per (policy, model, action) per interval; bounded however many models the app names.
        self._log = RateLimitedLog()
        self._metric_keys = tuple(metric_keys)
        self._counter: Any = None
        self._meter_provider = meter_provider

    def before_call(self, call: Any) -> None:
        in_code = _active.get()
        if not in_code and not self.policies:
            return
        values = call.attribution.values
        if in_code:
            in_code = tuple(self._hashed.of(policy) for policy in in_code)
        for policy in (*self.policies, *in_code):
            if not policy.covers(values):
                continue
            model = call.record.sent_model
            if not model or policy.allows(model):
                continue
            self._violation(call, policy, model)

    def _violation(self, call: Any, policy: ModelPolicy, model: str) -> None:
        record = call.record
        action = policy.action
        target = policy.target(model) if action == "rewrite" else None
        if action == "rewrite" and not record.model_rewritable:
            target = None  # this adapter cannot send another model: blocked, never claimed
            self._warn_cannot_rewrite(policy, record.provider)
        if action == "rewrite" and target is None:
            action = "block"
        attributes: Dict[str, Any] = {
            ATTR_POLICY: policy.name,
            ATTR_ACTION: action,
            "tokentrace.model.requested": model,
        }
        if target:
            attributes[sc.TT_MODEL_POLICY] = target
        _event(call, attributes)
        self._count(call, policy, action)
        if action == "block":
            raise ModelNotAllowed(policy=policy.name, scope=policy.describe(), model=model, allowed=policy.allow, denied=policy.deny)
        if action == "rewrite" and target:
            record.policy_model = target
        cause = (policy.name, model, action)
        if action == "rewrite":
            self._log.warning(
                cause,
                "tokentrace: %s does not allow model %r; such calls are sent to %r instead (the span records "
                "tokentrace.model.policy).",
                policy.describe(),
                model,
                target,
            )
        else:
            self._log.warning(
                cause,
                "tokentrace: %s does not allow model %r (allowed: %s); the call was sent (action='warn').",
                policy.describe(),
                model,
                ", ".join(policy.allow) or "any but " + ", ".join(policy.deny),
            )

    def _warn_cannot_rewrite(self, policy: ModelPolicy, provider: str) -> None:
        self._log.warning(
            (policy.name, provider, "cannot-rewrite"),
            "tokentrace: %s rewrites models, but tokentrace cannot send calls made through the %s SDK to another "
            "model (it rewrites %s requests); such calls are blocked.",
            policy.describe(),
            provider,
            REWRITABLE_SDKS,
        )

    def _count(self, call: Any, policy: ModelPolicy, action: str) -> None:
        try:
            if self._counter is None:
                from opentelemetry import metrics

                from .._version import __version__

                meter = metrics.get_meter("tokentrace", __version__, meter_provider=self._meter_provider)
                self._counter = meter.create_counter(
                    METRIC_VIOLATIONS, unit="{call}", description="LLM calls for a model that a model policy does not allow."
                )
            attributes = {
                ATTR_POLICY: policy.name,
                ATTR_ACTION: action,
                sc.GEN_AI_PROVIDER_NAME: call.record.provider,
                sc.GEN_AI_REQUEST_MODEL: call.record.request_model or "",
            }
            attributes.update(call.attribution.metric_attributes)
            self._counter.add(1, attributes)
        except Exception as exc:
            report("model policy metric", exc)

    def after_call(self, call: Any) -> None:
        return None


def _event(call: Any, attributes: Mapping[str, Any]) -> None:
    try:
        call.add_event(EVENT_VIOLATION, attributes)  # kept until the span exists (an SDK's own span)
    except Exception as exc:
        report("model policy span event", exc)
