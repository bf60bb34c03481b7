"""The budget observer: checks budgets before a call is sent and counts the call when it ends.

``before_call`` runs on the application's thread after the span started and before the SDK
sends anything: for every hard budget that covers the call it reserves the call's projection
atomically in the store, and raises :class:`BudgetExceeded` if any refuses (releasing the
others), so the provider never receives a blocked call. ``after_call`` settles: it adds what the
call really used (``call.cost.usd`` and input + output tokens) and announces thresholds crossed.

Calls whose price is unknown (``call.cost.usd is None``) add their tokens to token limits but
nothing to USD limits; each such budget logs one warning per model and marks the span with a
``tokentrace.budget.unpriced`` event, so the gap is visible, never a silent 0. Failed calls
(no usage) count nothing.

A *downgrade* budget (``on_exceed="downgrade"``) is admitted like a hard one; where a hard budget
would block, it names the cheaper model instead (``record.policy_model``: the adapter sends that
model, the span says ``tokentrace.model.policy`` and carries a ``tokentrace.budget.downgraded``
event, and one warning per budget and model pair is logged), and blocks only a call whose model
it has no cheaper one for. After each settlement of a windowed budget the burn-rate forecast
(:mod:`.forecast`) is updated and, once a window, announced when the window will run out early.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence

from ..core import active
from ..core.estimate import heuristic_count
from ..core.ratelog import RateLimitedLog
from ..core.safety import report
from ..records import semconv as sc
from ..records.call import Usage
from .alerts import (
    ATTR_NAME,
    ATTR_SCOPE,
    EVENT_DOWNGRADED,
    EVENT_EXCEEDED,
    EVENT_UNCHECKED,
    EVENT_UNPRICED,
    Alerter,
    limit_of,
    make_alert,
)
from .context import ActiveBudget, active_budgets
from .errors import REWRITABLE_SDKS, BudgetExceeded, BudgetStoreUnavailable, utc_from_timestamp
from .forecast import Forecaster, make_forecast_alert
from .leases import LeaseKeeper
from .spec import ENTRY_SCOPE, NANO, BudgetSpec
from .store import Admission, Amount, BudgetStore, StoreUnavailable, utilization as spent_fraction_of
from .users import HashedMatches, HashUser
from .windows import Period, period, utc_now

logger = logging.getLogger("tokentrace")

STATE_KEY = "tokentrace.budgets"


class Applied(NamedTuple):
    """One budget as it applies to one call: which counter, in which store."""

    spec: BudgetSpec
    store: BudgetStore
    key: str
    scope_value: Optional[str]
    period: Period
    ttl_s: Optional[int]


class BudgetEnforcer:
    """The :class:`~tokentrace.core.pipeline.CallObserver` behind every budget."""

    def __init__(self, specs: Sequence[BudgetSpec], store: BudgetStore, alerter: Alerter, hash_user: Optional[HashUser] = None) -> None:
        self.specs = tuple(specs)
        #: Budgets declared in code that match on ``user``, compared as the hash calls carry.
        self._hashed = HashedMatches(hash_user)
        self.store = store
        self.alerter = alerter
        #: Per-call warnings (unpriced models, downgrades): one line per cause per interval, bounded.
        self._log = RateLimitedLog()
        self.forecaster = Forecaster()
        self.leases = LeaseKeeper()

    # -- before the call --------------------------------------------------------------------------

    def before_call(self, call: Any) -> None:
        entries = active_budgets()
        if not entries and not self.specs:
            return
        applied = self._applicable(call, entries)
        if not applied:
            return
        reservation = uuid.uuid4().hex
        admitting = [a for a in applied if a.spec.admits]
        projection = self._project(call) if any(a.spec.project for a in admitting) else Amount()
        reserved: List[Applied] = []
        try:
            for item in admitting:
                admission = self._reserve(call, item, projection, reservation)
                if admission is not None and not admission.admitted:
                    if item.spec.downgrades and self._downgrade(call, item, admission):
                        continue
                    raise self._exceeded(call, item, admission, projection)
                reserved.append(item)
        except BudgetExceeded as blocked:
            self._release(reserved, reservation)
            self._mark_blocked(call, blocked)
            raise
        except Exception:
            self._release(reserved, reservation)  # then the pipeline reports it; the call goes on
            raise
        call.observer_state[STATE_KEY] = (reservation, applied)
        # The reservations are leases: renewed while the call runs (however long a stream lasts).
        self.leases.add(reservation, [(item.store, item.key) for item in reserved])

    def _downgrade(self, call: Any, item: Applied, admission: Admission) -> bool:
        """Send the call to the budget's cheaper model; False when it names none for this model."""
        record = call.record
        asked = record.sent_model
        if not record.model_rewritable:
            self._log.warning(
                ("cannot-rewrite", item.spec.name, record.provider),
                "tokentrace: budget %r cannot downgrade calls made through the %s SDK: tokentrace cannot send them "
                "to another model (it rewrites %s requests), so they are blocked instead.",
                item.spec.name,
                record.provider,
                REWRITABLE_SDKS,
            )
            return False  # blocked like a hard budget: a downgrade is never claimed that was not sent
        try:
            cheaper = item.spec.cheaper_model(asked)
        except Exception as exc:
            report(f"budget {item.spec.name!r} downgrade function", exc)
            cheaper = None
        if not cheaper:
            return False
        record.policy_model = cheaper
        _span_event(
            call,
            EVENT_DOWNGRADED,
            {
                ATTR_NAME: item.spec.name,
                ATTR_SCOPE: item.spec.scope,
                "tokentrace.budget.reason": admission.reason or "spent",
                "tokentrace.budget.unit": admission.unit or "usd",
                "tokentrace.model.requested": asked or "",
                sc.TT_MODEL_POLICY: cheaper,
            },
        )
        self._log.warning(
            ("downgrade", item.spec.name, asked or "", cheaper),
            "tokentrace: budget %r (%s) is used up; calls for model %r are sent to %r instead "
            "(on_exceed='downgrade'; the span records tokentrace.model.policy).",
            item.spec.name,
            item.spec.describe_scope(item.scope_value),
            asked,
            cheaper,
        )
        return True

    def _reserve(self, call: Any, item: Applied, projection: Amount, reservation: str) -> Optional[Admission]:
        """The store's decision, or ``None`` when the store is down and the budget fails open."""
        try:
            return item.store.reserve(
                item.key, limit_of(item.spec), projection, item.spec.project, reservation, item.ttl_s
            )
        except StoreUnavailable as exc:
            if item.spec.on_store_error == "closed":
                raise BudgetStoreUnavailable(
                    budget=item.spec.name,
                    scope=item.spec.scope,
                    scope_value=item.scope_value,
                    store=item.store.label,
                    cause=str(exc),
                ) from None
            _span_event(call, EVENT_UNCHECKED, {ATTR_NAME: item.spec.name, "tokentrace.budget.store": item.store.label})
            return None

    def _applicable(self, call: Any, entries: Iterable[ActiveBudget]) -> List[Applied]:
        values = call.attribution.values
        now = utc_now(call.start_time)
        applied: List[Applied] = []
        for entry in entries:
            if entry.store is not None:
                applied.append(Applied(entry.spec, entry.store, entry.key, None, period("total", now), None))
            else:
                item = self._shared(self._hashed.of(entry.spec), values, now)
                if item is not None:
                    applied.append(item)
        for spec in self.specs:
            item = self._shared(spec, values, now)
            if item is not None:
                applied.append(item)
        return applied

    def _shared(self, spec: BudgetSpec, values: Any, now: Any) -> Optional[Applied]:
        for key, wanted in spec.match.items():
            if values.get(key) != wanted:
                return None
        if spec.scope == "global":
            value: Optional[str] = "*"
        else:
            value = values.get(spec.scope)
            if value is None:
                return None
        current = period(spec.window, now)
        key = f"{spec.name}:{spec.scope}={value}:{current.key}"
        return Applied(spec, self.store, key, value, current, current.ttl_s(now))

    def _project(self, call: Any) -> Amount:
        """Prompt tokens (~4 characters a token, counted here) + ``max_tokens``, priced by the catalog."""
        try:
            record = call.record
            max_tokens = record.request_attributes.get(sc.GEN_AI_REQUEST_MAX_TOKENS)
            output = int(max_tokens) if isinstance(max_tokens, (int, float)) and max_tokens > 0 else 0
            prompt = heuristic_count(record.prompt_text() or "") if record.prompt_text else 0
            nano_usd = 0
            pipeline = active.pipeline()
            if pipeline is not None:
                hypothetical = dataclasses.replace(
                    record,
                    usage=Usage(input_tokens=prompt, output_tokens=output),
                    response_model=None,
                    provider_cost_usd=None,
                )
                cost = pipeline.prices.cost(hypothetical, call.start_time)
                if cost.usd is not None:
                    nano_usd = round(cost.usd * NANO)
            return Amount(nano_usd, prompt + output)
        except Exception as exc:
            report("budget projection", exc)
            return Amount()

    def _exceeded(self, call: Any, item: Applied, admission: Admission, projection: Amount) -> BudgetExceeded:
        usd = admission.unit == "usd"

        def value(amount: Amount) -> Any:
            return amount.nano_usd / NANO if usd else amount.tokens

        return BudgetExceeded(
            budget=item.spec.name,
            scope=item.spec.scope,
            scope_value=item.scope_value,
            unit=admission.unit or "usd",
            limit=item.spec.usd if usd else item.spec.tokens,
            spent=value(admission.spent),
            in_flight=value(admission.in_flight),
            projected=value(projection) if admission.reason == "projected" else None,
            reason=admission.reason or "spent",
            window=None if item.spec.scope == ENTRY_SCOPE else item.spec.window,
            window_start=item.period.start,
            exceeded_since=utc_from_timestamp(admission.exceeded_at),
            model=call.record.request_model,
        )

    @staticmethod
    def _release(reserved: Iterable[Applied], reservation: str) -> None:
        for item in reserved:
            try:
                item.store.settle(item.key, reservation, Amount(), limit_of(item.spec), (), item.ttl_s)
            except Exception as exc:
                report("releasing a budget reservation", exc)

    @staticmethod
    def _mark_blocked(call: Any, blocked: BudgetExceeded) -> None:
        attributes: Dict[str, Any] = {
            ATTR_NAME: blocked.budget,
            ATTR_SCOPE: blocked.scope,
            "tokentrace.budget.reason": blocked.reason,
            "tokentrace.budget.unit": blocked.unit,
        }
        if blocked.limit is not None:
            attributes["tokentrace.budget.limit"] = blocked.limit
        if blocked.spent is not None:
            attributes["tokentrace.budget.spent"] = blocked.spent
        _span_event(call, EVENT_EXCEEDED, attributes)

    # -- after the call ---------------------------------------------------------------------------

    def after_call(self, call: Any) -> None:
        state = call.observer_state.pop(STATE_KEY, None)
        if state is None:
            return
        reservation, applied = state
        self.leases.remove(reservation)
        usage = call.record.usage
        cost_usd = call.cost.usd if call.cost is not None else None
        actual = Amount(
            round(cost_usd * NANO) if cost_usd is not None else 0,
            usage.total_tokens if usage is not None else 0,
        )
        for item in applied:
            try:
                settled = item.store.settle(
                    item.key, reservation, actual, limit_of(item.spec), item.spec.thresholds, item.ttl_s
                )
            except StoreUnavailable:
                self.leases.retry(item.store)  # kept by the store (Redis); retried until it answers
                continue
            except Exception as exc:  # one broken store must not keep the call from the others
                report("settling a budget", exc)
                continue
            if usage is not None and cost_usd is None and item.spec.usd is not None:
                self._warn_unpriced(call, item.spec)
            try:
                self.alerter.record(item.spec, item.scope_value, settled.spent)
            except Exception as exc:
                report("budget utilization metric", exc)
            for threshold in settled.fired:
                alert = make_alert(
                    item.spec, item.scope_value, item.period.start, threshold, settled.spent, settled.exceeded_at
                )
                self.alerter.announce(call.span, item.spec, alert)
            try:
                self._forecast(call, item, settled.spent)
            except Exception as exc:
                report("budget forecast", exc)

    def _forecast(self, call: Any, item: Applied, spent: Amount) -> None:
        spec, current = item.spec, item.period
        if current.start is None or current.end is None:
            return
        forecast = self.forecaster.observe(spec, item.key, current.start, current.end, spent, time.time())
        if forecast is None:
            return
        self.alerter.record_forecast(spec, item.scope_value, forecast.utilization)
        if forecast.utilization < 1.0 or forecast.exhausted_at is None or spent_fraction(spent, spec) >= 1.0:
            return
        if not self._claim(item, "forecast"):
            return
        base = make_alert(spec, item.scope_value, current.start, 1.0, spent, None)
        self.alerter.announce(call.span, spec, make_forecast_alert(base, forecast))

    @staticmethod
    def _claim(item: Applied, what: str) -> bool:
        """Once per window and counter: across processes when the store can tell, else in this one."""
        claim = getattr(item.store, "claim", None)
        if claim is None:
            return False
        try:
            return bool(claim(item.key, what, item.ttl_s))
        except StoreUnavailable:
            return False

    def _warn_unpriced(self, call: Any, spec: BudgetSpec) -> None:
        model = call.record.model
        _span_event(call, EVENT_UNPRICED, {ATTR_NAME: spec.name, sc.GEN_AI_REQUEST_MODEL: model or ""})
        self._log.warning(
            ("unpriced", spec.name, model),
            "tokentrace: budget %r cannot count the cost of calls to model %r (no known price), so they add "
            "nothing to its USD limit; add a price for the model or give the budget a tokens= limit too.",
            spec.name,
            model,
        )

    def close(self) -> None:
        self.leases.close()
        try:
            self.store.close()
        except Exception as exc:
            report("closing the budget store", exc)


def spent_fraction(spent: Amount, spec: BudgetSpec) -> float:
    return spent_fraction_of(spent, limit_of(spec))


def _span_event(call: Any, name: str, attributes: Any) -> None:
    try:
        call.add_event(name, attributes)  # kept until the span exists when the SDK's own span is awaited
    except Exception as exc:
        report("budget span event", exc)
