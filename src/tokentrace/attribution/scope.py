"""The attribution scope in force, and the snapshot each LLM call takes of it.

The scope lives in one ``ContextVar``, so asyncio tasks inherit it and concurrent requests never
see each other's. A :class:`Scope` is immutable: entering a nested scope creates a new one with
the merged values (inner wins). Building a call's attributes (user hash, metric allow-list and
value cap) happens once per scope and settings and is cached on the scope, so :func:`capture`
on the hot path is a ContextVar read and an identity check.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple

from ..core.pipeline import NO_ATTRIBUTION, AttributionSnapshot
from . import settings as _settings
from .propagation import inbound_values

if TYPE_CHECKING:
    from .rollup import Rollup

PREFIX = "tokentrace."
TAG_PREFIX = "tokentrace.tag."
_NAMED = frozenset(("team", "feature", "workflow", "agent_step", "task", "tenant", "user"))


class Snapshot:
    """What one call records about its attribution (see ``AttributionSnapshot``)."""

    __slots__ = ("values", "span_attributes", "metric_attributes")

    def __init__(self, values: Mapping[str, str], settings: _settings.Settings) -> None:
        hashed: Dict[str, str] = dict(values)
        if "user" in hashed:
            hashed["user"] = settings.hasher.hash(hashed["user"])
        self.values: Mapping[str, str] = hashed
        self.span_attributes: Mapping[str, Any] = {attribute_name(k): v for k, v in hashed.items()}
        self.metric_attributes: Mapping[str, str] = {
            attribute_name(k): settings.limiter.admit(k, hashed[k]) for k in settings.metric_keys if k in hashed
        }


def attribute_name(key: str) -> str:
    """``team`` -> ``tokentrace.team``; a free-form tag ``env`` -> ``tokentrace.tag.env``."""
    return PREFIX + key if key in _NAMED else TAG_PREFIX + key


class Scope:
    """One level of attribution: the merged local values and the roll-ups open around it."""

    __slots__ = ("values", "rollups", "_cache")

    def __init__(self, values: Mapping[str, str], rollups: Tuple[Rollup, ...]) -> None:
        #: Local values only (inbound baggage is merged under them at snapshot time); the raw user id.
        self.values = values
        self.rollups = rollups
        self._cache: Optional[Tuple[Any, Any, Snapshot]] = None

    def snapshot(self) -> Snapshot:
        settings = _settings.current()
        inbound = inbound_values() if settings.trust_inbound else None
        cache = self._cache
        if cache is not None and cache[0] is settings and cache[1] is inbound:
            return cache[2]
        values = {**inbound[1], **self.values} if inbound else self.values
        snapshot = Snapshot(values, settings)
        self._cache = (settings, inbound, snapshot)
        return snapshot


_current: ContextVar[Optional[Scope]] = ContextVar("tokentrace_attribution", default=None)
_EMPTY = Scope({}, ())


def current_scope() -> Optional[Scope]:
    return _current.get()


def capture() -> AttributionSnapshot:
    """The attribution of a call starting now (runs on every LLM call: keep it cheap)."""
    scope = _current.get()
    if scope is None:
        if not _settings.current().trust_inbound:
            return NO_ATTRIBUTION
        scope = _EMPTY
    snapshot = scope.snapshot()
    return snapshot if snapshot.values else NO_ATTRIBUTION
