"""What a budget is, and turning declarations (code, TOML, dicts) into checked :class:`BudgetSpec`.

Every problem is reported in words that name the entry (``budget entry #2 ('team-daily') in
budgets.toml``) and say what to write instead, because a budget that silently does not apply is
worse than none.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ..pricing.identity import same_model
from .errors import BudgetConfigError
from .windows import WINDOWS

#: Attribution keys a budget can be scoped to (``global``: one budget for every call).
SCOPES = ("global", "team", "feature", "workflow", "agent_step", "task", "tenant", "user")
#: Scope of a ``tokentrace.budget()`` block without ``scope=``/``window=``: that block alone.
ENTRY_SCOPE = "entry"
DEFAULT_THRESHOLDS = (0.5, 0.8, 1.0)
ON_EXCEED = ("raise", "warn", "downgrade")
ON_STORE_ERROR = ("open", "closed")
NANO = 1_000_000_000

Alert = Callable[[Any], None]
OnExceed = Union[str, Alert]
#: A downgrade: a map of requested model -> cheaper model, or a function (model -> model or None).
Downgrade = Union[Mapping[str, str], Callable[[str], Optional[str]]]

_KEYS = (
    "name",
    "usd",
    "tokens",
    "window",
    "scope",
    "match",
    "on_exceed",
    "downgrade",
    "thresholds",
    "project",
    "on_store_error",
    "forecast",
    "forecast_over",
)
#: Trailing period of the burn-rate forecast, by window, when ``forecast_over`` is not given.
DEFAULT_FORECAST_OVER_S = {"hour": 15 * 60, "day": 3 * 3600, "month": 3 * 86400}
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class BudgetSpec:
    """One budget: its limits, the calls it covers, and what happens at the limit.

    ``on_exceed="raise"`` makes it *hard* (calls are blocked once it is used up); ``"warn"`` or a
    callable makes it *soft* (alerts only); ``"downgrade"`` sends calls past the limit to the
    cheaper model ``downgrade`` names (and blocks a call whose model it has no cheaper one for).
    Windowed budgets forecast their window's spend from the burn rate over ``forecast_over``
    seconds (see :mod:`.forecast`). Limits are kept in nano-dollars and tokens, integers,
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
    downgrade: Optional[Downgrade] = None
    forecast: bool = True
    #: Trailing period (seconds) of the burn rate; ``None`` for ``total`` budgets (no forecast).
    forecast_over: Optional[float] = None

    @property
    def hard(self) -> bool:
        return self.on_exceed == "raise"

    @property
    def downgrades(self) -> bool:
        return self.on_exceed == "downgrade"

    @property
    def admits(self) -> bool:
        """True when the store must admit each call (hard and downgrade budgets)."""
        return self.on_exceed in ("raise", "downgrade")

    def cheaper_model(self, model: Optional[str]) -> Optional[str]:
        """The model a downgrade sends instead of ``model``, or ``None`` when it names none."""
        if not model or self.downgrade is None:
            return None
        if callable(self.downgrade):
            chosen = self.downgrade(model)
            return chosen if isinstance(chosen, str) and chosen and chosen != model else None
        chosen = self.downgrade.get(model)
        if chosen is None:
            # The map names a model; a snapshot or another spelling of it is the same model.
            chosen = next((target for source, target in self.downgrade.items() if same_model(source, model) is True), None)
        return chosen if chosen and chosen != model else None

    @property
    def limit_nano_usd(self) -> Optional[int]:
        return None if self.usd is None else round(self.usd * NANO)

    def describe_scope(self, value: Optional[str]) -> str:
        return "this block" if self.scope == ENTRY_SCOPE else f"{self.scope}={value}"


def finite_setting(value: Any, what: str) -> float:
    """A setting's number (an int, a float or its text), finite: ``inf``/``nan`` are refused, as is a bool."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def _number(value: Any, what: str) -> float:
    number = finite_setting(value, what)
    if number < 0:
        raise ValueError(f"{what} must not be negative, got {value!r} (use 0 to block every call)")
    cap = _MAXIMA.get(what)
    if cap is not None and number > cap:
        raise ValueError(f"{what} = {value!r} is not plausible: at most {cap:,.0f} (limits are counted exactly, in 64-bit integers)")
    return number


#: Largest limits: nano-dollars and tokens are counted in 64-bit integers (here and in Redis).
_MAXIMA = {"usd": 1e9, "tokens": 1e15}


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
        raise ValueError(f"on_exceed must be 'raise', 'warn', 'downgrade' or a function, got {on_exceed!r}")
    on_store_error = entry.get("on_store_error", "open")
    if on_store_error not in ON_STORE_ERROR:
        raise ValueError(f"on_store_error must be 'open' or 'closed', got {on_store_error!r}")
    downgrade = entry.get("downgrade")
    if on_exceed == "downgrade":
        if downgrade is None:
            raise ValueError(
                "on_exceed='downgrade' needs downgrade= a map of models such as "
                "{\"gpt-5\": \"gpt-5-mini\"} or a function that returns the cheaper model"
            )
    elif downgrade is not None:
        raise ValueError("downgrade= only applies with on_exceed='downgrade'")
    if downgrade is not None and not callable(downgrade):
        if not isinstance(downgrade, Mapping) or not downgrade:
            raise ValueError(f"downgrade must be a map of model names such as {{\"gpt-5\": \"gpt-5-mini\"}}, got {downgrade!r}")
        for source, target in downgrade.items():
            if not isinstance(source, str) or not isinstance(target, str) or not source.strip() or not target.strip():
                raise ValueError(f"downgrade maps model names to model names, got {source!r} -> {target!r}")
            if source == target:
                raise ValueError(f"downgrade maps {source!r} to itself; name a cheaper model")
        downgrade = {str(k).strip(): str(v).strip() for k, v in downgrade.items()}
    forecast = entry.get("forecast", True)
    if not isinstance(forecast, bool):
        raise ValueError(f"forecast must be true or false, got {forecast!r}")
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
        downgrade=downgrade,
        forecast=forecast and window in DEFAULT_FORECAST_OVER_S,
        forecast_over=_forecast_over(entry.get("forecast_over"), window),
    )


def parse_duration(raw: Any, what: str) -> float:
    """Seconds from a number or text such as ``"90s"``, ``"15m"``, ``"6h"``, ``"3d"``."""
    if isinstance(raw, str):
        text = raw.strip().lower()
        unit = _DURATION_UNITS.get(text[-1:]) if text else None
        number_text = text[:-1] if unit else text
        try:
            value = float(number_text) * (unit or 1)
        except ValueError:
            raise ValueError(f"{what} must be a duration such as '15m', '6h' or '3d', got {raw!r}") from None
    else:
        value = _number(raw, what)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive duration such as '15m', '6h' or '3d', got {raw!r}")
    return value


def _forecast_over(raw: Any, window: str) -> Optional[float]:
    if window not in DEFAULT_FORECAST_OVER_S:
        if raw is not None:
            raise ValueError(f"forecast_over only applies to hour, day and month windows, not {window!r}")
        return None
    if raw is None:
        return float(DEFAULT_FORECAST_OVER_S[window])
    return parse_duration(raw, "forecast_over")


def _default_name(scope: str, window: str, match: Mapping[str, Any]) -> str:
    name = scope if not match else ",".join(f"{k}={v}" for k, v in sorted(match.items()))
    return f"{name}/{window}"


def load_specs(source: Any, on_error: Optional[Callable[[BudgetConfigError], None]] = None) -> List[BudgetSpec]:
    """Budgets from ``instrument(budgets=...)``: a TOML path, a list of tables, or ``{"budget": [...]}``.

    A bad entry raises :class:`BudgetConfigError`, or, when ``on_error`` is given, is passed to it
    and left out while the other entries still load.
    """
    where_base, entries = _entries(source)
    places = entry_places(source, where_base, ("budget", "budgets"), len(entries))
    specs: List[BudgetSpec] = []
    seen: Dict[str, str] = {}
    for index, entry in enumerate(entries, start=1):
        label = f"budget entry #{index}"
        if isinstance(entry, Mapping) and entry.get("name"):
            label += f" ({entry['name']!r})"
        where = f"{label} in {places[index - 1]}"
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


def entry_places(source: Any, where: str, tables: Tuple[str, ...], count: int) -> List[str]:
    """Where each entry is, for error messages: ``budgets.toml:12`` (the line of its ``[[budget]]``
    header) when the source is a file whose headers can be counted, else ``where`` for all."""
    if isinstance(source, (str, os.PathLike)):
        header = re.compile(r"^\s*\[\[\s*(?:" + "|".join(map(re.escape, tables)) + r")\s*\]\]")
        try:
            with open(os.fspath(source), encoding="utf-8") as handle:
                lines = [number for number, line in enumerate(handle, start=1) if header.match(line)]
        except (OSError, UnicodeDecodeError):
            lines = []
        if len(lines) == count:  # tables written inline (budget = [{...}]) are not counted
            return [f"{where}:{line}" for line in lines]
    return [where] * count


def _entries(source: Any) -> Tuple[str, List[Any]]:
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        return path, _table_list(read_toml(path, "budgets file"), path)
    if isinstance(source, Mapping):
        return "the budgets option", _table_list(source, "the budgets option")
    if isinstance(source, Sequence):
        return "the budgets option", list(source)
    raise BudgetConfigError(
        f"the budgets option must be a path to a TOML file or a list of budget tables, got {type(source).__name__}"
    )


def read_toml(path: str, what: str) -> Dict[str, Any]:
    """A TOML file as a dict, or a :class:`BudgetConfigError` that says what is wrong with it."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise BudgetConfigError(f"{what} {path!r} cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise BudgetConfigError(f"{what} {path!r} is not valid TOML: {exc}") from None


def _table_list(document: Mapping[str, Any], where: str) -> List[Any]:
    unknown = sorted(set(document) - {"budget", "budgets", "policy", "policies"})
    if unknown:
        raise BudgetConfigError(
            f"{where}: unknown top-level key(s) {', '.join(map(repr, unknown))}; declare budgets as [[budget]] "
            "tables and model policies as [[policy]] tables"
        )
    tables = document.get("budget", document.get("budgets", []))
    if not isinstance(tables, list):
        raise BudgetConfigError(f"{where}: 'budget' must be an array of tables ([[budget]]), got {tables!r}")
    return tables
