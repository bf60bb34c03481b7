"""OpenAI background responses (``responses.create(background=True)``): usage counted once, when
tokentrace first sees the finished response.

A background ``create`` returns at once with ``status: "queued"`` (or ``"in_progress"``) and no
usage; the billed usage appears later, on whatever the application uses to follow it:
``responses.retrieve(id)`` (``GET /v1/responses/{id}``) polled until the status is terminal, the
resumed stream ``responses.retrieve(id, stream=True, starting_after=n)`` (or
``responses.stream(response_id=...)``), or ``responses.cancel(id)``. So:

* the ``create`` call's span stays honest: the status the API answered
  (``openai.response.status = queued``), no usage, ``tokentrace.usage.deferred = true`` and
  ``tokentrace.cost.status = deferred`` (never a $0 cost, never an estimate); tokentrace
  remembers the response id with the attribution in force and that span's context
  (:class:`~tokentrace.core.settle_once.SettleOnce`, bounded);
* the first terminal response seen for that id (``completed``, ``incomplete``, ``failed``,
  ``cancelled``; from a retrieve, a resumed stream, a cancel, or the create itself when it
  streamed to the end) is the billed call: one span with its usage and cost, the creation-time
  attribution, and a link to the ``create`` span. Later sightings of the same id settle nothing.

A finished background response seen in a process that did not create it is settled once there,
with the attribution in force where it is seen. Foreground responses (``background: false``)
are recorded by their ``create`` and never again by a retrieve.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from opentelemetry.trace import Link

from ...core.pipeline import Call, Pipeline
from ...core.safety import report
from ...core.settle_once import SettleOnce, Started
from .. import flow
from ..values import field
from . import endpoints, extract

_LABEL = "OpenAI background response"

#: Statuses after which a response changes no more (and is billed as it stands).
TERMINAL = frozenset({"completed", "incomplete", "failed", "cancelled"})
#: Stream events that carry a terminal response.
_TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
#: The provider attribute that keeps the status the API answered.
STATUS = "openai.response.status"

registry: SettleOnce[Started] = SettleOnce()


def requested(body: Mapping[str, Any]) -> bool:
    return body.get("background") is True


def is_follow_up(url: str, method: str) -> bool:
    """``GET /responses/{id}`` (retrieve, resumed stream) or ``POST /responses/{id}/cancel``."""
    parts = url.rstrip("/").split("/")
    if method.lower() == "get":
        return len(parts) >= 2 and parts[-2] == "responses" and bool(parts[-1])
    if method.lower() == "post":
        return len(parts) >= 3 and parts[-1] == "cancel" and parts[-3] == "responses"
    return False


# -- the create call -----------------------------------------------------------------------------


def after_create(call: Call, response: Any) -> None:
    """Before the create call ends: defer it while queued, or claim its id when it finished."""
    record = call.record
    response_id = record.response_id or field(response, "id")
    status = field(response, "status")
    if isinstance(status, str) and endpoints.is_openai(record.provider):
        record.response_attributes[STATUS] = status
    if not isinstance(response_id, str) or not response_id:
        return
    if record.usage is not None or status in TERMINAL:
        registry.claim(response_id)  # counted here: a later retrieve must not count it again
        return
    defer(call, response_id)


def defer(call: Call, response_id: str) -> None:
    record = call.record
    record.usage_deferred = True
    try:
        context = call.span.get_span_context() if call.span is not None else None
    except Exception:
        context = None
    request = {"request_model": record.request_model, "request_attributes": dict(record.request_attributes)}
    registry.defer(response_id, Started(call.attribution, context, request))


def after_create_stream(call: Call, error: Optional[BaseException]) -> None:
    """A background create's stream ended: settled if it showed the terminal response, else deferred
    (a dropped background stream goes on server-side and is billed when it finishes)."""
    record = call.record
    if not record.response_id:
        return
    if record.usage is not None:
        registry.claim(record.response_id)
        return
    defer(call, record.response_id)  # the pipeline then neither estimates nor prices it


# -- retrieve, resumed streams, cancel -----------------------------------------------------------


def settle(pipeline: Pipeline, target: Any, response: Any) -> bool:
    """Record a terminal background response once; ``True`` when this sighting recorded it."""
    if field(response, "background") is not True or field(response, "status") not in TERMINAL:
        return False
    response_id = field(response, "id")
    if not isinstance(response_id, str) or not response_id:
        return False
    first, started = registry.claim(response_id)
    if not first:
        return False
    request: Dict[str, Any] = started.request if started is not None else {}
    model = request.get("request_model") or field(response, "model")
    record = endpoints.build_record(endpoints.RESPONSES, {"model": model}, target, False)
    record.request_attributes.update(request.get("request_attributes") or {})
    extract.fill_response(record, response, pipeline.config.capture_any)
    status = field(response, "status")
    if endpoints.is_openai(record.provider) and isinstance(status, str):
        record.response_attributes[STATUS] = status
    links = [Link(started.context)] if started is not None and started.context is not None else []
    attribution = started.attribution if started is not None else None
    call = pipeline.start(record, attribution=attribution, links=links, enforce=False)
    flow.finish(pipeline, call, _LABEL)
    return True


class FollowState:
    """Watches a resumed background stream for its terminal response; never hides anything."""

    __slots__ = ("pipeline", "target")

    def __init__(self, pipeline: Pipeline, target: Any) -> None:
        self.pipeline = pipeline
        self.target = target

    def observe(self, event: Any) -> None:
        try:
            if getattr(event, "type", None) in _TERMINAL_EVENTS:
                settle(self.pipeline, self.target, event.response)
        except Exception as exc:
            report("OpenAI background stream event", exc)

    def end(self, error: Optional[BaseException] = None) -> None:
        return None


class FollowRaw:
    """``with_raw_response`` / ``with_streaming_response`` retrieves: followed when the app parses."""

    __slots__ = ("pipeline", "instance")

    def __init__(self, pipeline: Pipeline, instance: Any) -> None:
        self.pipeline = pipeline
        self.instance = instance

    def parsed(self, value: Any) -> Any:
        return follow(self.pipeline, self.instance, value)

    def abandon(self) -> None:
        return None

    def failed(self, error: BaseException) -> None:
        return None


def follow(pipeline: Pipeline, instance: Any, result: Any) -> Any:
    """What a retrieve or cancel returned: settled if terminal; a stream or raw response is watched."""
    try:
        from openai import AsyncStream, Stream
        from openai._legacy_response import LegacyAPIResponse
        from openai._response import APIResponse, AsyncAPIResponse

        from ..proxies import AsyncRawResponseProxy, AsyncStreamProxy, SyncRawResponseProxy, SyncStreamProxy

        target = endpoints.client_target(instance)
        if isinstance(result, Stream):
            return SyncStreamProxy(result, FollowState(pipeline, target))
        if isinstance(result, AsyncStream):
            return AsyncStreamProxy(result, FollowState(pipeline, target))
        if isinstance(result, (LegacyAPIResponse, APIResponse)):
            return SyncRawResponseProxy(result, FollowRaw(pipeline, instance))
        if isinstance(result, AsyncAPIResponse):
            return AsyncRawResponseProxy(result, FollowRaw(pipeline, instance))
        if field(result, "object") == "response":
            settle(pipeline, target, result)
    except Exception as exc:
        report(_LABEL, exc)
    return result


def reset() -> None:
    """Forget every deferred and settled id (tests)."""
    registry.clear()
