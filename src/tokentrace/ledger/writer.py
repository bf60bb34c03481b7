"""The ledger writer: a call observer that sums completed calls into the SQLite ledger file.

On the application's thread ``after_call`` only appends the finished :class:`Call` to a queue
(well under a microsecond, see ``benchmarks/``). A daemon thread wakes every
``flush_interval`` seconds, splits each call into one cell per token type (pricing each type off
the app's thread), sums the cells in memory and adds them to the file in one transaction.
Memory stays bounded by the number of distinct cells, not calls: if the thread falls behind by
``MAX_PENDING`` calls, the application's thread folds the queue into cells itself rather than let
it grow. ``flush()`` (a lifecycle flush hook, also run at exit) writes whatever is still pending.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import sys
import threading
from collections import deque
from typing import Any, Deque, Dict, List, Mapping, Optional, Tuple

from ..core.lifecycle import register_flush_hook, unregister_flush_hook
from ..core.pipeline import Call
from ..core.ratelog import RateLimitedLog
from ..core.safety import InstrumentationIntent, report
from ..pricing.base import PART_TOKEN_TYPES, CostParts
from ..records import semconv as sc
from . import store
from .costs import split
from .row import USAGE_SOURCE_ATTEMPT

logger = logging.getLogger("tokentrace")
#: A ledger file that stays unwritable drops cells again and again: one line per interval.
_DROP_LOG = RateLimitedLog()

#: Calls queued before the application's thread folds them into cells itself.
MAX_PENDING = 50_000
#: Distinct cells held in memory before they are written out early.
MAX_CELLS = 20_000
#: Attribution keys with a meaning of their own; every other attribution key is a free-form tag.
_NAMED_KEYS = frozenset(("team", "feature", "workflow", "agent_step", "task", "tenant", "user"))
_METRIC_PREFIX = "tokentrace."
_TAG_VALUE_LIMIT = 200

Cell = List[Any]  # [tokens, list_cost or None, effective_cost or None, calls, blocked_calls]
USAGE_ATTEMPT = USAGE_SOURCE_ATTEMPT


class LedgerWriter:
    """Records every completed call into the ledger file at ``path`` (see module docstring)."""

    #: Only finished calls are recorded: the pipeline skips the empty ``before_call``.
    wants_before_call = False

    def __init__(self, path: str, prices: Any, bucket_s: int = 60, flush_interval_s: float = 1.0) -> None:
        self.path = str(path)
        self.prices = prices
        self.bucket_s = int(bucket_s)
        self.flush_interval_s = float(flush_interval_s)
        self._pending: Deque[Call] = deque()
        self._cells: Dict[store.Key, Cell] = {}
        self._dims_cache: Dict[Tuple[Any, ...], str] = {}
        self._work = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: Optional[threading.Thread] = None
        self._connection: Any = None
        self._start_lock = threading.Lock()
        self._hook_name = f"ledger:{self.path}"
        register_flush_hook(self._hook_name, self.flush)
        atexit.register(self._at_exit)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    # -- CallObserver (the application's thread) ----------------------------------------------------

    def before_call(self, call: Call) -> None:
        return None

    def after_call(self, call: Call) -> None:
        pending = self._pending
        pending.append(call)
        if self._thread is None:
            self._start()
        if len(pending) >= MAX_PENDING and self._work.acquire(blocking=False):
            try:
                self._fold()
            finally:
                self._work.release()

    # -- lifecycle ------------------------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Write every pending call to the file within ``timeout`` seconds; True when all were written."""
        if not self._work.acquire(timeout=max(0.0, timeout)):
            return False
        try:
            self._fold()
            return self._write()
        finally:
            self._work.release()

    def close(self) -> None:
        """Write what is pending and stop the thread (``uninstrument()`` calls this)."""
        self._closed = True
        unregister_flush_hook(self._hook_name)
        self._wake.set()
        self.flush(5.0)
        with self._work:
            if self._connection is not None:
                try:
                    self._connection.close()
                except Exception as exc:
                    report("closing the ledger file", exc)
                self._connection = None

    def _at_exit(self) -> None:
        if not self._closed:
            self.flush(5.0)

    def _after_fork(self) -> None:
        self._thread = None
        self._connection = None
        self._work = threading.Lock()
        self._start_lock = threading.Lock()
        self._pending.clear()
        self._cells.clear()

    def _start(self) -> None:
        if sys.is_finalizing():
            return
        with self._start_lock:
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._run, name="tokentrace-ledger", daemon=True)
            self._thread = thread
            thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            try:
                self.flush(self.flush_interval_s)
            except Exception as exc:  # never let the thread die
                report("ledger writer", exc)

    # -- aggregation (the writer's thread, or a flush) ------------------------------------------------

    def _fold(self) -> None:
        pending = self._pending
        cells = self._cells
        while pending:
            call = pending.popleft()
            try:
                for key, values in self.cells_for(call):
                    cell = cells.get(key)
                    if cell is None:
                        cells[key] = values
                    else:
                        _add(cell, values)
            except Exception as exc:
                report("ledger aggregation", exc)
            if len(cells) >= MAX_CELLS:
                self._write()

    def _write(self) -> bool:
        if not self._cells:
            return True
        try:
            if self._connection is None:
                self._connection = store.connect(self.path)
            store.add(self._connection, self._cells.items())
        except Exception as exc:
            report(f"writing the ledger file {self.path}", exc)
            if len(self._cells) > 4 * MAX_CELLS:  # the file stays unusable: bound the memory
                _DROP_LOG.log(
                    logging.ERROR, ("ledger drop", str(self.path)),
                    "tokentrace: dropping %d unwritten ledger cells; %s stays unwritable", len(self._cells), self.path,
                )
                self._cells.clear()
            return False
        self._cells = {}
        return True

    def cells_for(self, call: Call) -> List[Tuple[store.Key, Cell]]:
        """The ledger cells of one completed call: one per token type it used (always an input one),
        plus the attempts the provider may have billed without an answer (usage source ``attempt``)."""
        cells = self._call_cells(call)
        record = call.record
        if record.possibly_billed_attempts or record.stream_cut:
            cells += self._attempt_cells(call, cells)
        return cells

    def _attempt_cells(self, call: Call, answered: List[Tuple[store.Key, Cell]]) -> List[Tuple[store.Key, Cell]]:
        """Estimates of attempts that timed out or lost their connection, kept apart from billed usage.

        Each such attempt sent the same request, so when the call got an answer its usage per
        attempt is the answer's; when none came, the prompt is counted locally (output unknown).
        Reconcile reads these as "possibly billed", never as captured spend.
        """
        record = call.record
        attempts = record.possibly_billed_attempts
        cells: List[Tuple[store.Key, Cell]] = []
        unseen = self._unseen_output(record)
        if unseen:
            key = answered[0][0]
            cells.append((key[:7] + ("output", key[8], USAGE_ATTEMPT) + key[10:], [unseen, None, None, 0, 0]))
        if not attempts:
            return cells
        for key, values in answered:
            if key[7] == "reasoning":
                continue
            if record.usage is not None:
                tokens, listed, effective = values[0], values[1], values[2]
            else:
                tokens, listed, effective = self._prompt_tokens(record), None, None
            if not tokens and key[7] != "input":
                continue
            attempt_key = key[:9] + (USAGE_ATTEMPT,) + key[10:]
            cells.append(
                (
                    attempt_key,
                    [
                        tokens * attempts,
                        None if listed is None else listed * attempts,
                        None if effective is None else effective * attempts,
                        attempts if key[7] == "input" else 0,
                        0,
                    ],
                )
            )
        return cells

    @staticmethod
    def _unseen_output(record: Any) -> int:
        """Output the provider may have generated and billed that no answer brought back, at most:
        ``max_tokens`` per attempt that got no answer, and what a stream cut before its end (its
        usage not yet arrived) had left of it. Unknown (0) when the request set no ``max_tokens``."""
        limit = record.request_attributes.get(sc.GEN_AI_REQUEST_MAX_TOKENS)
        if not isinstance(limit, int) or limit <= 0:
            return 0
        unanswered = record.possibly_billed_attempts if record.usage is None else 0
        seen = record.usage.output_tokens if record.usage is not None else 0
        cut = max(0, limit - seen) if record.stream_cut else 0
        return limit * unanswered + cut

    @staticmethod
    def _prompt_tokens(record: Any) -> int:
        from ..core.estimate import count_tokens

        text = record.estimate_input_text
        if text is None and record.prompt_text is not None:
            text = record.prompt_text()
        return count_tokens(text, record.model)[0] if text else 0

    def _call_cells(self, call: Call) -> List[Tuple[store.Key, Cell]]:
        record = call.record
        cost = call.cost
        status = cost.status if cost is not None else sc.COST_NO_USAGE
        usage = record.usage
        blocked = 1 if isinstance(call.error, InstrumentationIntent) else 0
        start = math.floor(call.start_time / self.bucket_s) * self.bucket_s
        base = (
            float(start),
            float(start + self.bucket_s),
            record.provider or "",
            record.server_address or "",
            record.service_tier or "",
            record.request_model or "",
            record.model or "",
        )
        tail = (status, record.usage_source if usage is not None else "", 1 if call.rerouted else 0, self._dimensions(call))
        if usage is None:
            return [(base + ("input",) + tail, [0, None, None, 1, blocked])]
        write_long = min(usage.cache_write_long_tokens, usage.cache_write_tokens)
        tokens = (
            usage.uncached_input_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens - write_long,
            write_long,
            usage.output_tokens,
        )
        listed, effective = self._costs(call, tokens)
        cells: List[Tuple[store.Key, Cell]] = []
        for index, token_type in enumerate(PART_TOKEN_TYPES):
            count = tokens[index]
            if count or index == 0:
                cells.append(
                    (
                        base + (token_type,) + tail,
                        [
                            count,
                            None if listed is None else listed[index],
                            None if effective is None else effective[index],
                            1 if index == 0 else 0,
                            blocked if index == 0 else 0,
                        ],
                    )
                )
        if usage.reasoning_tokens:
            priced = effective is not None
            cells.append((base + ("reasoning",) + tail, [usage.reasoning_tokens, 0.0 if priced else None, 0.0 if priced else None, 0, 0]))
        return cells

    def _costs(self, call: Call, tokens: Tuple[int, ...]) -> Tuple[Optional[Tuple[float, ...]], Optional[Tuple[float, ...]]]:
        """(list, effective) USD per billed token type; effective adds up to the span's cost exactly."""
        cost = call.cost
        if cost is None or cost.usd is None:
            return None, None
        parts: Optional[CostParts] = None
        cost_parts = getattr(self.prices, "cost_parts", None)
        if cost_parts is not None:
            parts = cost_parts(call.record, call.start_time)
        return split(float(cost.usd), parts, tokens)

    def _dimensions(self, call: Call) -> str:
        attribution = call.attribution
        metric = attribution.metric_attributes
        values = attribution.values
        key = (tuple(metric.items()) if metric else (), tuple(values.items()) if values else ())
        text = self._dims_cache.get(key)
        if text is None:
            text = store.dimensions_text(dimensions_of(metric, values))
            if len(self._dims_cache) < 10_000:
                self._dims_cache[key] = text
        return text


def dimensions_of(metric_attributes: Mapping[str, str], values: Mapping[str, str]) -> Dict[str, str]:
    """The ledger's dimensions: the attribution allowed on metrics (value-capped) plus free-form tags."""
    dimensions: Dict[str, str] = {}
    for attribute, value in metric_attributes.items():
        name = attribute[len(_METRIC_PREFIX):] if attribute.startswith(_METRIC_PREFIX) else attribute
        dimensions[name] = str(value)
    for name, value in values.items():
        if name not in _NAMED_KEYS:
            dimensions.setdefault(f"tag.{name}", str(value)[:_TAG_VALUE_LIMIT])
    return dimensions


def _add(cell: Cell, values: Cell) -> None:
    cell[0] += values[0]
    for index in (1, 2):
        if values[index] is not None:
            cell[index] = values[index] if cell[index] is None else cell[index] + values[index]
    cell[3] += values[3]
    cell[4] += values[4]
