"""The provider-neutral pipeline: a :class:`CallRecord` in, one span and its metrics out.

Adapters call :meth:`Pipeline.start` before the request is sent and :meth:`Pipeline.finish` when
the response (or the stream's last event, or an error) arrives. Everything that is the same for
every provider happens here, once: span naming and attributes, cost, attribution, rerouting,
metrics, and the call observers (budgets, workflow roll-ups).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import weakref
from functools import lru_cache
from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple, cast

from opentelemetry import context as otel_context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ..pricing.base import CostResult, PriceLookup
from ..records import semconv as sc
from ..records.call import USAGE_SOURCE_ESTIMATE, CallRecord, Usage
from . import lifecycle, numbers
from .borrowed import PENDING, BorrowedSpan
from .config import Config
from .estimate import count_tokens, worker
from .ratelog import RateLimitedLog
from .redact import error_summary, redact
from .rerouting import is_rerouted
from .safety import InstrumentationIntent, report
from .telemetry import Instruments

logger = logging.getLogger("tokentrace")


class AttributionSnapshot(Protocol):
    """What the attribution context says about a call, captured when the call starts."""

    values: Mapping[str, str]
    span_attributes: Mapping[str, Any]
    metric_attributes: Mapping[str, str]


class _NoAttribution:
    values: Mapping[str, str] = {}
    span_attributes: Mapping[str, Any] = {}
    metric_attributes: Mapping[str, str] = {}


NO_ATTRIBUTION = _NoAttribution()


class CallObserver(Protocol):
    """Something that follows calls: budgets, workflow roll-ups.

    ``before_call`` runs before the request is sent and may raise an
    :class:`~tokentrace.core.safety.InstrumentationIntent` (a budget blocking the call); any
    other exception is reported and ignored. ``after_call`` runs once the call is complete.

    An observer whose hook never has anything to do says so with a class or instance attribute
    ``wants_before_call = False`` / ``wants_after_call = False`` (read once, when the pipeline is
    built): the pipeline then does not call that hook at all, so an observer that is not in use
    costs nothing per call.
    """

    def before_call(self, call: Call) -> None: ...

    def after_call(self, call: Call) -> None: ...


#: One lock for every call's "ended" flag: held for a test-and-set only, and a lock per call was
#: a measurable part of the per-call cost.
_END_LOCK = threading.Lock()


class Call:
    """One call in flight: its record, span and timing."""

    __slots__ = (
        "record",
        "span",
        "attribution",
        "start_ns",
        "start_time",
        "first_chunk_ns",
        "end_ns",
        "end_wall_ns",
        "error",
        "cost",
        "rerouted",
        "_ended",
        "observer_state",
        "pipeline",
        "owner",
        "borrow",
        "_early_events",
    )

    def __init__(self, record: CallRecord, attribution: AttributionSnapshot) -> None:
        self.record = record
        self.attribution = attribution
        self.span: Any = None
        self.start_ns = time.perf_counter_ns()
        self.start_time = time.time()
        self.first_chunk_ns: Optional[int] = None
        self.end_ns: Optional[int] = None
        #: Wall-clock end (ns since the epoch) when the call ended before it was settled (:meth:`mark_end`).
        self.end_wall_ns: Optional[int] = None
        self.error: Optional[BaseException] = None
        self.cost: Optional[CostResult] = None
        self.rerouted: Optional[bool] = None
        self._ended = False
        #: Free slots for observers (a budget reservation, a roll-up scope ...).
        self.observer_state: Dict[str, Any] = {}
        self.pipeline: Optional[Pipeline] = None
        #: What ends this call if the app never does (a stream's state, with ``end(error)``).
        self.owner: Any = None
        #: ``None``: the span is tokentrace's own. :data:`~.borrowed.PENDING`: the SDK's own span
        #: is expected (:meth:`Pipeline.adopt`). A :class:`~.borrowed.BorrowedSpan`: ``span`` is the
        #: SDK's, which tokentrace annotates and ends together with the SDK.
        self.borrow: Any = None
        #: Events added before the SDK's own span exists (``borrow`` pending): ``add_event`` keeps them.
        self._early_events: Optional[List[Tuple[str, Dict[str, Any], int]]] = None

    def add_event(self, name: str, attributes: Mapping[str, Any]) -> None:
        """An event on the call's span, for observers' ``before_call`` as much as ``after_call``.

        While the SDK's own span is still to come (a borrowed span, see :meth:`Pipeline.adopt`)
        there is no span yet: the event is kept, with its time, and written once the span exists,
        so a budget's downgrade or a policy's verdict is never lost for such calls.
        """
        span = self.span
        if span is not None:
            span.add_event(name, attributes)
            return
        if self._early_events is None:
            self._early_events = []
        self._early_events.append((name, dict(attributes), time.time_ns()))

    def _write_early_events(self) -> None:
        events, self._early_events = self._early_events, None
        for name, attributes, timestamp in events or ():
            try:
                self.span.add_event(name, attributes, timestamp=timestamp)
            except Exception as exc:
                report("span event", exc)

    @property
    def duration_s(self) -> float:
        end = self.end_ns if self.end_ns is not None else time.perf_counter_ns()
        return (end - self.start_ns) / 1e9

    @property
    def ended(self) -> bool:
        return self._ended

    def mark_end(self) -> None:
        """The call's response ended now, but it is settled later (a stream helper whose final
        result is still to be asked for): the span and duration keep this moment as the end."""
        if self.end_ns is None:
            self.end_ns = time.perf_counter_ns()
            self.end_wall_ns = time.time_ns()

    def claim_end(self) -> bool:
        """True exactly once: streams can end by exhaustion, close, error and GC."""
        with _END_LOCK:
            if self._ended:
                return False
            self._ended = True
        lifecycle.untrack(self)
        self.owner = None
        return True

    def settle_incomplete(self) -> None:
        """End a call the application never finished (a stream still open at exit) with what is
        known, marked ``tokentrace.call.incomplete``; called by :func:`lifecycle.flush`."""
        if self._ended:
            return
        self.record.response_attributes[sc.TT_CALL_INCOMPLETE] = True
        owner = self.owner
        if isinstance(owner, weakref.ref):
            owner = owner()
        if owner is not None:
            owner.end(None)
        if not self._ended and self.pipeline is not None:
            self.pipeline.finish(self)


#: Exception names of failures after which the provider may still have processed (and billed)
#: the request: timeouts and connections dropped mid-request or mid-stream.
_MAYBE_PROCESSED = ("timeout", "connection", "remoteprotocol", "readerror", "incompleteread", "streamclosed")


def _may_have_been_processed(error: BaseException) -> bool:
    name = type(error).__name__.lower()
    return any(part in name for part in _MAYBE_PROCESSED)


def error_type(exc: BaseException) -> str:
    """Low-cardinality, fully qualified type name with private modules left out.

    The name is the one an app imports the exception by: ``openai.RateLimitError`` (defined in
    ``openai._exceptions``), ``json.JSONDecodeError`` and ``tokentrace.BudgetExceeded`` (re-exported
    by their top-level package), ``google.genai.errors.ClientError`` and
    ``botocore.exceptions.ClientError`` (not re-exported: the full module path).
    """
    return _error_type_name(cast(type, type(exc)))  # cast: mypy sees exception classes as unhashable


@lru_cache(maxsize=512)
def _error_type_name(cls: type) -> str:
    parts = [p for p in (cls.__module__ or "").split(".") if p and not p.startswith("_")]
    if not parts or parts == ["builtins"]:
        return cls.__qualname__
    top = sys.modules.get(parts[0])
    if top is not None and getattr(top, cls.__qualname__, None) is cls:
        return f"{parts[0]}.{cls.__qualname__}"
    return ".".join(parts + [cls.__qualname__])


#: The operation whose calls have no output tokens (no output attribute, no output point).
EMBEDDINGS = "embeddings"

#: Distinct metric attribute combinations whose dicts are kept for reuse (beyond it, built per call).
_METRIC_CACHE_SIZE = 4096


class _MetricAttributes:
    """The attribute dicts one combination of model, outcome and attribution records metrics
    with, and the counter cells (:meth:`CumulativeCounter.entry`) it adds to, found once."""

    __slots__ = ("key", "base", "input", "output", "calls_cells", "token_cells", "cost_cell")

    def __init__(self, key: tuple, base: Dict[str, Any]) -> None:
        self.key = key
        self.base = base
        self.input = {**base, sc.GEN_AI_TOKEN_TYPE: "input"}
        self.output = {**base, sc.GEN_AI_TOKEN_TYPE: "output"}
        self.calls_cells: Dict[tuple, List[Any]] = {}
        self.token_cells: Dict[str, List[Any]] = {}
        self.cost_cell: Optional[List[Any]] = None

    def calls_cell(self, counter: Any, status: str, rerouted: bool) -> List[Any]:
        cell = self.calls_cells.get((status, rerouted))
        if cell is None:
            extra = {sc.TT_COST_STATUS: status, sc.TT_MODEL_REROUTED: rerouted}
            cell = self.calls_cells[(status, rerouted)] = counter.entry((self.key, status, rerouted), self.base, extra)
        return cell

    def token_cell(self, counter: Any, token_type: str) -> List[Any]:
        cell = self.token_cells.get(token_type)
        if cell is None:
            extra = {sc.GEN_AI_TOKEN_TYPE: token_type}
            cell = self.token_cells[token_type] = counter.entry((self.key, token_type), self.base, extra)
        return cell


#: ``gen_ai.token.type`` of each :class:`Usage` field the token counter counts.
_TOKEN_FIELDS = (
    ("input", "input_tokens"),
    ("output", "output_tokens"),
    ("cache_read", "cache_read_tokens"),
    ("cache_write", "cache_write_tokens"),
    ("reasoning", "reasoning_tokens"),
    (sc.TOKEN_TYPE_CACHE_WRITE_LONG, "cache_write_long_tokens"),  # the long-TTL part, priced apart
)


#: Distinct (requested, answering, provider) model pairs whose rerouting verdict is remembered.
_REROUTE_CACHE_SIZE = 4096


class Pipeline:
    def __init__(
        self,
        config: Config,
        instruments: Instruments,
        prices: PriceLookup,
        capture_attribution: Callable[[], AttributionSnapshot] = lambda: NO_ATTRIBUTION,
        observers: Sequence[CallObserver] = (),
        context_filter: Callable[[Any], Any] = lambda context: context,
    ) -> None:
        self.config = config
        self.instruments = instruments
        self.prices = prices
        self.capture_attribution = capture_attribution
        # What the layers above remove from the context an LLM call runs in (attribution's
        # baggage); injected by instrument(), so the core imports nothing above it.
        self.context_filter = context_filter
        self.observers: List[CallObserver] = list(observers)
        #: The hooks that have something to do (see :class:`CallObserver`), bound once.
        self._before_hooks = [
            (observer, observer.before_call) for observer in self.observers if getattr(observer, "wants_before_call", True)
        ]
        self._after_hooks = [
            (observer, observer.after_call) for observer in self.observers if getattr(observer, "wants_after_call", True)
        ]
        #: is_rerouted() per (sent model, answering model, provider): name comparison with regexes
        #: and catalog lookups, the same answer every time for the same names and catalog.
        self._reroute_cache: Dict[tuple, Optional[bool]] = {}
        self._reroute_prices: Any = prices
        # Once per (request, answer) pair, as documented; at most 32 pairs remembered, then one
        # line for all others (a gateway answering with a new name each call cannot flood logs).
        self._reroute_log = RateLimitedLog(interval_s=float("inf"), max_causes=32)
        self._numbers_log = RateLimitedLog()
        self._metric_cache: Dict[tuple, _MetricAttributes] = {}

    # -- call lifecycle ---------------------------------------------------------------------------

    def start(
        self,
        record: CallRecord,
        *,
        attribution: Optional[AttributionSnapshot] = None,
        links: Sequence[Any] = (),
        enforce: bool = True,
        borrow: bool = False,
    ) -> Call:
        """Open the span for a call about to be sent; may raise a deliberate block (budget).

        ``attribution``, ``links`` and ``enforce=False`` are for work billed earlier and recorded
        now (batch results): the attribution captured when the batch was created, links to the
        creating call's span, and no budget block (the spend has already happened).

        ``borrow=True``: the SDK starts a span of its own for this call (its native tracing), and
        that span is the call's (:meth:`adopt`); tokentrace opens its own span only if the SDK
        ends up starting none.
        """
        if attribution is None:
            try:
                attribution = self.capture_attribution()
            except Exception as exc:
                report("attribution", exc)
                attribution = NO_ATTRIBUTION
        call = Call(record, attribution)
        call.pipeline = self
        if borrow:
            call.borrow = PENDING
        else:
            self._open_span(call, links)
        lifecycle.track(call)
        for observer, before_call in self._before_hooks:
            try:
                before_call(call)
            except InstrumentationIntent as blocked:
                if not enforce:
                    continue
                self.finish(call, blocked)
                raise
            except Exception as exc:
                report(f"observer {type(observer).__name__}.before_call", exc)
        return call

    def _open_span(self, call: Call, links: Sequence[Any] = (), start_time: Optional[int] = None) -> Any:
        """tokentrace's own span for the call."""
        record = call.record
        attributes = self._start_attributes(record)
        if call.attribution.span_attributes:
            attributes.update(call.attribution.span_attributes)
        name = f"{record.operation} {record.request_model}" if record.request_model else record.operation
        call.span = self.instruments.tracer.start_span(
            name, kind=SpanKind.CLIENT, attributes=attributes, links=list(links) or None, start_time=start_time
        )
        call.borrow = None
        if call._early_events:
            call._write_early_events()
        return call.span

    def adopt(self, call: Call, span: Any) -> Any:
        """The SDK started its own span for a call opened with ``borrow=True``: make it the call's.

        Returns what the SDK should use as its span: a :class:`~.borrowed.BorrowedSpan` around its
        own one, which tokentrace annotates and ends together with the SDK. When the SDK has no
        usable span (``None``, or one with an invalid context: its tracer is a no-op, no tracer
        provider set up for it), the SDK gets back exactly what it made, so it behaves as it
        would alone, and tokentrace opens its own span for the call (started when the call
        started, on tokentrace's provider).
        """
        if call.borrow is not PENDING or call.ended:
            return span
        valid = False
        if span is not None:
            try:
                valid = bool(span.get_span_context().is_valid)
            except Exception as exc:
                report("borrowed span", exc)
        if valid:
            borrowed = BorrowedSpan(span, lambda: self._owner_ended(call))
            call.span = span
            call.borrow = borrowed
            if call._early_events:
                call._write_early_events()
            return borrowed
        self._open_span(call, start_time=int(call.start_time * 1e9))
        return span

    @staticmethod
    def _owner_ended(call: Call) -> None:
        """The SDK ended its span before tokentrace settled the call.

        A streamed call's span ends when its body does (read to the end, closed, dropped, or read
        as bytes by the app): its stream state ends the call too, with what it saw, so the span is
        complete when the SDK's is. A body that failed (the span's status says so) is left to the
        stream, whose exception follows and ends the call with it. A non-streamed call is settled
        by the adapter as the SDK returns, right after.
        """
        if call.ended:
            return
        owner = call.owner
        if isinstance(owner, weakref.ref):
            owner = owner()
        if owner is None:
            return
        status = getattr(getattr(call.span, "status", None), "status_code", None)
        if status is StatusCode.ERROR:
            return
        owner.end(None)

    def activate(self, call: Call) -> object:
        """Make the call's span current while the SDK sends the request (HTTP spans nest under it).

        The context has every ``tokentrace.*`` baggage member removed (local attribution and
        inbound baggage alike), so an HTTP instrumentation that injects baggage while the SDK sends
        never hands attribution to the LLM provider; the transport guard
        (:mod:`tokentrace.providers.transport`) covers the requests sent outside this context.
        """
        if call.borrow is PENDING:
            # The SDK makes its own span current while it sends; until then the app's context stays.
            context = otel_context.get_current()
        else:
            context = trace.set_span_in_context(call.span)
        try:
            context = self.context_filter(context)
        except Exception as exc:
            report("context filter", exc)
        return otel_context.attach(context)

    @staticmethod
    def deactivate(token: object) -> None:
        otel_context.detach(token)  # type: ignore[arg-type]

    @staticmethod
    def first_chunk(call: Call) -> None:
        if call.first_chunk_ns is None:
            call.first_chunk_ns = time.perf_counter_ns()

    def finish(self, call: Call, error: Optional[BaseException] = None) -> None:
        """Complete the call's telemetry exactly once.

        When the usage is known (the provider reported it) the span, counters, budget and every
        observer settle right here, before the application's ``close()`` / last ``next()``
        returns. Only a call that needs a local estimate is completed off the app's thread, by
        the bounded estimator (:mod:`.estimate`), which :func:`tokentrace.flush` drains.
        """
        if not call.claim_end():
            return
        if call.end_ns is None:
            call.end_ns = time.perf_counter_ns()
        call.error = error
        end_time_ns = call.end_wall_ns if call.end_wall_ns is not None else time.time_ns()
        record = call.record
        if error is not None and _may_have_been_processed(error):
            record.possibly_billed_attempts += 1
        if record.stream_cut and (record.usage is not None or error is not None):
            record.stream_cut = False  # its usage arrived after all, or it failed (counted above)
        if record.usage is None and error is None and not record.usage_deferred and self.config.estimate_usage and (
            record.estimate_input_text or record.estimate_output_text or record.estimate_output_chars
        ):
            if isinstance(call.borrow, BorrowedSpan):
                # The SDK ends its own span when its response ends, and its users read it right
                # then: no waiting on the worker. Counted here, bounded (no tokenizer load, a
                # small sample); the worker loads the tokenizer for the calls after this one.
                self._estimate_then_complete(call, end_time_ns, inline=True)
                model = record.model

                def warm_tokenizer() -> None:
                    count_tokens("warm", model)

                worker.submit(warm_tokenizer)
                return
            worker.submit(lambda: self._estimate_then_complete(call, end_time_ns))
            return
        self._complete(call, end_time_ns)

    # -- completion -------------------------------------------------------------------------------

    def _estimate_then_complete(self, call: Call, end_time_ns: int, inline: bool = False) -> None:
        try:
            record = call.record
            model = record.model
            input_count, input_estimator = count_tokens(record.estimate_input_text or "", model, inline=inline)
            output_count, output_estimator = count_tokens(
                record.estimate_output_text or "", model, record.estimate_output_chars, inline=inline
            )
            used = {input_estimator} if record.estimate_input_text else set()
            if record.estimate_output_text or record.estimate_output_chars:
                used.add(output_estimator)
            estimator = ",".join(sorted(used)) or input_estimator
            record.usage = Usage(input_tokens=input_count, output_tokens=output_count)
            record.usage_source = USAGE_SOURCE_ESTIMATE
            record.response_attributes[sc.TT_USAGE_ESTIMATOR] = estimator
        except Exception as exc:
            report("usage estimation", exc)
        self._complete(call, end_time_ns)

    def _resolve(self, provider: Optional[str], model: str) -> Any:
        """The price catalog's model identity (its aliases), for rerouting; ``None`` if unknown."""
        resolve = getattr(self.prices, "resolve", None)
        return resolve(provider, model) if resolve is not None else None

    def _rerouted(self, record: CallRecord) -> Optional[bool]:
        sent, answered = record.sent_model, record.response_model
        if not sent or not answered:
            return None
        if self._reroute_prices is not self.prices:  # a new catalog: earlier verdicts may differ
            self._reroute_cache = {}
            self._reroute_prices = self.prices
        deployments = self.config.azure_deployments
        key = (sent, answered, record.provider, deployments.get(sent) if deployments else None)
        cache = self._reroute_cache
        try:
            return cache[key]
        except KeyError:
            pass
        verdict = is_rerouted(sent, answered, deployments, record.provider, self._resolve)
        if len(cache) < _REROUTE_CACHE_SIZE:
            cache[key] = verdict
        return verdict

    def _complete(self, call: Call, end_time_ns: int) -> None:
        if call.borrow is PENDING:
            # The SDK was to start the span but never got that far (the request failed before it).
            try:
                self._open_span(call, start_time=int(call.start_time * 1e9))
            except Exception as exc:
                report("span start", exc)
        borrowed = call.borrow if isinstance(call.borrow, BorrowedSpan) else None
        span = call.span
        try:
            record = call.record
            call.rerouted = self._rerouted(record)
            call.cost = self._price(call)
            if borrowed is not None:
                self._annotate(call, borrowed)
            else:
                span.set_attributes(self._end_attributes(call))
                if call.error is not None:
                    self.record_error(span, call.error)
                if self.config.capture_any:
                    self._record_content(span, record)
            self._record_metrics(call)
            if call.rerouted:
                self._warn_reroute(record)
        except Exception as exc:
            report("span completion", exc)
        for observer, after_call in self._after_hooks:
            try:
                after_call(call)
            except Exception as exc:
                report(f"observer {type(observer).__name__}.after_call", exc)
        try:
            if borrowed is not None:
                borrowed.settle(end_time_ns, alone=bool(call.record.response_attributes.get(sc.TT_CALL_INCOMPLETE)))
            else:
                span.end(end_time=end_time_ns)
        except Exception as exc:
            report("span end", exc)

    def _annotate(self, call: Call, borrowed: BorrowedSpan) -> None:
        """tokentrace's attributes on the SDK's own span, where the SDK has not set the key itself.

        The SDK describes the request, the response, the status and any error its own way
        (``error.type``, status, no exception event); tokentrace adds what it alone knows (cost,
        usage source, attribution, rerouting, policy, retries) and fills the gaps.
        """
        record = call.record
        attributes = self._start_attributes(record)
        if call.attribution.span_attributes:
            attributes.update(call.attribution.span_attributes)
        attributes.update(self._end_attributes(call))
        if call.error is not None:
            attributes[sc.ERROR_TYPE] = error_type(call.error)
        if self.config.capture_any and self.config.capture_on_span:
            attributes.update(self._content_attributes(record))
        borrowed.annotate(attributes)
        if self.config.capture_any and self.config.capture_as_event:
            content = self._content_attributes(record)
            if content:
                borrowed.real.add_event(sc.GEN_AI_CONTENT_EVENT, content)

    def _price(self, call: Call) -> CostResult:
        record = call.record
        if record.usage is None and record.provider_cost_usd is None:
            return CostResult(None, sc.COST_DEFERRED if record.usage_deferred else sc.COST_NO_USAGE)
        # Numbers from the provider are checked before anything is priced (core/numbers.py).
        problems = numbers.usage_problems(record.usage)
        if record.provider_cost_usd is not None and numbers.valid_cost(record.provider_cost_usd) is None:
            problems.append("provider_cost:invalid")
        if record.gateway_cost_usd is not None and numbers.valid_cost(record.gateway_cost_usd) is None:
            problems.append("gateway_cost:invalid")
        if problems:
            only_cost = all(problem.endswith("_cost:invalid") for problem in problems)
            return self._invalid(call, problems, sc.COST_INVALID_COST if only_cost else sc.COST_INVALID_USAGE)
        try:
            cost = self.prices.cost(record, call.start_time)
        except Exception as exc:
            report("cost computation", exc)
            return CostResult(None, sc.COST_ERROR)
        if cost.usd is not None and numbers.valid_cost(cost.usd) is None:
            return self._invalid(call, ["cost:invalid"], sc.COST_INVALID_COST, cost.model)
        return cost

    def _invalid(self, call: Call, problems: List[str], status: str, model: Optional[str] = None) -> CostResult:
        record = call.record
        record.response_attributes[sc.TT_USAGE_INVALID] = problems
        self._numbers_log.warning(
            ("invalid numbers", record.provider, record.server_address, status),
            "tokentrace: %s (%s) reported numbers that cannot be right (%s); the call is marked "
            "tokentrace.cost.status=%s and gets no cost rather than a wrong one.",
            record.provider,
            record.server_address or "default host",
            ", ".join(problems),
            status,
        )
        return CostResult(None, status, model)

    # -- attributes -------------------------------------------------------------------------------

    @staticmethod
    def _call_attributes(record: CallRecord) -> Dict[str, Any]:
        """What names the call on its span and on every metric point alike: operation, provider,
        requested model, server address. Built here only, so the two cannot drift apart."""
        attributes: Dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: record.operation,
            sc.GEN_AI_PROVIDER_NAME: record.provider,
        }
        if record.request_model:
            attributes[sc.GEN_AI_REQUEST_MODEL] = record.request_model
        if record.server_address:
            attributes[sc.SERVER_ADDRESS] = record.server_address
        return attributes

    @classmethod
    def _start_attributes(cls, record: CallRecord) -> Dict[str, Any]:
        attributes = cls._call_attributes(record)
        if record.server_address and record.server_port:
            attributes[sc.SERVER_PORT] = record.server_port
        if record.stream:
            attributes[sc.GEN_AI_REQUEST_STREAM] = True
        if record.request_attributes:
            attributes.update(record.request_attributes)
        return attributes

    @staticmethod
    def _end_attributes(call: Call) -> Dict[str, Any]:
        record = call.record
        attributes: Dict[str, Any] = {}
        if record.response_model:
            attributes[sc.GEN_AI_RESPONSE_MODEL] = record.response_model
        if record.response_id:
            attributes[sc.GEN_AI_RESPONSE_ID] = record.response_id
        if record.finish_reasons:
            attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] = list(record.finish_reasons)
        if record.service_tier:
            attributes[sc.TT_SERVICE_TIER] = record.service_tier
        if call.first_chunk_ns is not None:
            attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (call.first_chunk_ns - call.start_ns) / 1e9
        usage = record.usage
        if usage is not None:
            attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] = usage.input_tokens
            if record.operation != EMBEDDINGS:  # an embedding has no output tokens
                attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.output_tokens
            if usage.cache_read_tokens:
                attributes[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cache_read_tokens
            if usage.cache_write_tokens:
                attributes[sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = usage.cache_write_tokens
            if usage.reasoning_tokens:
                attributes[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoning_tokens
            if usage.input_audio_tokens:
                attributes[sc.GEN_AI_USAGE_AUDIO_INPUT_TOKENS] = usage.input_audio_tokens
            if usage.output_audio_tokens:
                attributes[sc.GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS] = usage.output_audio_tokens
            if usage.input_image_tokens:
                attributes[sc.GEN_AI_USAGE_IMAGE_INPUT_TOKENS] = usage.input_image_tokens
            attributes[sc.TT_USAGE_SOURCE] = record.usage_source
        cost = call.cost
        if cost is not None:
            attributes[sc.TT_COST_STATUS] = cost.status
            if cost.usd is not None:
                attributes[sc.TT_COST_USD] = cost.usd
                attributes[sc.GEN_AI_USAGE_COST_AMOUNT] = cost.usd
                attributes[sc.GEN_AI_USAGE_COST_CURRENCY] = "USD"
                attributes[sc.GEN_AI_USAGE_COST_SOURCE] = cost.source or "local"
            if cost.model:
                attributes[sc.TT_COST_MODEL] = cost.model
        if call.rerouted is not None:
            attributes[sc.TT_MODEL_REROUTED] = call.rerouted
        if record.sent_model and record.response_model:
            attributes[sc.TT_MODEL_MATCH] = (
                sc.MODEL_MATCH_UNKNOWN if call.rerouted is None else sc.MODEL_MATCH_REROUTED if call.rerouted else sc.MODEL_MATCH_SAME
            )
        if record.policy_model:
            attributes[sc.TT_MODEL_POLICY] = record.policy_model
        if record.retries:
            attributes[sc.TT_RETRIES] = record.retries
        if record.usage_deferred and usage is None:
            attributes[sc.TT_USAGE_DEFERRED] = True
        if record.possibly_billed_attempts:
            attributes[sc.TT_POSSIBLY_BILLED_ATTEMPTS] = record.possibly_billed_attempts
        if record.response_attributes:
            attributes.update(record.response_attributes)
        return attributes

    def record_error(self, span: Any, error: BaseException) -> None:
        """Error type, HTTP status and the provider's error code/type; the message only with capture on.

        Provider error messages can echo the prompt, so they are content (see :func:`error_summary`).
        """
        kind = error_type(error)
        span.set_attribute(sc.ERROR_TYPE, kind)
        if self.config.capture_any:
            message = redact(str(error))[:1000] or kind
        else:
            message = error_summary(error, kind)
        span.set_status(Status(StatusCode.ERROR, message))
        span.add_event("exception", {"exception.type": kind, "exception.message": message})

    @staticmethod
    def _content_attributes(record: CallRecord) -> Dict[str, str]:
        content: Dict[str, str] = {}
        if record.system_instructions:
            content[sc.GEN_AI_SYSTEM_INSTRUCTIONS] = json.dumps(record.system_instructions, ensure_ascii=False)
        if record.input_messages:
            content[sc.GEN_AI_INPUT_MESSAGES] = json.dumps(record.input_messages, ensure_ascii=False)
        if record.output_messages:
            content[sc.GEN_AI_OUTPUT_MESSAGES] = json.dumps(record.output_messages, ensure_ascii=False)
        return content

    def _record_content(self, span: Any, record: CallRecord) -> None:
        content = self._content_attributes(record)
        if not content:
            return
        if self.config.capture_on_span:
            span.set_attributes(content)
        if self.config.capture_as_event:
            span.add_event(sc.GEN_AI_CONTENT_EVENT, content)

    # -- metrics ----------------------------------------------------------------------------------

    def _metric_attributes(self, call: Call) -> _MetricAttributes:
        """The attribute dicts of a call's metric points, built once per distinct combination."""
        record = call.record
        error = error_type(call.error) if call.error is not None else None
        attribution = call.attribution.metric_attributes
        # Usage source and service tier split spend the way the ledger does (read_rows over
        # Prometheus gives the ledger's rows); both have a handful of values.
        source = record.usage_source if record.usage is not None else None
        key = (
            record.operation,
            record.provider,
            record.request_model,
            record.response_model,
            record.server_address,
            error,
            tuple(attribution.items()) if attribution else (),
            source,
            record.service_tier,
        )
        cached = self._metric_cache.get(key)
        if cached is not None:
            return cached
        base = self._call_attributes(record)
        if record.response_model:
            base[sc.GEN_AI_RESPONSE_MODEL] = record.response_model
        if error is not None:
            base[sc.ERROR_TYPE] = error
        if source is not None:
            base[sc.TT_USAGE_SOURCE] = source
        if record.service_tier:
            base[sc.TT_SERVICE_TIER] = record.service_tier
        if attribution:
            base.update(attribution)
        attributes = _MetricAttributes(key, base)
        if len(self._metric_cache) < _METRIC_CACHE_SIZE:
            self._metric_cache[key] = attributes
        return attributes

    def _record_metrics(self, call: Call) -> None:
        attributes = self._metric_attributes(call)
        base = attributes.base
        instruments = self.instruments
        instruments.duration.record(call.duration_s, base)
        if call.first_chunk_ns is not None:
            instruments.time_to_first_chunk.record((call.first_chunk_ns - call.start_ns) / 1e9, base)
        cost = call.cost
        status = cost.status if cost else sc.COST_NO_USAGE
        usage = call.record.usage
        # The counters' cells first (found once per attribute set), then one lock for all adds.
        calls, tokens = instruments.calls, instruments.tokens
        cells: List[Tuple[Any, List[Any], Any]] = [(calls, attributes.calls_cell(calls, status, bool(call.rerouted)), 1)]
        if usage is not None:
            for token_type, name in _TOKEN_FIELDS:
                count = getattr(usage, name)
                if count:
                    cells.append((tokens, attributes.token_cell(tokens, token_type), count))
            if cost is not None and cost.usd is not None:
                cell = attributes.cost_cell
                if cell is None:
                    cell = attributes.cost_cell = instruments.cost.entry(attributes.key, base)
                cells.append((instruments.cost, cell, cost.usd))
        lock = instruments.counter_lock
        if lock is not None:
            with lock:
                for _, cell, amount in cells:
                    cell[1] += amount
        else:  # instruments built without a shared lock: each counter's own
            for counter, cell, amount in cells:
                with counter.lock:
                    cell[1] += amount
        if usage is None:
            return
        instruments.token_usage.record(usage.input_tokens, attributes.input)
        if call.record.operation != EMBEDDINGS:
            instruments.token_usage.record(usage.output_tokens, attributes.output)

    def _warn_reroute(self, record: CallRecord) -> None:
        # Bounded: a gateway answering with a new model name on every call logs once per interval.
        self._reroute_log.warning(
            ("reroute", record.provider, record.request_model, record.response_model),
            "tokentrace: %s answered a request for model %r with model %r (silent reroute); such "
            "calls are priced at the answering model's rates and marked tokentrace.model.rerouted=true.",
            record.provider,
            record.request_model,
            record.response_model,
        )
