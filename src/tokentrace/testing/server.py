"""A local LLM provider server on 127.0.0.1 that speaks the providers' wire formats.

The real SDKs talk to it through ``base_url`` / ``endpoint_url``, so tests, the demo and users'
own tests exercise the SDK's real HTTP, SSE and retry code. Each provider's wire format is a
module in this package that registers routes; this module is the provider-neutral part: the HTTP
server, the log of received requests, and the queue of :class:`ResponsePlan` overrides a test
uses to script what the next responses look like (usage, errors, reroutes, truncated streams).

Usage::

    with ProviderServer() as server:
        client = openai.OpenAI(base_url=server.openai_url, api_key="sk-test")
        server.enqueue(ResponsePlan(usage={"prompt_tokens": 2006, ...}))
        client.chat.completions.create(model="gpt-4o", messages=[...])
        server.requests[-1].json  # what the server received
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Pattern, Tuple, Union
from urllib.parse import parse_qs, urlsplit


@dataclass
class ResponsePlan:
    """What the next response should be, where it should differ from the realistic default.

    ``usage`` is sent verbatim in the provider's own usage shape, so a test states exactly what
    the provider reported and checks tokentrace's reading of it against hand-computed values.
    """

    status: int = 200
    error: Optional[Dict[str, Any]] = None
    model: Optional[str] = None
    text: Optional[str] = None
    usage: Optional[Dict[str, Any]] = None
    #: Replace the whole JSON body (hostile or malformed responses).
    body: Any = None
    #: Replace the whole stream: raw SSE ``data`` payloads (or (event, data) pairs).
    events: Optional[List[Union[str, Tuple[Optional[str], str]]]] = None
    #: Close the stream abruptly after this many events.
    truncate_after: Optional[int] = None
    #: Stream without any usage event even when asked for one (endpoints that ignore it).
    omit_usage: bool = False
    #: Extra fields merged into the response body (service_tier, system_fingerprint ...).
    extra: Dict[str, Any] = field(default_factory=dict)
    headers: Dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    #: Seconds to wait between streamed events.
    chunk_delay_s: float = 0.0
    #: Number of text chunks a stream is split into.
    chunks: int = 3
    #: An OpenAI background response (``background: true``): the statuses its successive
    #: retrieves report, the last one repeating (default ``in_progress`` then ``completed``;
    #: ``failed``, ``incomplete`` or ``cancelled`` end it otherwise).
    background: Optional[List[str]] = None


@dataclass
class ReceivedRequest:
    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes
    #: When the request arrived, and the plan it was answered with (what a fake vendor bills).
    received_at: float = field(default_factory=time.time)
    plan: Optional[ResponsePlan] = None

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


@dataclass
class Reply:
    """A complete response: JSON when ``body`` is not bytes, else raw bytes."""

    status: int = 200
    body: Any = None
    headers: Dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class StreamReply:
    """A streamed response: each item of ``chunks`` is written and flushed as it comes."""

    chunks: Iterable[bytes]
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)
    content_type: str = "text/event-stream"
    chunk_delay_s: float = 0.0
    truncate_after: Optional[int] = None


Handler = Callable[["ProviderServer", ReceivedRequest, Dict[str, str], ResponsePlan], Union[Reply, StreamReply]]


def sse(data: str, event: Optional[str] = None) -> bytes:
    """One server-sent event, framed as the providers frame them."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n".encode()


#: Aliases the real APIs answer with a dated snapshot (an alias answered by its snapshot is not a reroute).
DEFAULT_SNAPSHOTS = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-5": "gpt-5-2025-08-07",
    "gpt-5-mini": "gpt-5-mini-2025-08-07",
    "gpt-5-nano": "gpt-5-nano-2025-08-07",
    "o4-mini": "o4-mini-2025-04-16",
    "gpt-3.5-turbo-instruct": "gpt-3.5-turbo-instruct",
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5": "claude-haiku-4-5-20251001",
    "claude-opus-4-5": "claude-opus-4-5-20251101",
}


def count_text_tokens(text: str) -> int:
    """The server's deterministic token count: about four characters a token, at least one."""
    return max(1, (len(text) + 3) // 4) if text else 0


class ProviderServer:
    """An HTTP/1.1 server on 127.0.0.1 with every registered provider's routes."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        reroutes: Optional[Mapping[str, str]] = None,
        stand_in: bool = True,
        openai_flavour: Iterable[str] = (),
    ) -> None:
        """``stand_in``: calls to this server are priced as if they went to the vendor whose wire
        format they use (the default, for tests and demos). ``stand_in=False`` makes it look like
        what it is, a server on this machine: calls are ``self-hosted`` and unpriced unless a
        prices file matches the host (the README's self-hosted example).

        ``openai_flavour``: the quirks of an OpenAI-compatible host the OpenAI wire imitates
        (see :data:`tokentrace.testing.wire.openai.FLAVOURS`); such a server is no stand-in for
        OpenAI, so pass ``stand_in=False`` with it."""
        self.host = host
        self.stand_in = stand_in
        from .wire.openai import check_flavour

        self.openai_flavour = check_flavour(openai_flavour)
        self._port = port
        self.requests: List[ReceivedRequest] = []
        self.reroutes: Dict[str, str] = dict(reroutes or {})
        self._plans: List[ResponsePlan] = []
        self._lock = threading.Lock()
        self._routes: List[Tuple[str, Pattern[str], Handler]] = []
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        from . import wire

        wire.register_all(self)

    # -- configuration --------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(pattern + r"$"), handler))

    def enqueue(self, *plans: ResponsePlan) -> None:
        """Script the next responses, in order; when the queue is empty, defaults apply."""
        with self._lock:
            self._plans.extend(plans)

    def answering_model(self, requested: str, plan: ResponsePlan) -> str:
        if plan.model:
            return plan.model
        if requested in self.reroutes:
            return self.reroutes[requested]
        return DEFAULT_SNAPSHOTS.get(requested, requested)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_url(self) -> str:
        return self.url + "/v1"

    @property
    def mistral_url(self) -> str:
        """``server_url`` for ``mistralai.Mistral`` (Mistral's routes live under ``/mistral``)."""
        return self.url + "/mistral"

    @property
    def groq_url(self) -> str:
        """``base_url`` for ``groq.Groq`` (Groq's routes live under ``/groq/openai/v1``)."""
        return self.url + "/groq"

    @property
    def azure_inference_url(self) -> str:
        """``endpoint`` for the ``azure.ai.inference`` clients (an Azure AI Foundry ``/models`` endpoint)."""
        return self.url + "/azure/models"

    def start(self) -> ProviderServer:
        server = self

        class _Handler(_RequestHandler):
            provider_server = server

        self._httpd = _QuietHTTPServer((self.host, self._port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="tokentrace-provider-server", daemon=True)
        self._thread.start()
        if self.stand_in:
            from ..pricing import hosts

            hosts.register_stand_in(self.host, self.port)
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            if self.stand_in:
                from ..pricing import hosts

                hosts.unregister_stand_in(self.host, self.port)
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- dispatch -------------------------------------------------------------------------------

    def _next_plan(self) -> ResponsePlan:
        with self._lock:
            return self._plans.pop(0) if self._plans else ResponsePlan()

    def dispatch(self, request: ReceivedRequest) -> Union[Reply, StreamReply]:
        with self._lock:
            self.requests.append(request)
        for method, pattern, handler in self._routes:
            if method != request.method:
                continue
            match = pattern.match(request.path)
            if match:
                plan = request.plan = self._next_plan()
                if plan.delay_s:
                    time.sleep(plan.delay_s)
                return handler(self, request, match.groupdict(), plan)
        return Reply(404, {"error": {"message": f"no route for {request.method} {request.path}", "type": "invalid_request_error"}})


class _QuietHTTPServer(ThreadingHTTPServer):
    """Clients that hang up (closed streams, cancelled tasks) are normal here, not errors to print."""

    #: Many concurrent clients (load tests, 50 asyncio tasks) must queue, not be reset.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Headers and body go out in separate writes; with Nagle's algorithm on, the body waits for
    #: the client's delayed ACK (~40 ms per keep-alive request on Linux).
    disable_nagle_algorithm = True
    provider_server: ProviderServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the default stderr log
        return

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not length and self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        parts = urlsplit(self.path)
        request = ReceivedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            reply = self.provider_server.dispatch(request)
        except Exception as exc:  # a bug in a wire module must show up as a 500, not a hang
            reply = Reply(500, {"error": {"message": f"test server error: {exc!r}", "type": "server_error"}})
        if isinstance(reply, StreamReply):
            self._write_stream(reply)
        else:
            self._write_reply(reply)

    def _read_chunked(self) -> bytes:
        data = b""
        while True:
            size = int(self.rfile.readline().strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def _write_reply(self, reply: Reply) -> None:
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _write_stream(self, reply: StreamReply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not reply.chunk_delay_s and reply.truncate_after is None:
            # No pacing asked for: the whole stream in one write, as a fast provider's events
            # arrive together, so what a test sees does not depend on the scheduler.
            try:
                body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in reply.chunks)
                self.wfile.write(body + b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True
            return
        try:
            for index, chunk in enumerate(reply.chunks):
                if reply.truncate_after is not None and index >= reply.truncate_after:
                    # An abrupt end: close without the terminating zero-length chunk.
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply.chunk_delay_s:
                    time.sleep(reply.chunk_delay_s)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True


def error_reply(status: int, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> Reply:
    return Reply(status, body, dict(headers or {}))
