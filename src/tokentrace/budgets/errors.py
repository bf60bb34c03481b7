"""The errors a budget raises into the application, and the one bad configuration raises.

:class:`BudgetExceeded` subclasses :class:`~tokentrace.core.safety.InstrumentationIntent`, so the
pipeline and every adapter let it through to the application instead of swallowing it: a blocked
call must look to the app like a failed call, with a message that says which budget, by how much,
and since when.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional, Tuple, Union

from ..core.config import ConfigError
from ..core.safety import InstrumentationIntent

Number = Union[int, float]


#: The SDKs whose requests tokentrace can send to another model (a downgrade, a rewrite policy);
#: calls through the others are blocked instead, and the warning says which these are.
REWRITABLE_SDKS = "OpenAI, Anthropic, google-genai and Bedrock"


class BudgetConfigError(ConfigError):
    """A budget declaration tokentrace cannot use; the message names the entry and the fix."""


def format_usd(value: float) -> str:
    """Dollars to the nano-dollar, without trailing zeros: single calls cost fractions of a cent."""
    text = f"{abs(value):,.9f}".rstrip("0").rstrip(".")
    return f"-${text}" if value < 0 else f"${text}"


def _fmt(unit: str, value: Optional[Number]) -> str:
    if value is None:
        return "?"
    if unit == "usd":
        return format_usd(value)
    return f"{int(value):,} tokens"


def _when(moment: Optional[datetime]) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "?"


class BudgetExceeded(InstrumentationIntent):
    """A hard budget stopped a call before it was sent; the provider never received it.

    Attributes say what was exceeded and how: ``budget`` (name), ``scope`` and ``scope_value``
    (``team`` / ``"search"`` ...), ``unit`` (``"usd"`` or ``"tokens"``), ``limit``, ``spent``
    (settled spend in the window), ``in_flight`` (reserved by calls still running),
    ``projected`` (this call's projection, when projections are on), ``overspend`` (by how much
    the budget is, or would be, over its limit), ``reason`` (``"spent"``: the budget was already
    used up; ``"projected"``: this call would take it over), ``window`` / ``window_start`` and
    ``exceeded_since`` (when the spend first reached the limit, if it has).
    """

    def __init__(
        self,
        *,
        budget: str,
        scope: str,
        scope_value: Optional[str],
        unit: str,
        limit: Optional[Number],
        spent: Optional[Number],
        in_flight: Optional[Number] = None,
        projected: Optional[Number] = None,
        reason: str = "spent",
        window: Optional[str] = None,
        window_start: Optional[datetime] = None,
        exceeded_since: Optional[datetime] = None,
        model: Optional[str] = None,
        message: Optional[str] = None,
    ) -> None:
        self.budget = budget
        self.scope = scope
        self.scope_value = scope_value
        self.unit = unit
        self.limit = limit
        self.spent = spent
        self.in_flight = in_flight
        self.projected = projected
        self.reason = reason
        self.window = window
        self.window_start = window_start
        self.exceeded_since = exceeded_since
        self.model = model
        self.overspend = self._overspend()
        super().__init__(message or self._describe())

    def _overspend(self) -> Optional[Number]:
        if self.limit is None or self.spent is None:
            return None
        total = self.spent
        if self.reason == "projected":
            total = total + (self.in_flight or 0) + (self.projected or 0)
        over = total - self.limit
        return round(over, 9) if self.unit == "usd" else over

    def where(self) -> str:
        scope = "this block" if self.scope == "entry" else f"{self.scope}={self.scope_value}"
        if self.window and self.window != "total" and self.window_start:
            scope += f", {self.window} from {_when(self.window_start)}"
        return scope

    def _describe(self) -> str:
        call = f"the call to {self.model} was not sent" if self.model else "the call was not sent"
        head = f"tokentrace budget {self.budget!r} ({self.where()})"
        if self.reason == "projected":
            return (
                f"{head} would be exceeded: {_fmt(self.unit, self.spent)} spent + "
                f"{_fmt(self.unit, self.in_flight or 0)} in flight + this call's projected "
                f"{_fmt(self.unit, self.projected)} > limit {_fmt(self.unit, self.limit)} "
                f"(over by {_fmt(self.unit, self.overspend)}); {call}."
            )
        since = f" since {_when(self.exceeded_since)}" if self.exceeded_since else ""
        return (
            f"{head} is used up{since}: {_fmt(self.unit, self.spent)} spent of "
            f"{_fmt(self.unit, self.limit)} (over by {_fmt(self.unit, self.overspend)}); {call}."
        )


class BudgetStoreUnavailable(BudgetExceeded):
    """The budget store could not be reached and the budget says ``on_store_error="closed"``.

    A subclass of :class:`BudgetExceeded` so that code stopping on an exhausted budget also stops
    when the spend cannot be checked; ``reason`` is ``"store_unavailable"``.
    """

    def __init__(self, *, budget: str, scope: str, scope_value: Optional[str], store: str, cause: str) -> None:
        self.store = store
        super().__init__(
            budget=budget,
            scope=scope,
            scope_value=scope_value,
            unit="usd",
            limit=None,
            spent=None,
            reason="store_unavailable",
            message=(
                f"tokentrace budget {budget!r} could not be checked: the budget store {store} is "
                f"unreachable ({cause}) and the budget fails closed (on_store_error='closed'), so "
                f"the call was not sent."
            ),
        )


def utc_from_timestamp(value: Optional[float]) -> Optional[datetime]:
    return datetime.fromtimestamp(value, tz=timezone.utc) if value else None


class ModelNotAllowed(InstrumentationIntent):
    """A model policy refused a call before it was sent; the provider never received it.

    ``policy`` (name), ``scope`` (which calls the policy covers), ``model`` (the model the call
    asked for), ``allowed`` and ``denied`` (the policy's lists) say why.
    """

    def __init__(
        self, *, policy: str, scope: str, model: str, allowed: Tuple[str, ...] = (), denied: Tuple[str, ...] = ()
    ) -> None:
        self.policy = policy
        self.scope = scope
        self.model = model
        self.allowed = tuple(allowed)
        self.denied = tuple(denied)
        if allowed:
            rule = f"allowed models: {', '.join(allowed)}"
        else:
            rule = f"refused models: {', '.join(denied)}"
        super().__init__(
            f"tokentrace {scope} does not allow model {model!r} ({rule}); the call was not sent. "
            "Call an allowed model, or change the policy's action to 'warn' or 'rewrite'."
        )
