"""The last word on baggage: ``tokentrace.*`` members are removed at the wire, towards LLM providers.

HTTP instrumentations inject the W3C ``baggage`` header at their own layer: httpx's transport,
requests' ``Session.send``, urllib3's ``urlopen``, botocore's ``prepare_request``, or an app's own
transport wrapper. They do it for every request, including the ones tokentrace does not trace and
the ones a stream sends lazily on its first ``next()``, outside any call's context, and they
forward baggage that came from a calling service. Stripping in the SDK's own request hooks is
therefore never enough; these patches sit *below* every such layer, just before bytes are written:

* ``httpcore`` / ``httpcore2`` ``ConnectionPool.handle_request`` and
  ``AsyncConnectionPool.handle_async_request``: under httpx and httpx2 (openai 3.x, anthropic 2.x,
  google-genai) and every transport built on them;
* ``urllib3`` ``HTTPConnection.request``: under requests, urllib3 and botocore (boto3). botocore
  signs headers (SigV4) before this point; a baggage header present at signing time was already
  cleaned by the Bedrock adapter's ``before-sign`` hook, so what changes here was never signed;
* ``aiohttp`` ``ClientRequest.send``: under aiobotocore, google-genai's and the Vertex AI SDK's
  async paths and any aiohttp client. The aiohttp instrumentation injects in its
  ``on_request_start`` trace hook, before the request object exists; ``send`` is what writes the
  headers, on the connection the request was given (signing, as for botocore, happened earlier).

Only requests whose origin is an LLM provider are touched
(:func:`~tokentrace.attribution.propagation.is_provider_origin`); baggage to the app's own
services is left exactly as it was. The patches are installed by ``instrument()`` whatever
``providers=`` says, and removed by ``uninstrument()``.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple

from ..attribution.propagation import is_provider_origin, strip_baggage_value
from ..core.pipeline import Pipeline
from ..core.safety import report
from .base import Patch, ProviderInstrumentor

__all__ = ["TransportInstrumentor", "strip_aiohttp_request", "strip_httpcore_request", "strip_urllib3_headers"]

_DEFAULT_PORTS = {b"https": 443, b"http": 80, "https": 443, "http": 80}


def strip_httpcore_request(request: Any) -> None:
    """Clean an ``httpcore.Request``'s baggage header in place, for provider origins only."""
    headers = request.headers
    found = False
    for name, value in headers:
        if name.lower() == b"baggage" and b"tokentrace." in value:
            found = True
            break
    if not found:
        return
    url = request.url
    port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme)
    if not is_provider_origin(url.host, port):
        return
    cleaned: List[Tuple[bytes, bytes]] = []
    for name, value in headers:
        if name.lower() == b"baggage":
            kept = strip_baggage_value(value.decode("latin-1"))
            if kept is None:
                continue
            value = kept.encode("latin-1")
        cleaned.append((name, value))
    request.headers = cleaned


def _httpcore_sync(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        try:
            strip_httpcore_request(args[0] if args else kwargs["request"])
        except Exception as exc:
            report("baggage stripping (httpcore)", exc)
        return wrapped(*args, **kwargs)

    return wrapper


def _httpcore_async(pipeline: Pipeline) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        try:
            strip_httpcore_request(args[0] if args else kwargs["request"])
        except Exception as exc:
            report("baggage stripping (httpcore)", exc)
        return await wrapped(*args, **kwargs)

    return wrapper


def strip_urllib3_headers(connection: Any, url: str, headers: Any) -> Any:
    """``headers`` for ``HTTPConnection.request``: a cleaned copy when needed, else the same object."""
    if not headers:
        return headers
    names = [name for name in headers.keys() if isinstance(name, str) and name.lower() == "baggage"]
    if not names or not any("tokentrace." in str(headers[name]) for name in names):
        return headers
    host = getattr(connection, "_tunnel_host", None) or getattr(connection, "host", None)
    port = getattr(connection, "_tunnel_port", None) if getattr(connection, "_tunnel_host", None) else getattr(connection, "port", None)
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        from urllib.parse import urlsplit

        parts = urlsplit(url)  # an absolute URL: a plain HTTP proxy, the target is in the URL
        host, port = parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme)
    if port is None:
        port = 443 if type(connection).__name__.endswith("HTTPSConnection") else 80
    if not is_provider_origin(host, port):
        return headers
    cleaned = headers.copy()
    for name in names:
        kept = strip_baggage_value(str(cleaned[name]))
        del cleaned[name]
        if kept:
            cleaned[name] = kept
    return cleaned


def _urllib3_request(pipeline: Pipeline) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        try:
            if len(args) > 3:
                headers = strip_urllib3_headers(instance, args[1], args[3])
                if headers is not args[3]:
                    args = (*args[:3], headers, *args[4:])
            elif kwargs.get("headers"):
                url = args[1] if len(args) > 1 else kwargs.get("url", "")
                headers = strip_urllib3_headers(instance, url, kwargs["headers"])
                if headers is not kwargs["headers"]:
                    kwargs = {**kwargs, "headers": headers}
        except Exception as exc:
            report("baggage stripping (urllib3)", exc)
        return wrapped(*args, **kwargs)

    return wrapper


def strip_aiohttp_request(request: Any) -> None:
    """Clean an ``aiohttp.ClientRequest``'s baggage headers in place, for provider origins only."""
    headers = request.headers  # a CIMultiDict: case-insensitive, may repeat a name
    values = headers.getall("baggage", ())
    if not any("tokentrace." in value for value in values):
        return
    url = request.url  # the target, also through a proxy (the proxy's URL is kept apart)
    if not is_provider_origin(url.raw_host, url.port):
        return
    kept = [value for value in (strip_baggage_value(value) for value in values) if value]
    headers.popall("baggage")
    for value in kept:
        headers.add("baggage", value)


def _aiohttp_send(pipeline: Pipeline) -> Callable[..., Any]:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Tuple[Any, ...], kwargs: dict) -> Any:
        try:
            strip_aiohttp_request(instance)
        except Exception as exc:
            report("baggage stripping (aiohttp)", exc)
        return await wrapped(*args, **kwargs)

    return wrapper


from . import TRANSPORT_PACKAGES as PACKAGES  # noqa: E402 - the package is loaded first


class TransportInstrumentor(ProviderInstrumentor):
    """Not an SDK adapter: the wire-level baggage guard, installed with every ``instrument()``."""

    name = "transport"
    module = "tokentrace"

    def __init__(self, packages: Sequence[str] = PACKAGES) -> None:
        super().__init__()
        self.packages = tuple(packages)

    def patches(self) -> List[Patch]:
        patches: List[Patch] = []
        for package in ("httpcore", "httpcore2"):
            if package not in self.packages:
                continue
            patches.append(Patch(f"{package}._sync.connection_pool", "ConnectionPool.handle_request", _httpcore_sync))
            patches.append(
                Patch(f"{package}._async.connection_pool", "AsyncConnectionPool.handle_async_request", _httpcore_async)
            )
        if "urllib3" in self.packages:
            patches.append(Patch("urllib3.connection", "HTTPConnection.request", _urllib3_request))
        if "aiohttp" in self.packages:
            patches.append(Patch("aiohttp.client_reqrep", "ClientRequest.send", _aiohttp_send))
        return patches

    def foreign_instrumentation(self) -> List[str]:
        return []


def install(pipeline: Pipeline) -> Optional[TransportInstrumentor]:
    """Guard the HTTP packages imported now, the others when imported (see ``install_transport_guard``)."""
    from . import install_transport_guard

    return install_transport_guard(pipeline)


def install_for(packages: Sequence[str], pipeline: Pipeline) -> Optional[TransportInstrumentor]:
    instrumentor = TransportInstrumentor(packages)
    try:
        instrumentor.instrument(pipeline)
    except Exception as exc:
        instrumentor.uninstrument()
        report("installing the transport baggage guard", exc)
        return None
    return instrumentor
