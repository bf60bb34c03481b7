"""What a budget is, and turning declarations (code, TOML, dicts) into checked :class:`BudgetSpec`.

Every problem is reported in words that name the entry (``budget entry #2 ('team-daily') in
budgets.toml``) and say what to write instead, because a budget that silently does not apply is
worse than none.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .errors import BudgetConfigError
from .windows import WINDOWS

#: Attribution keys a budget can be scoped to (``global``: one budget for every call).
SCOPES = ("global", "team", "feature", "workflow", "agent_step", "task", "tenant", "user")
#: Scope of a ``tokentrace.budget()`` block without ``scope=``/``window=``: that block alone.
ENTRY_SCOPE = "entry"
DEFAULT_THRESHOLDS = (0.5, 0.8, 1.0)
ON_EXCEED = ("raise", "warn")
ON_STORE_ERROR = ("open", "closed")
NANO = 1_000_000_000

Alert = Callable[[Any], None]
OnExceed = Union[str, Alert]

_KEYS = ("name", "usd", "tokens", "window", "scope", "match", "on_exceed", "thresholds", "project", "on_store_error")


@dataclass(frozen=True)
class BudgetSpec:
    """One budget: its limits, the calls it covers, and what happens at the limit.

    ``on_exceed="raise"`` makes it *hard* (calls are blocked once it is used up); ``"warn"`` or a
    callable makes it *soft* (alerts only). Limits are kept in nano-dollars and tokens, integers,
    so that the boundary (``spent >= limit`` blocks) is exact, in memory and in Redis alike.
    """

    name: str
    usd: Optional[float] = None
    tokens: Optional[int] = None
    window: str = "total"
    scope: str = ENTRY_SCOPE
    match: Mapping[str, str] = field(default_factory=dict)
    on_exceed: OnExceed = "raise"
    thresholds: Tuple[float, ...] = DEFAULT_THRESHOLDS
    project: bool = False
    on_store_error: str = "open"

    @property
    def hard(self) -> bool:
        return self.on_exceed == "raise"

    @property
    def limit_nano_usd(self) -> Optional[int]:
        return None if self.usd is None else round(self.usd * NANO)

    def describe_scope(self, value: Optional[str]) -> str:
        return "this block" if self.scope == ENTRY_SCOPE else f"{self.scope}={value}"


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if number < 0:
        raise ValueError(f"{what} must not be negative, got {value!r} (use 0 to block every call)")
    return number


def _thresholds(raw: Any) -> Tuple[float, ...]:
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
        raise ValueError(f"thresholds must be a list of fractions such as [0.5, 0.8, 1.0], got {raw!r}")
    values = []
    for item in raw:
        value = _number(item, "each threshold")
        if value <= 0:
            raise ValueError(f"thresholds must be above 0 (0.8 means 80 %), got {item!r}")
        if value > 10:
            raise ValueError(f"threshold {item!r} looks like a percentage; write fractions (0.8 for 80 %)")
        values.append(value)
    return tuple(sorted(set(values)))


def build_spec(entry: Mapping[str, Any], where: str, *, allow_entry_scope: bool = False) -> BudgetSpec:
    """Check one declaration; raises :class:`BudgetConfigError` naming ``where`` and the fix."""
    try:
        return _build(entry, allow_entry_scope)
    except (TypeError, ValueError) as exc:
        raise BudgetConfigError(f"{where}: {exc}") from None


def _build(entry: Mapping[str, Any], allow_entry_scope: bool) -> BudgetSpec:
    if not isinstance(entry, Mapping):
        raise ValueError(f"expected a table of budget settings, got {entry!r}")
    unknown = sorted(set(entry) - set(_KEYS))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(map(repr, unknown))}; known settings are {', '.join(_KEYS)}")
    usd = None if entry.get("usd") is None else _number(entry["usd"], "usd")
    tokens_raw = None if entry.get("tokens") is None else _number(entry["tokens"], "tokens")
    if tokens_raw is not None and tokens_raw != int(tokens_raw):
        raise ValueError(f"tokens must be a whole number, got {entry['tokens']!r}")
    if usd is None and tokens_raw is None:
        raise ValueError("a budget needs a limit: usd=..., tokens=..., or both")
    scope = entry.get("scope")
    window = entry.get("window")
    if scope is None and window is None and allow_entry_scope:
        scope, window = ENTRY_SCOPE, "total"
    scope = "global" if scope is None else scope
    if scope not in SCOPES and not (scope == ENTRY_SCOPE and allow_entry_scope):
        raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")
    window = "total" if window is None else window
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}; expected one of {', '.join(WINDOWS)} (UTC)")
    match = entry.get("match") or {}
    if not isinstance(match, Mapping):
        raise ValueError(f"match must be a table such as {{team = \"search\"}}, got {match!r}")
    for key in match:
        if key not in SCOPES or key == "global":
            raise ValueError(f"unknown scope key {key!r} in match; expected one of {', '.join(SCOPES[1:])}")
    on_exceed = entry.get("on_exceed", "raise")
    if not callable(on_exceed) and on_exceed not in ON_EXCEED:
        raise ValueError(f"on_exceed must be 'raise', 'warn' or a function, got {on_exceed!r}")
    on_store_error = entry.get("on_store_error", "open")
    if on_store_error not in ON_STORE_ERROR:
        raise ValueError(f"on_store_error must be 'open' or 'closed', got {on_store_error!r}")
    project = entry.get("project", False)
    if not isinstance(project, bool):
        raise ValueError(f"project must be true or false, got {project!r}")
    name = entry.get("name") or _default_name(scope, window, match)
    if not isinstance(name, str):
        raise ValueError(f"name must be text, got {name!r}")
    return BudgetSpec(
        name=name,
        usd=usd,
        tokens=None if tokens_raw is None else int(tokens_raw),
        window=window,
        scope=scope,
        match={str(k): str(v) for k, v in match.items()},
        on_exceed=on_exceed,
        thresholds=_thresholds(entry.get("thresholds", DEFAULT_THRESHOLDS)),
        project=project,
        on_store_error=on_store_error,
    )


def _default_name(scope: str, window: str, match: Mapping[str, Any]) -> str:
    name = scope if not match else ",".join(f"{k}={v}" for k, v in sorted(match.items()))
    return f"{name}/{window}"


def load_specs(source: Any, on_error: Optional[Callable[[BudgetConfigError], None]] = None) -> List[BudgetSpec]:
    """Budgets from ``instrument(budgets=...)``: a TOML path, a list of tables, or ``{"budget": [...]}``.

    A bad entry raises :class:`BudgetConfigError`, or, when ``on_error`` is given, is passed to it
    and left out while the other entries still load.
    """
    where_base, entries = _entries(source)
    specs: List[BudgetSpec] = []
    seen: Dict[str, str] = {}
    for index, entry in enumerate(entries, start=1):
        label = f"budget entry #{index}"
        if isinstance(entry, Mapping) and entry.get("name"):
            label += f" ({entry['name']!r})"
        where = f"{label} in {where_base}"
        try:
            spec = build_spec(entry, where)
            if spec.name in seen:
                raise BudgetConfigError(
                    f"{where}: the name {spec.name!r} is already used by {seen[spec.name]}; give each budget a distinct name="
                )
        except BudgetConfigError as exc:
            if on_error is None:
                raise
            on_error(exc)
            continue
        seen[spec.name] = label
        specs.append(spec)
    return specs


def _entries(source: Any) -> Tuple[str, List[Any]]:
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            import tomllib

            with open(path, "rb") as handle:
                document = tomllib.load(handle)
        except OSError as exc:
            raise BudgetConfigError(f"budgets file {path!r} cannot be read: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise BudgetConfigError(f"budgets file {path!r} is not valid TOML: {exc}") from None
        return path, _table_list(document, path)
    if isinstance(source, Mapping):
        return "the budgets option", _table_list(source, "the budgets option")
    if isinstance(source, Sequence):
        return "the budgets option", list(source)
    raise BudgetConfigError(
        f"the budgets option must be a path to a TOML file or a list of budget tables, got {type(source).__name__}"
    )


def _table_list(document: Mapping[str, Any], where: str) -> List[Any]:
    unknown = sorted(set(document) - {"budget", "budgets"})
    if unknown:
        raise BudgetConfigError(
            f"{where}: unknown top-level key(s) {', '.join(map(repr, unknown))}; declare budgets as [[budget]] tables"
        )
    tables = document.get("budget", document.get("budgets", []))
    if not isinstance(tables, list):
        raise BudgetConfigError(f"{where}: 'budget' must be an array of tables ([[budget]]), got {tables!r}")
    return tables
