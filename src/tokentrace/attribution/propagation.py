"""Attribution across services (W3C baggage), and kept away from LLM providers.

Outgoing: when ``propagate_baggage`` is on (the default), entering a scope also puts its values
into OpenTelemetry baggage as ``tokentrace.<key>`` (tags as ``tokentrace.tag.<key>``), so any
instrumented HTTP client forwards them in the ``baggage`` header. The user id never goes into
baggage, not even hashed: baggage leaves the process on every request.

Incoming: baggage comes from whoever called the service, so a client could bill its calls to
another team by sending ``tokentrace.team=...``. It is honoured only with
``trust_inbound_baggage=True``; without it, a local scope also replaces any ``tokentrace.*``
baggage it finds, so a service never forwards attribution it did not itself set.

To providers: attribution is internal and never reaches an LLM provider, whoever put it in the
baggage (a local scope, or a calling service). HTTP instrumentations inject the ``baggage``
header at their own layer, for every request, including the ones tokentrace does not trace
(``GET /v1/models``, files, ``count_tokens``) and the ones a stream sends lazily on its first
``next()``, outside the call's context. So the last word is at the wire: the transport patches
(:mod:`tokentrace.providers.transport`) call :func:`strip_baggage_value` on every request whose
origin :func:`is_provider_origin` recognises: the public LLM API hosts, and every origin an
instrumented SDK client was seen sending to (:func:`register_provider_origin`, done by the
adapters, so a local or compatible server is covered too). Requests to the app's own services
keep their baggage. :func:`strip_attribution_baggage` (headers) and
:func:`without_attribution_baggage` (the context an LLM call runs in) do the same earlier, where
an adapter can.
"""

from __future__ import annotations

import threading
from types import MappingProxyType
from typing import Any, Dict, Mapping, MutableMapping, Optional, Set, Tuple

from opentelemetry import baggage as otel_baggage, context as otel_context
from opentelemetry.context import Context

from .values import STANDARD_KEYS, clean

BAGGAGE_PREFIX = "tokentrace."
_TAG_BAGGAGE_PREFIX = "tokentrace.tag."

_BAGGAGE_KEY: Optional[str]
try:  # the dict stored in the context: read directly so the inbound cache can key on its identity
    from opentelemetry.baggage import _BAGGAGE_KEY as _OTEL_BAGGAGE_KEY

    _BAGGAGE_KEY = _OTEL_BAGGAGE_KEY
except ImportError:  # pragma: no cover - a future API without the private key
    _BAGGAGE_KEY = None

_inbound_cache: Tuple[Any, Optional[Tuple[Any, Dict[str, str]]]] = (object(), None)


#: The baggage of a context that has none: one object, so inbound_values()'s identity cache
#: hits on every call of an app without baggage instead of missing on a new ``{}`` each time.
_NO_BAGGAGE: Mapping[str, object] = MappingProxyType({})


def _baggage_dict(context: Optional[Context] = None) -> Mapping[str, object]:
    if _BAGGAGE_KEY is not None:
        value = (context if context is not None else otel_context.get_current()).get(_BAGGAGE_KEY)
        return value if value.__class__ is dict or isinstance(value, dict) else _NO_BAGGAGE
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
    if not bag:  # the common case: no baggage at all
        return context
    for name in [n for n in bag if n.startswith(BAGGAGE_PREFIX)]:
        context = otel_baggage.remove_baggage(name, context)
    return context


def strip_baggage_value(value: str) -> Optional[str]:
    """A ``baggage`` header value without its ``tokentrace.*`` members (``None``: nothing left).

    Returns ``value`` itself when it has no such member, so callers can test identity.
    """
    if BAGGAGE_PREFIX not in value:
        return value
    members = [m for m in value.split(",") if m.strip()]
    kept = [m.strip() for m in members if not m.split("=", 1)[0].strip().startswith(BAGGAGE_PREFIX)]
    if len(kept) == len(members):
        return value
    return ",".join(kept) if kept else None


#: Hosts of public LLM APIs (exact names and ``.suffix`` matches); others are learned from clients.
_PROVIDER_HOSTS = frozenset(
    {
        "api.openai.com",
        "api.anthropic.com",
        "generativelanguage.googleapis.com",
        "aiplatform.googleapis.com",
        "openrouter.ai",
        "api.mistral.ai",
        "api.groq.com",
        "api.together.xyz",
        "api.deepseek.com",
        "api.x.ai",
        "api.fireworks.ai",
        "api.cohere.com",
        "api.cohere.ai",
        "api.perplexity.ai",
    }
)
_PROVIDER_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
    "-aiplatform.googleapis.com",
)
#: Origins of registered SDK clients; bounded (a process talks to a handful of base URLs).
_MAX_ORIGINS = 1024
_origins: Set[Tuple[str, Optional[int]]] = set()
_origins_lock = threading.Lock()


def _normal_host(host: Any) -> str:
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    return str(host or "").strip("[]").rstrip(".").lower()


def register_provider_origin(host: Any, port: Optional[int]) -> None:
    """Remember that an LLM SDK client sends to ``host:port`` (its requests lose attribution)."""
    key = (_normal_host(host), port)
    if not key[0] or key in _origins:
        return
    with _origins_lock:
        if len(_origins) < _MAX_ORIGINS:
            _origins.add(key)


def register_provider_url(url: Any) -> None:
    """:func:`register_provider_origin` for a URL (str or httpx-style URL object)."""
    if isinstance(url, str):
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        host, port, scheme = parts.hostname, parts.port, parts.scheme
    else:
        host, port, scheme = getattr(url, "host", None), getattr(url, "port", None), getattr(url, "scheme", "https")
    if port is None:
        port = 80 if scheme == "http" else 443
    register_provider_origin(host, port)


def is_provider_origin(host: Any, port: Optional[int]) -> bool:
    """True for a request towards an LLM provider: a known API host or a registered client origin."""
    name = _normal_host(host)
    if (name, port) in _origins or name in _PROVIDER_HOSTS:
        return True
    if name.startswith(("bedrock-runtime.", "bedrock-runtime-fips.")) and name.endswith(".amazonaws.com"):
        return True
    return name.endswith(_PROVIDER_SUFFIXES)


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
        value = str(headers[name])
        kept = strip_baggage_value(value)
        if kept is value:
            continue
        if kept:
            headers[name] = kept
        else:
            del headers[name]
    return headers
