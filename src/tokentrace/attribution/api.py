"""``attribute()``, ``workflow()`` and ``agent_step()``: scopes that are context managers and decorators.

A scope object can be used in a ``with`` (or ``async with``) statement and as a decorator of
sync and async functions and generators; each decorated call opens a fresh scope, so one
decorator serves any number of concurrent calls. Bad values are checked when the scope object
is created, which is the ``with`` line (or the decoration), so strict mode raises there; past that
point nothing raises into the application: internal errors are logged once and the code runs
without attribution.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Dict, List, Mapping, Optional, TypeVar

from opentelemetry import context as otel_context, trace
from opentelemetry.trace import SpanKind

from ..core import active
from ..core.safety import report
from ..records import semconv as sc
from . import settings as _settings
from .propagation import inbound_values, with_attribution_baggage
from .rollup import Rollup
from .scope import Scope, _current, current_scope
from .values import clean

F = TypeVar("F", bound=Callable[..., Any])

TRACER_NAME = "tokentrace"


class _Entry:
    """One time a scope is entered: the tokens to undo and the roll-up to close."""

    __slots__ = ("scope", "scope_token", "otel_token", "rollup")

    def __init__(self) -> None:
        self.scope: Optional[Scope] = None
        self.scope_token: Any = None
        self.otel_token: Any = None
        self.rollup: Optional[Rollup] = None

    def exit(self, error: Optional[BaseException]) -> None:
        if self.otel_token is not None:
            try:
                otel_context.detach(self.otel_token)
            except Exception as exc:
                report("attribution scope exit", exc)
        if self.scope_token is not None:
            try:
                _current.reset(self.scope_token)
            except ValueError:  # exited in another context than entered: leave that context alone
                pass
        if self.rollup is not None:
            self.rollup.close(error)


class attribute:  # noqa: N801 - reads as a function at the call site, like contextlib's helpers
    """Attribute every LLM call inside to a team, feature, workflow, agent step, task, tenant or user.

    ``with tokentrace.attribute(team="search", feature="autocomplete"): ...`` or as a decorator.
    Nested scopes merge, the inner value winning. ``user`` is recorded only as a keyed hash.
    Any other keyword is a free-form tag (``tokentrace.tag.<key>`` on spans). ``None`` means "not
    given". Values must be short strings: see the README for what happens to other values.
    """

    _operation: Optional[str] = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # ``@tokentrace.attribute`` without parentheses hands the function over as ``team``: say so
        # at the decoration, not with a TypeError the first time the function is called.
        if len(args) == 1 and not kwargs and _is_decoration_target(args[0]):
            return cls._bare(args[0])
        return super().__new__(cls)

    @classmethod
    def _bare(cls, fn: Any) -> Any:
        name = getattr(fn, "__qualname__", None) or repr(fn)
        raise TypeError(
            f"@tokentrace.attribute on {name} needs the attribution to set, e.g. "
            f"@tokentrace.attribute(team=\"search\", feature=\"autocomplete\"); without values it would "
            f"attribute nothing. (@tokentrace.workflow and @tokentrace.agent_step work bare: they take "
            f"the function's name.)"
        )

    def __init__(
        self,
        team: Optional[str] = None,
        feature: Optional[str] = None,
        workflow: Optional[str] = None,
        agent_step: Optional[str] = None,
        task: Optional[str] = None,
        tenant: Optional[str] = None,
        user: Optional[str] = None,
        **tags: Any,
    ) -> None:
        raw: Dict[str, Any] = dict(
            team=team, feature=feature, workflow=workflow, agent_step=agent_step, task=task, tenant=tenant, user=user
        )
        raw.update(tags)
        self._values: Mapping[str, str] = clean(raw, _settings.current().strict)
        self._entries: List[_Entry] = []

    # -- entering and leaving ---------------------------------------------------------------------

    def _enter(self) -> _Entry:
        entry = _Entry()
        try:
            parent = current_scope()
            settings = _settings.current()
            values = {**_outer_values(parent, settings), **self._values}
            rollups = parent.rollups if parent is not None else ()
            span = self._start_span(values) if self._operation else None
            if span is not None:
                entry.rollup = Rollup(span)
                rollups = rollups + (entry.rollup,)
            entry.scope = Scope(values, rollups)
            ctx = None
            if span is not None:
                ctx = trace.set_span_in_context(span)
            if settings.propagate_baggage:
                ctx = with_attribution_baggage(values, ctx)
            entry.scope_token = _current.set(entry.scope)
            if ctx is not None:
                entry.otel_token = otel_context.attach(ctx)
        except Exception as exc:
            report("attribution scope entry", exc)
        return entry

    def _start_span(self, values: Mapping[str, str]) -> Any:
        snapshot = Scope(values, ()).snapshot()
        attributes: Dict[str, Any] = {sc.GEN_AI_OPERATION_NAME: self._operation}
        attributes.update(self._name_attributes())
        attributes.update(snapshot.span_attributes)
        return _tracer().start_span(self._span_name(), kind=SpanKind.INTERNAL, attributes=attributes)

    def _span_name(self) -> str:
        return ""

    def _name_attributes(self) -> Dict[str, str]:
        return {}

    def __enter__(self) -> attribute:
        self._entries.append(self._enter())
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        # Find this context's entry (one scope object may be entered by several tasks at once).
        scope = current_scope()
        for index in range(len(self._entries) - 1, -1, -1):
            if self._entries[index].scope is scope:
                self._entries.pop(index).exit(exc)
                return
        if self._entries:
            self._entries.pop().exit(exc)

    async def __aenter__(self) -> attribute:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- decorating -------------------------------------------------------------------------------

    def __call__(self, fn: F) -> F:
        if inspect.isasyncgenfunction(fn):
            wrapper: Callable[..., Any] = self._wrap_async_generator(fn)
        elif inspect.isgeneratorfunction(fn):
            wrapper = self._wrap_generator(fn)
        elif inspect.iscoroutinefunction(fn):
            wrapper = self._wrap_coroutine(fn)
        else:
            wrapper = self._wrap_function(fn)
        return functools.wraps(fn)(wrapper)  # type: ignore[return-value]

    def _wrap_function(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            entry, error = self._enter(), None
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:
                error = exc
                raise
            finally:
                entry.exit(error)

        return wrapper

    def _wrap_coroutine(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            entry, error = self._enter(), None
            try:
                return await fn(*args, **kwargs)
            except BaseException as exc:
                error = exc
                raise
            finally:
                entry.exit(error)

        return wrapper

    def _wrap_generator(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """The scope is in force while the generator body runs, not while it is suspended."""
        scope_object = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            stepper = _Stepper(scope_object)
            gen = stepper.step(fn, *args, **kwargs)
            method, arg = gen.send, None
            try:
                while True:
                    try:
                        item = stepper.step(method, arg)
                    except StopIteration as stop:
                        return stop.value
                    try:
                        arg = yield item
                        method = gen.send
                    except GeneratorExit:
                        stepper.step(gen.close)
                        raise
                    except BaseException as exc:
                        method, arg = gen.throw, exc
            except GeneratorExit:
                raise
            except BaseException as exc:
                stepper.error = exc
                raise
            finally:
                stepper.finish()

        return wrapper

    def _wrap_async_generator(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        scope_object = self

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            stepper = _Stepper(scope_object)
            agen = stepper.step(fn, *args, **kwargs)
            method, arg = agen.asend, None
            try:
                while True:
                    try:
                        item = await stepper.astep(method, arg)
                    except StopAsyncIteration:
                        return
                    try:
                        arg = yield item
                        method = agen.asend
                    except GeneratorExit:
                        await stepper.astep(agen.aclose)
                        raise
                    except BaseException as exc:
                        method, arg = agen.athrow, exc
            except GeneratorExit:
                raise
            except BaseException as exc:
                stepper.error = exc
                raise
            finally:
                stepper.finish()

        return wrapper


class _Stepper:
    """Runs each step of a generator inside the scope, entered afresh and left after each step.

    The scope (and its span) is created once, at the first step; every step sets it in the
    consumer's context and restores that context before handing the item over.
    """

    def __init__(self, scope_object: attribute) -> None:
        self.entry = scope_object._enter()
        self.error: Optional[BaseException] = None
        # Remember what the entry put in force, then give the consumer its context back.
        self.scope = self.entry.scope
        self.otel_ctx = otel_context.get_current()
        self._suspend()

    def _suspend(self) -> None:
        entry = self.entry
        if entry.otel_token is not None:
            otel_context.detach(entry.otel_token)
            entry.otel_token = None
        if entry.scope_token is not None:
            _current.reset(entry.scope_token)
            entry.scope_token = None

    def _resume(self) -> None:
        if self.scope is not None:
            self.entry.scope_token = _current.set(self.scope)
            self.entry.otel_token = otel_context.attach(self.otel_ctx)

    def step(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._resume()
        try:
            return method(*args, **kwargs)
        finally:
            self._suspend()

    async def astep(self, method: Callable[..., Any], *args: Any) -> Any:
        self._resume()
        try:
            return await method(*args)
        finally:
            self._suspend()

    def finish(self) -> None:
        self.entry.exit(self.error)


class workflow(attribute):  # noqa: N801
    """A named workflow: sets ``workflow=name`` and opens an ``invoke_workflow {name}`` span.

    When the scope ends, the span carries the totals of every LLM call made inside it (see the
    README's roll-up attributes). Extra keywords are attribution, as for :class:`attribute`.
    Used bare (``@tokentrace.workflow``), the workflow is named after the function.
    """

    _operation = "invoke_workflow"

    @classmethod
    def _bare(cls, fn: Any) -> Any:
        return cls(getattr(fn, "__name__", None) or "workflow")(fn)

    def __init__(self, name: str, **attribution: Any) -> None:
        super().__init__(workflow=name, **attribution)
        self.name = self._values.get("workflow", "")

    def _span_name(self) -> str:
        return f"invoke_workflow {self.name}" if self.name else "invoke_workflow"

    def _name_attributes(self) -> Dict[str, str]:
        return {sc.GEN_AI_WORKFLOW_NAME: self.name} if self.name else {}


class agent_step(attribute):  # noqa: N801
    """A named agent step: sets ``agent_step=name`` and opens an ``invoke_agent {name}`` span with roll-ups.

    Used bare (``@tokentrace.agent_step``), the step is named after the function.
    """

    _operation = "invoke_agent"

    @classmethod
    def _bare(cls, fn: Any) -> Any:
        return cls(getattr(fn, "__name__", None) or "agent_step")(fn)

    def __init__(self, name: str, **attribution: Any) -> None:
        super().__init__(agent_step=name, **attribution)
        self.name = self._values.get("agent_step", "")

    def _span_name(self) -> str:
        return f"invoke_agent {self.name}" if self.name else "invoke_agent"

    def _name_attributes(self) -> Dict[str, str]:
        return {sc.GEN_AI_AGENT_NAME: self.name} if self.name else {}


def _is_decoration_target(value: Any) -> bool:
    """A function, method or class: what a decorator receives, never an attribution value."""
    return inspect.isroutine(value) or inspect.isclass(value) or isinstance(value, functools.partial)


def _outer_values(parent: Optional[Scope], settings: _settings.Settings) -> Mapping[str, str]:
    """What a new scope merges onto: the enclosing scope, else trusted inbound baggage."""
    if parent is not None:
        return parent.values
    if settings.trust_inbound:
        inbound = inbound_values()
        if inbound is not None:
            return inbound[1]
    return {}


def _tracer() -> Any:
    """The tracer ``instrument()`` was given (so roll-up spans land beside the LLM spans), else the global one."""
    pipeline = active.pipeline()
    if pipeline is not None:
        return pipeline.instruments.tracer
    return trace.get_tracer(TRACER_NAME)


def current_attribution() -> Dict[str, str]:
    """The attribution an LLM call made here would carry (the user as its hash)."""
    try:
        scope = current_scope()
        if scope is None:
            if not _settings.current().trust_inbound:
                return {}
            scope = Scope({}, ())
        return dict(scope.snapshot().values)
    except Exception as exc:
        report("current_attribution()", exc)
        return {}
