"""OpenTelemetry instruments, created once per tokentrace setup.

Tracer and meter come from the providers passed to ``instrument()`` or the global ones. The
global API objects are proxies, so a provider the application sets *after* ``instrument()``
still receives tokentrace's data.

The three counters (``tokentrace.tokens``, ``tokentrace.cost``, ``tokentrace.calls``) are summed
in-process and reported through *observable* counters when a reader collects. To the backend they
are ordinary monotonic sums, exact at every collection; to the application they cost a dictionary
update per call instead of the OpenTelemetry SDK's per-measurement attribute cleaning and hashing,
which was two thirds of tokentrace's overhead per call (see ``benchmarks/README.md``). The
histograms stay synchronous: their buckets need every value.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, Hashable, Iterable, List, Mapping, Optional, Tuple, TypeVar

from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation

from .._version import __version__
from ..records import semconv as sc
from . import ratelog
from .numbers import otlp_int

SCOPE_NAME = "tokentrace"


@dataclass
class Instruments:
    tracer: trace.Tracer
    token_usage: Any
    duration: Any
    time_to_first_chunk: Any
    tokens: CumulativeCounter
    cost: CumulativeCounter
    calls: CumulativeCounter
    #: The lock the three counters share: one acquisition adds all of a call's amounts.
    counter_lock: Any = None


#: Distinct attribute sets per counter before new ones go to the overflow series, as the SDK does.
CARDINALITY_LIMIT = 2000
_OVERFLOW_ATTRIBUTES: Mapping[str, Any] = {"otel.metric.overflow": True}
_OVERFLOW_KEY = ("otel.metric.overflow",)


class CumulativeCounter:
    """A monotonic counter whose totals tokentrace keeps, read by an observable instrument.

    ``add`` takes a hashable ``key`` that identifies the attribute set (the pipeline builds it
    from the values it already has) so the hot path never sorts or hashes attribute dicts; the
    attribute dict itself is built once per distinct key. The pipeline goes one step further:
    it keeps the :meth:`entry` of each attribute set it uses (entries are never removed) and adds
    to it under :attr:`lock` directly, several counters under one acquisition.
    """

    __slots__ = ("_totals", "lock", "__weakref__")

    def __init__(self, lock: Optional[Any] = None) -> None:
        self._totals: Dict[Hashable, List[Any]] = {}
        #: Guards every entry's total; counters created together share one.
        self.lock = lock if lock is not None else threading.Lock()

    def entry(self, key: Hashable, attributes: Mapping[str, Any], extra: Optional[Mapping[str, Any]] = None) -> List[Any]:
        """The ``[attributes, total]`` cell of an attribute set (the overflow cell past the limit).

        Add to ``cell[1]`` only while holding :attr:`lock`.
        """
        with self.lock:
            return self._entry(key, attributes, extra)

    def _entry(self, key: Hashable, attributes: Mapping[str, Any], extra: Optional[Mapping[str, Any]]) -> List[Any]:
        entry = self._totals.get(key)
        if entry is None:
            if len(self._totals) >= CARDINALITY_LIMIT:
                key, values = _OVERFLOW_KEY, dict(_OVERFLOW_ATTRIBUTES)
            else:
                values = {**attributes, **(extra or {})}
            entry = self._totals.setdefault(key, [values, 0])
        return entry

    def add(self, amount: float, key: Hashable, attributes: Mapping[str, Any], extra: Optional[Mapping[str, Any]] = None) -> None:
        with self.lock:
            self._entry(key, attributes, extra)[1] += amount

    def observe(self, options: Optional[CallbackOptions] = None) -> Iterable[Observation]:
        with self.lock:
            snapshot: List[Tuple[Dict[str, Any], float]] = [(attributes, total) for attributes, total in self._totals.values()]
        # An int total beyond int64 would make OTLP reject the whole metrics batch (core/numbers.py).
        return [Observation(otlp_int(total) if isinstance(total, int) else total, attributes) for attributes, total in snapshot]


#: What is registered once per meter provider (``None``: the global one) under a metric name,
#: shared by every ``instrument()`` of the process: the SDK keeps the first callbacks registered
#: under a metric name and ignores later ones, so later setups must feed the object those
#: callbacks read (the counters' totals, the anomaly gauge's current detector).
_registered: weakref.WeakKeyDictionary[Any, Dict[str, Any]] = weakref.WeakKeyDictionary()
_global_registered: Dict[str, Any] = {}
_unweakable_registered: Dict[int, Dict[str, Any]] = {}
_registered_lock = threading.Lock()

T = TypeVar("T")
#: The name the counters' shared lock is registered under (no instrument has it).
_COUNTERS_LOCK = "tokentrace.counters.lock"


def once_per_provider(meter_provider: Optional[Any], name: str, make: Callable[[], T]) -> T:
    """The object registered under ``name`` for ``meter_provider``; ``make()`` registers it the
    first time (creating its observable instrument) and returns it."""
    with _registered_lock:
        if meter_provider is None:
            family = _global_registered
        else:
            try:
                family = _registered.setdefault(meter_provider, {})
            except TypeError:  # not weak-referenceable: kept for the life of the process
                family = _unweakable_registered.setdefault(id(meter_provider), {})
        found = family.get(name)
        if found is None:
            found = family[name] = make()
        return found  # type: ignore[no-any-return]


def _counter(meter: Any, meter_provider: Optional[Any], name: str, unit: str, description: str) -> CumulativeCounter:
    # One lock per meter provider for its counters: the pipeline adds a call's tokens, cost and
    # call count under one acquisition.
    lock = once_per_provider(meter_provider, _COUNTERS_LOCK, threading.Lock)

    def make() -> CumulativeCounter:
        counter = CumulativeCounter(lock)
        meter.create_observable_counter(name, callbacks=[counter.observe], unit=unit, description=description)
        return counter

    return once_per_provider(meter_provider, name, make)


def _observe_suppressed_warnings(options: Optional[CallbackOptions] = None) -> Iterable[Observation]:
    return [Observation(ratelog.suppressed_total())]


def _suppressed_warnings_counter(meter: Any, meter_provider: Optional[Any]) -> None:
    """The count :mod:`.ratelog` keeps of the warnings it left out, as a metric: a flood of
    warnings that the logs show once per interval is still visible as a rate."""

    def make() -> bool:
        meter.create_observable_counter(
            sc.METRIC_TT_WARNINGS_SUPPRESSED,
            callbacks=[_observe_suppressed_warnings],
            unit="{warning}",
            description="Warnings tokentrace counted instead of logging (one line per cause per interval).",
        )
        return True

    once_per_provider(meter_provider, sc.METRIC_TT_WARNINGS_SUPPRESSED, make)


def create_instruments(tracer_provider: Optional[Any] = None, meter_provider: Optional[Any] = None) -> Instruments:
    tracer = trace.get_tracer(SCOPE_NAME, __version__, tracer_provider=tracer_provider)
    meter = metrics.get_meter(SCOPE_NAME, __version__, meter_provider=meter_provider)
    tokens = _counter(
        meter,
        meter_provider,
        sc.METRIC_TT_TOKENS,
        unit="{token}",
        description="Tokens used, by gen_ai.token.type (input, output, cache_read, cache_write and its long-TTL part cache_write_1h, reasoning).",
    )
    cost = _counter(
        meter,
        meter_provider,
        sc.METRIC_TT_COST,
        unit="USD",
        description="Cost of GenAI operations in US dollars, from tokentrace's price catalog.",
    )
    calls = _counter(
        meter,
        meter_provider,
        sc.METRIC_TT_CALLS,
        unit="{call}",
        description="GenAI operations, by tokentrace.cost.status (priced, unknown_model, ...) and outcome.",
    )
    _suppressed_warnings_counter(meter, meter_provider)
    return Instruments(
        tracer=tracer,
        token_usage=meter.create_histogram(
            sc.METRIC_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used per GenAI operation.",
            explicit_bucket_boundaries_advisory=list(sc.TOKEN_BUCKETS),
        ),
        duration=meter.create_histogram(
            sc.METRIC_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=list(sc.DURATION_BUCKETS),
        ),
        time_to_first_chunk=meter.create_histogram(
            sc.METRIC_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time to receive the first chunk of a streamed GenAI response.",
            explicit_bucket_boundaries_advisory=list(sc.DURATION_BUCKETS),
        ),
        tokens=tokens,
        cost=cost,
        calls=calls,
        counter_lock=calls.lock,
    )
