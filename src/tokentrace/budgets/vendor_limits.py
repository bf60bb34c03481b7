"""The vendor's own spend limits: a refused call that is not a rate limit.

OpenAI answers 429 both when a client sends too fast and when the organization or project has
reached the spend limit set in its console (``organization_spend_limit_exceeded``,
``project_spend_limit_exceeded``, ``insufficient_quota``); Anthropic refuses calls once a
workspace's usage limit is reached or the credit balance is used up. Retrying the second kind
never helps, and an alert on "rate limited" sends the on-call engineer the wrong way. This
observer recognises them from the error the SDK raised (its code, type and status; the message
only for the vendors that have no code) and records what they are: a
``tokentrace.vendor.spend_limit`` span event and attribute, a ``tokentrace.vendor.spend_limit_errors``
count, and one warning per provider and kind. The error message itself is never copied.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from typing import Any, Dict, Iterable, NamedTuple, Optional, Tuple

from ..core.ratelog import RateLimitedLog
from ..core.safety import report
from ..records import semconv as sc

logger = logging.getLogger("tokentrace")

EVENT_SPEND_LIMIT = "tokentrace.vendor.spend_limit"
ATTR_SPEND_LIMIT = "tokentrace.vendor.spend_limit"
METRIC_SPEND_LIMIT_ERRORS = "tokentrace.vendor.spend_limit_errors"

#: Error codes (OpenAI and compatible) -> what was reached.
_CODES = {
    "organization_spend_limit_exceeded": "organization_spend_limit",
    "project_spend_limit_exceeded": "project_spend_limit",
    "billing_hard_limit_reached": "billing_hard_limit",
    "insufficient_quota": "insufficient_quota",
}
#: Error types (Anthropic) -> what was reached.
_TYPES = {"billing_error": "billing"}
#: Message fragments, for the vendors that give no code: (fragment, kind).
_MESSAGES: Tuple[Tuple[str, str], ...] = (
    ("reached your specified api usage limits", "workspace_spend_limit"),
    ("credit balance is too low", "credit_balance"),
    ("reached its monthly spending limit", "monthly_spend_limit"),
    ("spend limit", "spend_limit"),
    ("spending limit", "spend_limit"),
)
_LABELS = {
    "organization_spend_limit": "the organization's spend limit is reached",
    "project_spend_limit": "the project's spend limit is reached",
    "billing_hard_limit": "the account's hard billing limit is reached",
    "insufficient_quota": "the account has no quota left (credits or spend limit)",
    "billing": "the account's billing refuses calls",
    "workspace_spend_limit": "the workspace's usage limit is reached",
    "credit_balance": "the credit balance is used up",
    "monthly_spend_limit": "the monthly spending limit is reached",
    "spend_limit": "a spend limit is reached",
}


class SpendLimit(NamedTuple):
    kind: str
    code: Optional[str]
    status: Optional[int]


def _error_body(error: BaseException) -> Mapping[str, Any]:
    body = getattr(error, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error")
        return inner if isinstance(inner, Mapping) else body
    return {}


def classify(error: Optional[BaseException]) -> Optional[SpendLimit]:
    """What vendor spend limit ``error`` reports, or ``None`` when it is something else."""
    if error is None:
        return None
    status = getattr(error, "status_code", None)
    status = status if isinstance(status, int) else None
    if status is not None and status not in (400, 402, 403, 429):
        return None
    body = _error_body(error)
    code = getattr(error, "code", None) or body.get("code")
    code = code if isinstance(code, str) else None
    if code and code in _CODES:
        return SpendLimit(_CODES[code], code, status)
    kind_of_type = _TYPES.get(str(getattr(error, "type", None) or body.get("type") or ""))
    if kind_of_type:
        return SpendLimit(kind_of_type, code, status)
    if status is None:
        return None
    message = str(body.get("message") or getattr(error, "message", "") or "").lower()
    for fragment, kind in _MESSAGES:
        if fragment in message:
            return SpendLimit(kind, code, status)
    return None


class VendorLimitObserver:
    """Marks calls refused by a vendor's spend limit (see the module docstring)."""

    #: Nothing to check before a call: the pipeline skips the hook.
    wants_before_call = False

    def __init__(self, meter_provider: Any = None, metric_keys: Iterable[str] = ()) -> None:
        self._meter_provider = meter_provider
        self._counter: Any = None
        self._log = RateLimitedLog()

    def before_call(self, call: Any) -> None:
        return None

    def after_call(self, call: Any) -> None:
        limit = classify(call.error)
        if limit is None:
            return
        record = call.record
        attributes: Dict[str, Any] = {"tokentrace.vendor.spend_limit.kind": limit.kind}
        if limit.code:
            attributes["tokentrace.vendor.spend_limit.code"] = limit.code
        if limit.status is not None:
            attributes["http.response.status_code"] = limit.status
        try:
            call.span.set_attribute(ATTR_SPEND_LIMIT, limit.kind)
            call.span.add_event(EVENT_SPEND_LIMIT, attributes)
        except Exception as exc:
            report("vendor spend limit span event", exc)
        self._count(call, limit)
        self._log.warning(
            (record.provider, limit.kind),
            "tokentrace: %s refused a call because %s (%s); this is not a rate limit and retrying will "
            "not help: raise the limit in the vendor's console. Such calls are counted in %s.",
            record.provider,
            _LABELS.get(limit.kind, limit.kind),
            limit.code or f"HTTP {limit.status}",
            METRIC_SPEND_LIMIT_ERRORS,
        )

    def _count(self, call: Any, limit: SpendLimit) -> None:
        try:
            if self._counter is None:
                from opentelemetry import metrics

                from .._version import __version__

                meter = metrics.get_meter("tokentrace", __version__, meter_provider=self._meter_provider)
                self._counter = meter.create_counter(
                    METRIC_SPEND_LIMIT_ERRORS,
                    unit="{call}",
                    description="LLM calls the vendor refused because a spend limit or the credit was used up.",
                )
            attributes = {
                sc.GEN_AI_PROVIDER_NAME: call.record.provider,
                sc.GEN_AI_REQUEST_MODEL: call.record.request_model or "",
                "tokentrace.vendor.spend_limit.kind": limit.kind,
            }
            attributes.update(call.attribution.metric_attributes)
            self._counter.add(1, attributes)
        except Exception as exc:
            report("vendor spend limit metric", exc)
