"""Attribution across services (W3C baggage), and kept away from LLM providers.

Outgoing: when ``propagate_baggage`` is on (the default), entering a scope also puts its values
into OpenTelemetry baggage as ``tokentrace.<key>`` (tags as ``tokentrace.tag.<key>``), so any
instrumented HTTP client forwards them in the ``baggage`` header. The user id never goes into
baggage, not even hashed: baggage leaves the process on every request.

Incoming: baggage comes from whoever called the service, so a client could bill its calls to
another team by sending ``tokentrace.team=...``. It is honoured only with
``trust_inbound_baggage=True``; without it, a local scope also replaces any ``tokentrace.*``
baggage it finds, so a service never forwards attribution it did not itself set.

To providers: attribution is internal; :func:`strip_attribution_baggage` removes it from the
headers of a request to an LLM endpoint and :func:`without_attribution_baggage` from the context
an LLM call runs in, leaving every other baggage member alone.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, MutableMapping, Optional, Tuple

from opentelemetry import baggage as otel_baggage
from opentelemetry import context as otel_context
from opentelemetry.context import Context

from .values import STANDARD_KEYS, clean

BAGGAGE_PREFIX = "tokentrace."
_TAG_BAGGAGE_PREFIX = "tokentrace.tag."

try:  # the dict stored in the context: read directly so the inbound cache can key on its identity
    from opentelemetry.baggage import _BAGGAGE_KEY
except ImportError:  # pragma: no cover - a future API without the private key
    _BAGGAGE_KEY = None

_inbound_cache: Tuple[Any, Optional[Tuple[Any, Dict[str, str]]]] = (object(), None)


def _baggage_dict(context: Optional[Context] = None) -> Mapping[str, object]:
    if _BAGGAGE_KEY is not None:
        value = otel_context.get_value(_BAGGAGE_KEY, context)
        return value if isinstance(value, dict) else {}
    return otel_baggage.get_all(context)


def inbound_values() -> Optional[Tuple[Any, Dict[str, str]]]:
    """The ``tokentrace.*`` baggage in the current context as attribution, or None if there is none.

    The result object is the same for the same baggage, so callers can cache on its identity.
    """
    global _inbound_cache
    bag = _baggage_dict()
    cached_bag, cached = _inbound_cache
    if cached_bag is bag:
        return cached
    raw: Dict[str, Any] = {}
    for name, value in bag.items():
        if not name.startswith(BAGGAGE_PREFIX):
            continue
        if name.startswith(_TAG_BAGGAGE_PREFIX):
            raw[name[len(_TAG_BAGGAGE_PREFIX) :]] = value
        else:
            key = name[len(BAGGAGE_PREFIX) :]
            if key in STANDARD_KEYS and key != "user":
                raw[key] = value
    result = (bag, clean(raw, strict=False)) if raw else None
    _inbound_cache = (bag, result)
    return result


def baggage_name(key: str) -> str:
    return BAGGAGE_PREFIX + key if key in STANDARD_KEYS else _TAG_BAGGAGE_PREFIX + key


def with_attribution_baggage(values: Mapping[str, str], context: Optional[Context] = None) -> Context:
    """A context whose ``tokentrace.*`` baggage is exactly ``values`` (the user left out)."""
    context = without_attribution_baggage(context)
    for key, value in values.items():
        if key != "user":
            context = otel_baggage.set_baggage(baggage_name(key), value, context)
    return context


def without_attribution_baggage(context: Optional[Context] = None) -> Context:
    """``context`` (default: the current one) with every ``tokentrace.*`` baggage entry removed."""
    if context is None:
        context = otel_context.get_current()
    bag = _baggage_dict(context)
    for name in [n for n in bag if n.startswith(BAGGAGE_PREFIX)]:
        context = otel_baggage.remove_baggage(name, context)
    return context


def strip_attribution_baggage(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Remove ``tokentrace.*`` members from a ``baggage`` header in place; drop the header if empty.

    Provider adapters call this on the outgoing request's headers just before it is sent, so an
    HTTP instrumentation or the app's own header forwarding never hands attribution to the LLM
    provider. Other baggage members are kept verbatim. Works on dicts and on httpx-style headers.
    """
    if hasattr(headers, "multi_items"):
        # httpx-style headers: case-insensitive membership, and most requests carry no baggage.
        if "baggage" not in headers:
            return headers
        names = ["baggage"]
    else:
        names = [name for name in list(headers.keys()) if name.lower() == "baggage"]
    for name in names:
        members = [m for m in str(headers[name]).split(",") if m.strip()]
        kept = [m for m in members if not m.split("=", 1)[0].strip().startswith(BAGGAGE_PREFIX)]
        if len(kept) == len(members):
            continue
        if kept:
            headers[name] = ",".join(m.strip() for m in kept)
        else:
            del headers[name]
    return headers
