"""``tokentrace serve``: the local provider server, for a first span without an API key.

It is the same server the demo and the test suite use (``tokentrace.testing.ProviderServer``):
it speaks the OpenAI, Anthropic, Gemini and Bedrock wire formats on 127.0.0.1 with realistic
bodies and usage, so an unmodified application pointed at it (``OPENAI_BASE_URL`` ...) makes
real SDK calls that tokentrace traces and prices as the vendor would bill them.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any


def add_parser(commands: Any) -> None:
    serve = commands.add_parser("serve", help="a local stand-in for the providers' APIs on 127.0.0.1 (no API key needed)")
    serve.add_argument("--port", type=int, default=8089, help="port on 127.0.0.1 (default 8089; 0 for any free port)")
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from ..testing import ProviderServer

    try:
        server = ProviderServer(port=args.port).start()
    except OSError as exc:
        print(f"tokentrace serve: cannot listen on 127.0.0.1:{args.port} ({exc.strerror or exc}); try --port 0", file=sys.stderr)
        return 2
    print(f"tokentrace serve: listening on {server.url} (Ctrl-C to stop). Point your SDKs at it:", flush=True)
    from ..pricing.hosts import STAND_INS_ENV

    # The server stands in for the vendors: calls to it are priced at their list prices, not as
    # a self-hosted model, in the processes that inherit this variable.
    print(f"  export {STAND_INS_ENV}=127.0.0.1:{server.port}", flush=True)
    print(f"  export OPENAI_BASE_URL={server.openai_url} OPENAI_API_KEY=sk-local", flush=True)
    print(f"  export ANTHROPIC_BASE_URL={server.url} ANTHROPIC_API_KEY=sk-ant-local", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        server.stop()
    return 0
