"""``instrument()`` and ``uninstrument()``: the two calls most users ever make.

Both are idempotent and thread-safe. ``instrument()`` builds one :class:`Pipeline` from the
configuration and hands it to every adapter whose SDK is importable; ``uninstrument()`` puts
every original function back.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Collection, List, Optional

from .core import active as core_active, lifecycle
from .core.config import Config, ConfigError, build_config
from .core.pipeline import CallObserver, Pipeline
from .core.safety import report
from .core.sdk_setup import configure_from_environment
from .core.telemetry import create_instruments
from .providers import REGISTRY, deferred, load_instrumentor

if TYPE_CHECKING:  # the adapters' base imports wrapt, which instrument() needs only once an SDK is imported
    from .providers.base import ProviderInstrumentor

logger = logging.getLogger("tokentrace")


@dataclass
class _Active:
    config: Config
    pipeline: Pipeline
    instrumentors: List[ProviderInstrumentor]


_lock = threading.RLock()
_active: Optional[_Active] = None
_warned_foreign: set = set()


def instrument(**options: Any) -> None:
    """Patch every supported LLM SDK that is installed; see the README for the options.

    A second call while instrumented does nothing (call ``uninstrument()`` first to change
    options). Configuration problems are logged and the defaults used, unless ``strict=True``,
    which raises :class:`~tokentrace.ConfigError` instead.
    """
    global _active
    with _lock:
        if _active is not None:
            logger.debug("tokentrace: instrument() called again; already instrumented, nothing to do")
            return
        config = build_config(options)
        try:
            lifecycle.register_exit_flush()
            lifecycle.hook_provider_shutdown()
            _active = _build(config)
            core_active.set_pipeline(_active.pipeline)
        except ConfigError:
            raise
        except Exception as exc:
            if config.strict:
                raise
            report("instrument()", exc)
            _active = None


def _build(config: Config) -> _Active:
    from . import pricing

    if config.configure_sdk and config.tracer_provider is None and config.meter_provider is None:
        try:
            configure_from_environment()
        except Exception as exc:
            report("OpenTelemetry SDK setup", exc)
    from .core.encodings import allow_download

    allow_download(config.download_encodings)
    instruments = create_instruments(config.tracer_provider, config.meter_provider)
    prices = pricing.load_catalog(config)
    observers: List[CallObserver] = []
    applied: List[ProviderInstrumentor] = []
    try:
        return _assemble(config, instruments, prices, observers, applied)
    except BaseException:
        _tear_down(applied, observers)
        raise


def _assemble(
    config: Config, instruments: Any, prices: Any, observers: List[CallObserver], applied: List[ProviderInstrumentor]
) -> _Active:
    """The pipeline and its patches; ``observers`` and ``applied`` fill as they are made, so a
    failure halfway can be undone by the caller."""
    from . import attribution, budgets, ledger

    # Budgets first: a strict-mode BudgetConfigError must leave nothing patched behind
    # (attribution.setup patches threading for context propagation).
    from .attribution.users import UserHasher

    # The hash attribution gives user ids (same key): budget and policy matches on user compare with it.
    budget_observers = budgets.setup(config, UserHasher(config.user_hash_key).hash)
    observers.extend(budget_observers)
    capture, attribution_observers = attribution.setup(config)
    observers[:0] = attribution_observers
    observers.extend(ledger.setup(config, prices))
    pipeline = Pipeline(config, instruments, prices, capture, observers, context_filter=attribution.without_attribution_baggage)
    for name, _ in REGISTRY:
        if config.providers is not None and name not in config.providers:
            continue
        sdk = deferred.SDK_MODULES.get(name)
        if sdk is not None and not deferred.imported(sdk):
            # Not imported yet: patch it when the application imports it (instrument() stays fast).
            if deferred.installed(sdk):
                deferred.defer(name, sdk, functools.partial(_apply, name, pipeline))
            continue
        instrumentor = _apply(name, pipeline)
        if instrumentor is not None:
            applied.append(instrumentor)
    if not applied and not deferred.pending():
        _say_nothing_instrumented(config)
    from .providers import install_transport_guard

    guard = install_transport_guard(pipeline)
    if guard is not None:
        applied.append(guard)
    return _Active(config, pipeline, applied)


def _apply(name: str, pipeline: Pipeline) -> Optional[ProviderInstrumentor]:
    """Load and apply one adapter now; None when its SDK is missing or patching failed."""
    instrumentor = load_instrumentor(name)
    if instrumentor is None:
        return None
    _warn_foreign(instrumentor)
    instrumentor.on_early_call = lambda instrumentor=instrumentor: _warn_foreign(instrumentor)
    try:
        instrumentor.instrument(pipeline)
        return instrumentor
    except Exception as exc:
        instrumentor.uninstrument()
        report(f"instrumenting {instrumentor.name}", exc)
        return None


_said_nothing = False


def _say_nothing_instrumented(config: Config) -> None:
    """Once per process: spans will never come, and the user should know why."""
    global _said_nothing
    if _said_nothing:
        return
    _said_nothing = True
    from .providers import REGISTRY

    selected = ", ".join(config.providers) if config.providers is not None else "every supported SDK"
    logger.warning(
        "tokentrace: instrument() found nothing to instrument (providers: %s); no LLM call will be "
        "traced. Install a supported SDK (%s) or check providers= / TOKENTRACE_PROVIDERS.",
        selected,
        ", ".join(name for name, _ in REGISTRY),
    )


def _warn_foreign(instrumentor: ProviderInstrumentor) -> None:
    """One warning per SDK naming the other instrumentation(s) and how to resolve it.

    Called before patching (the other one came first) and again on a few early calls (it came
    after), so the warning appears in either order.
    """
    if instrumentor.name in _warned_foreign:
        return
    try:
        foreign = instrumentor.foreign_instrumentation()
    except Exception:
        return
    if foreign:
        _warned_foreign.add(instrumentor.name)
        packages = sorted({item.rsplit("(", 1)[-1].rstrip(")") for item in foreign if "(" in item})
        logger.warning(
            "tokentrace: another instrumentation already wraps %s (%s: %s); each call produces two "
            "spans and its tokens are recorded twice (tokentrace still sees every call and enforces "
            "budgets). Keep one: uninstrument the other one (e.g. its Instrumentor().uninstrument(), "
            "or OTEL_PYTHON_DISABLED_INSTRUMENTATIONS under opentelemetry-instrument), or leave %s "
            "out of tokentrace with instrument(providers=[...]).",
            instrumentor.name,
            ", ".join(packages) or "unknown package",
            ", ".join(foreign),
            instrumentor.name,
        )


def uninstrument() -> None:
    """Restore every patched SDK function; safe to call when not instrumented."""
    global _active
    with _lock:
        active, _active = _active, None
        if active is None:
            return
        core_active.set_pipeline(None)
        _tear_down(active.instrumentors, active.pipeline.observers)


def _tear_down(instrumentors: List[ProviderInstrumentor], observers: List[Any]) -> None:
    """Undo a setup: ``uninstrument()``, and an ``instrument()`` that failed halfway (its thread
    patches and adapters applied so far must not outlive it, or uninstrument() could never
    remove them)."""
    lifecycle.unhook_provider_shutdown()
    # Pending adapters first, so that no SDK imported from now on gets patched.
    for instrumentor in [*instrumentors, *deferred.cancel()]:
        try:
            instrumentor.uninstrument()
        except Exception as exc:
            report(f"uninstrumenting {instrumentor.name}", exc)
    for observer in observers:
        close = getattr(observer, "close", None)
        if close is not None:
            try:
                close()
            except Exception as exc:
                report("closing an observer", exc)


def flush(timeout: float = lifecycle.EXIT_FLUSH_TIMEOUT_S) -> bool:
    """Complete every pending call's telemetry and export it, within ``timeout`` seconds.

    Pending means completed off the app's thread (a local usage estimate) or held by a flush hook
    (the ledger writer); then the OpenTelemetry providers tokentrace writes to are flushed, so a
    test or a short script that calls ``tokentrace.flush()`` finds every span and point exported.
    Streams the app is still reading are left alone (at exit they are settled too). Returns True
    when everything drained in time; never raises.
    """
    deadline = time.monotonic() + max(0.0, timeout)
    try:
        complete = lifecycle.flush(timeout, settle_open=False)
    except Exception as exc:  # pragma: no cover - flush guards itself
        report("flush()", exc)
        complete = False
    active = _active
    providers: List[Any] = []
    if active is not None:
        providers = [active.config.tracer_provider, active.config.meter_provider]
    from opentelemetry import metrics, trace

    providers = [p for p in providers if p is not None] or [trace.get_tracer_provider(), metrics.get_meter_provider()]
    for provider in providers:
        force_flush = getattr(provider, "force_flush", None)
        if force_flush is None:
            continue
        remaining_ms = int(max(0.0, deadline - time.monotonic()) * 1000)
        try:
            complete = force_flush(timeout_millis=remaining_ms) is not False and complete
        except TypeError:
            try:
                complete = force_flush() is not False and complete
            except Exception as exc:
                report("flush() of an OpenTelemetry provider", exc)
                complete = False
        except Exception as exc:
            report("flush() of an OpenTelemetry provider", exc)
            complete = False
    return complete


def is_instrumented() -> bool:
    return _active is not None


def active_pipeline() -> Optional[Pipeline]:
    """The pipeline in use, for tokentrace's own CLI and extensions (the layers below read
    :func:`tokentrace.core.active.pipeline`, the same object)."""
    return core_active.pipeline()


class TokentraceInstrumentor:
    """The ``opentelemetry_instrumentor`` entry point: ``opentelemetry-instrument python app.py``.

    ``opentelemetry-instrument`` configures the SDK first and then calls ``instrument()`` here;
    tokentrace finds those providers in place and leaves them alone.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()

    def instrument(self, **kwargs: Any) -> None:
        kwargs.pop("skip_dep_check", None)
        instrument(**kwargs)

    def uninstrument(self, **kwargs: Any) -> None:
        uninstrument()

    @property
    def is_instrumented_by_opentelemetry(self) -> bool:
        return is_instrumented()
