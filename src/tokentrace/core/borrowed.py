"""A call span that belongs to someone else: an SDK's own span, which tokentrace annotates.

Some SDKs trace their own calls (the ``anthropic`` 2.x SDK starts a CLIENT span per API call,
on the tracer provider the client was given, with HTTP, resend, content and conversation
attributes tokentrace does not know). Replacing that span would lose all of it and move the
call off the provider the app chose; keeping both would give one call two spans. So the
pipeline *borrows* it: the SDK keeps creating, describing and ending its span exactly as it
would alone, and tokentrace adds its accounting (usage, cost, attribution ...) to the same span.

Two parties end one span, in either order: the owner (the SDK, when the response or the stream's
body ends) and tokentrace (when the call settles, after the owner in the common case: the SDK
ends a non-streamed call's span before its ``request`` returns). :class:`BorrowedSpan` is what
the owner holds: it forwards everything to the real span until the owner ends it, then behaves
like an ended span towards the owner (``is_recording()`` is false, writes are dropped), while
the real span stays open until tokentrace has settled too. The real span then ends once, at
the later of the two end times.

tokentrace's annotations never overwrite what the owner recorded: a key the owner set keeps the
owner's value, and the owner's later writes win over tokentrace's earlier ones.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping, Optional, Set

from opentelemetry import trace

from .safety import report

__all__ = ["BorrowedSpan", "PENDING"]


class _Pending:
    """The state of a call that waits for its owner's span (it is handed over when the request starts)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PENDING"


#: ``Call.borrow`` while the owner has not yet started (or declined to start) its span.
PENDING = _Pending()


class BorrowedSpan(trace.Span):
    """The owner's view of its own span while tokentrace annotates it (see the module docstring).

    A :class:`opentelemetry.trace.Span` itself (the owner checks ``isinstance``); what it does not
    define is read from the real span.
    """

    def __init__(self, span: Any, on_owner_end: Optional[Callable[[], None]] = None) -> None:
        self.__wrapped__ = span
        #: Called when the owner ends the span before tokentrace settled (see :meth:`end`).
        self._self_on_owner_end = on_owner_end
        self._self_lock = threading.Lock()
        self._self_owner_end: Optional[int] = None
        self._self_settled_end: Optional[int] = None
        self._self_ended = False
        #: The keys tokentrace added (and the owner has not set since).
        self._self_added: Set[str] = set()

    def __getattr__(self, name: str) -> Any:
        if name == "__wrapped__":  # before __init__ ran (copy, pickle)
            raise AttributeError(name)
        return getattr(self.__wrapped__, name)

    def get_span_context(self) -> Any:
        return self.__wrapped__.get_span_context()

    # -- the owner's side -------------------------------------------------------------------------

    def end(self, end_time: Optional[int] = None) -> None:
        """The owner is done. If tokentrace is not, it is told (``on_owner_end``): a stream whose
        body the owner saw end (read, closed, dropped) ends tokentrace's call with it."""
        with self._self_lock:
            if self._self_owner_end is not None:
                return
            self._self_owner_end = end_time if end_time is not None else time.time_ns()
            ready = self._self_settled_end is not None
        if ready:
            self._real_end()
            return
        hook = self._self_on_owner_end
        if hook is not None:
            try:
                hook()
            except Exception as exc:
                report("borrowed span owner end", exc)

    def is_recording(self) -> bool:
        return self._self_owner_end is None and self.__wrapped__.is_recording()

    def set_attribute(self, key: str, value: Any) -> None:
        if self._self_owner_end is None:
            self._self_added.discard(key)
            self.__wrapped__.set_attribute(key, value)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        if self._self_owner_end is None:
            self._self_added.difference_update(attributes)
            self.__wrapped__.set_attributes(attributes)

    def set_status(self, *args: Any, **kwargs: Any) -> None:
        if self._self_owner_end is None:
            self.__wrapped__.set_status(*args, **kwargs)

    def add_event(self, *args: Any, **kwargs: Any) -> None:
        if self._self_owner_end is None:
            self.__wrapped__.add_event(*args, **kwargs)

    def add_link(self, *args: Any, **kwargs: Any) -> None:
        if self._self_owner_end is None:
            self.__wrapped__.add_link(*args, **kwargs)

    def record_exception(self, *args: Any, **kwargs: Any) -> None:
        if self._self_owner_end is None:
            self.__wrapped__.record_exception(*args, **kwargs)

    def update_name(self, name: str) -> None:
        if self._self_owner_end is None:
            self.__wrapped__.update_name(name)

    def __enter__(self) -> BorrowedSpan:
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.end()

    # -- tokentrace's side ------------------------------------------------------------------------

    @property
    def real(self) -> Any:
        """The span itself, for tokentrace's own writes (observers' events) that must not be dropped."""
        return self.__wrapped__

    @property
    def added(self) -> Set[str]:
        """The attribute keys tokentrace put on the span (tests tell them from the owner's)."""
        return set(self._self_added)

    def annotate(self, attributes: Mapping[str, Any]) -> None:
        """Add tokentrace's attributes, leaving every key the owner already set as the owner set it."""
        span = self.__wrapped__
        existing = getattr(span, "attributes", None)
        present = set(existing) if existing is not None else set()
        fresh = {key: value for key, value in attributes.items() if key not in present and value is not None}
        if not fresh:
            return
        span.set_attributes(fresh)
        self._self_added.update(fresh)

    def settle(self, end_time: int, *, alone: bool = False) -> None:
        """tokentrace is done with the span; it ends now if the owner is done too.

        ``alone``: end it even though the owner has not (a call settled at exit whose stream the
        application never finished: the owner may never end it).
        """
        with self._self_lock:
            if self._self_settled_end is not None:
                return
            self._self_settled_end = end_time
            if alone and self._self_owner_end is None:
                self._self_owner_end = end_time
            ready = self._self_owner_end is not None
        if ready:
            self._real_end()

    def _real_end(self) -> None:
        with self._self_lock:
            if self._self_ended:
                return
            self._self_ended = True
            end = max(self._self_owner_end or 0, self._self_settled_end or 0)
        try:
            self.__wrapped__.end(end_time=end)
        except Exception as exc:
            report("borrowed span end", exc)
