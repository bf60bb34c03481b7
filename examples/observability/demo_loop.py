"""Run the ``tokentrace demo`` workload in a loop, exporting to the OpenTelemetry Collector.

Dashboards show spend with ``increase()`` and ``rate()``, which need a counter that keeps
growing in one process: a single ``tokentrace demo`` run exports each counter once and exits, so
a dashboard would see one point and no increase. This loop keeps one process (one set of
counters) alive and runs the workload every ``--interval`` seconds.

Usage (with ``docker compose up -d`` running in this folder)::

    pip install 'tokentrace[openai]'
    OTEL_SERVICE_NAME=tokentrace-demo OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \\
        OTEL_METRIC_EXPORT_INTERVAL=5000 python examples/observability/demo_loop.py

Everything runs against tokentrace's local provider server on 127.0.0.1: no API key, no cost.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import tokentrace
from tokentrace.cli.demo import run_workload
from tokentrace.testing import ProviderServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between runs (default 10)")
    parser.add_argument("--iterations", type=int, default=0, help="stop after this many runs (default: run until Ctrl-C)")
    args = parser.parse_args(argv)
    if args.interval < 0 or args.iterations < 0:
        parser.error("--interval and --iterations must not be negative")
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        print(
            "demo_loop: OTEL_EXPORTER_OTLP_ENDPOINT is not set, so nothing would be exported; "
            "set it to the Collector, e.g. http://localhost:4318",
            file=sys.stderr,
        )
        return 2
    tokentrace.instrument()
    runs = 0
    try:
        with ProviderServer() as server:
            while not args.iterations or runs < args.iterations:
                calls = run_workload(server)
                runs += 1
                print(f"demo_loop: run {runs} done ({calls} steps); next in {args.interval:g}s", file=sys.stderr, flush=True)
                if not args.iterations or runs < args.iterations:
                    time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        tokentrace.uninstrument()
    return 0


if __name__ == "__main__":
    sys.exit(main())
