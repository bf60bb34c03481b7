"""Roll-ups: a workflow or agent step span that carries the totals of every LLM call inside it.

Each open ``workflow()`` / ``agent_step()`` has a :class:`Rollup`. A call that *starts* inside the
scope (in the same task, a child asyncio task, or a thread the context was carried into) joins
every enclosing roll-up at ``before_call`` and adds its usage and cost at ``after_call``, which
may run on another thread (a stream consumed elsewhere, the estimation worker): hence the lock.
Nested roll-ups are not summed into their parents; every call is added to each enclosing one, so
a parent's totals equal the sum of all LLM spans beneath it, exactly.

The rule for calls still in flight when the scope exits (a stream not consumed yet): the span's
end *time* is the moment the scope exited, but the span is only *ended* (and exported) once the
last of those calls has finished, so its totals are final. A call that starts after the scope
exited (a thread the scope did not wait for) is not counted. Costs are summed with ``math.fsum``,
which is exact and independent of the order calls finish in.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from typing import Any, Dict, List, Optional, Set

from opentelemetry.trace import Status, StatusCode

from ..core.pipeline import Call, error_type
from ..core.safety import report
from .scope import current_scope

ROLLUP_COST_USD = "tokentrace.rollup.cost.usd"
ROLLUP_COST_COMPLETE = "tokentrace.rollup.cost.complete"
ROLLUP_TOKENS = "tokentrace.rollup.tokens."
ROLLUP_CALLS = "tokentrace.rollup.calls"
ROLLUP_CALLS_FAILED = "tokentrace.rollup.calls.failed"
ROLLUP_CALLS_UNPRICED = "tokentrace.rollup.calls.unpriced"
ROLLUP_MODELS = "tokentrace.rollup.models"
ROLLUP_INCOMPLETE = "tokentrace.rollup.incomplete"
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write", "reasoning")

STATE_KEY = "tokentrace.rollups"

#: Roll-ups whose scope exited with calls still in flight (ended by ``abandon_pending`` if needed).
_waiting: weakref.WeakSet[Rollup] = weakref.WeakSet()
_waiting_lock = threading.Lock()


class Rollup:
    """Running totals of one workflow / agent step span."""

    def __init__(self, span: Any) -> None:
        self.span = span
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False
        self._ended = False
        self._end_time: Optional[int] = None
        self._costs: List[float] = []
        self._tokens: Dict[str, int] = dict.fromkeys(TOKEN_TYPES, 0)
        self._calls = 0
        self._failed = 0
        self._unpriced = 0
        self._models: Set[str] = set()

    def join(self) -> bool:
        """A call starts inside the scope; False when the scope already exited."""
        with self._lock:
            if self._closed:
                return False
            self._pending += 1
            return True

    def add(self, call: Call) -> None:
        """A call that joined has finished: add its usage and cost."""
        with self._lock:
            self._pending -= 1
            self._calls += 1
            if call.error is not None:
                self._failed += 1
            record = call.record
            if record.model:
                self._models.add(record.model)
            usage = record.usage
            if usage is not None:
                for token_type, count in usage.by_type().items():
                    if token_type in self._tokens:
                        self._tokens[token_type] += count
            cost = call.cost
            if cost is not None and cost.usd is not None:
                self._costs.append(cost.usd)
            else:
                self._unpriced += 1
            finish = self._closed and self._pending == 0 and not self._ended
            if finish:
                self._ended = True
        if finish:
            self._end()

    def close(self, error: Optional[BaseException]) -> None:
        """The scope exited; end the span now, or when its last in-flight call finishes."""
        with self._lock:
            self._closed = True
            self._end_time = time.time_ns()
            finish = self._pending == 0 and not self._ended
            if finish:
                self._ended = True
        if error is not None:
            try:
                self.span.set_attribute("error.type", error_type(error))
                self.span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            except Exception as exc:
                report("workflow span error status", exc)
        if finish:
            self._end()
        else:
            with _waiting_lock:
                _waiting.add(self)

    def abandon(self) -> None:
        """End the span with what is known (uninstrument() while calls never finished)."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
        try:
            self.span.set_attribute(ROLLUP_INCOMPLETE, True)
        except Exception as exc:
            report("workflow roll-up", exc)
        self._end()

    def attributes(self) -> Dict[str, Any]:
        with self._lock:
            attributes: Dict[str, Any] = {
                ROLLUP_CALLS: self._calls,
                ROLLUP_CALLS_FAILED: self._failed,
                ROLLUP_CALLS_UNPRICED: self._unpriced,
                ROLLUP_COST_COMPLETE: self._unpriced == 0,
                ROLLUP_MODELS: sorted(self._models),
            }
            if self._costs or self._calls == 0:
                attributes[ROLLUP_COST_USD] = math.fsum(self._costs)
            for token_type, count in self._tokens.items():
                attributes[ROLLUP_TOKENS + token_type] = count
        return attributes

    def _end(self) -> None:
        with _waiting_lock:
            _waiting.discard(self)
        try:
            self.span.set_attributes(self.attributes())
            self.span.end(end_time=self._end_time)
        except Exception as exc:
            report("workflow span end", exc)


def abandon_pending() -> None:
    with _waiting_lock:
        waiting = list(_waiting)
    for rollup in waiting:
        rollup.abandon()


class RollupObserver:
    """The pipeline observer that feeds calls into the roll-ups open around them."""

    def before_call(self, call: Call) -> None:
        scope = current_scope()
        if scope is None or not scope.rollups:
            return
        joined = tuple(rollup for rollup in scope.rollups if rollup.join())
        if joined:
            call.observer_state[STATE_KEY] = joined

    def after_call(self, call: Call) -> None:
        for rollup in call.observer_state.get(STATE_KEY, ()):
            rollup.add(call)
