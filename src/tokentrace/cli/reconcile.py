"""``tokentrace reconcile``: prove tokentrace's numbers against the vendor's bill, or say why not.

Exit status: 0 when the capture is within the tolerance and no cell's unexplained delta exceeds
it; 1 when past the tolerance (for cron and CI); 2 when the input cannot be read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

EXIT_OK, EXIT_PAST_TOLERANCE, EXIT_ERROR = 0, 1, 2
_VENDORS = "openai | anthropic | cur FILE | gcp FILE | azure FILE | focus FILE"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reconcile",
        help="compare tokentrace's spend with the vendor's usage and cost, per day, model and token type",
        description=(
            "Compare the ledger (or Prometheus) with a vendor's own numbers: OpenAI's and Anthropic's admin APIs "
            "(admin key from OPENAI_ADMIN_KEY / ANTHROPIC_ADMIN_API_KEY, never from the command line), an AWS CUR 2.0 "
            "export (CSV or Parquet), a Google Cloud billing export (CSV or JSON), an Azure cost export, or any FOCUS file. "
            "Prints a table per day x model x token type with both sides, the delta, the capture rate and what explains it."
        ),
    )
    parser.add_argument("--vendor", nargs="+", required=True, metavar="SOURCE", help=f"where the vendor's numbers come from: {_VENDORS}")
    parser.add_argument("--from", dest="start", required=True, help="first day (UTC), e.g. 2026-11-01, or an ISO time")
    parser.add_argument("--to", dest="end", required=True, help="last day, included (UTC), e.g. 2026-11-30, or an exclusive ISO time")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--ledger", help="tokentrace's ledger file (default: $TOKENTRACE_LEDGER or the default ledger)")
    source.add_argument("--prometheus", help="base URL of a Prometheus-compatible API holding tokentrace's counters")
    parser.add_argument("--tolerance", default="1%", help="largest accepted gap, e.g. 1%% or 0.01 (default 1%%); past it the exit status is 1")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.add_argument("--limit", type=int, default=30, help="cells shown in the table (default 30; --json has all)")
    parser.add_argument("--base-url", help="admin API base URL (default: the vendor's; a proxy or the local test server)")
    parser.add_argument(
        "--bucket-width", choices=("1d", "1h", "1m"), default="1d",
        help="usage buckets asked of the admin APIs (default 1d; cost reports are daily); the table is per day either way",
    )
    parser.add_argument("--prices", help="price file(s) for model identity and aliases (default: $TOKENTRACE_PRICES)")
    parser.add_argument("--project", action="append", default=[], metavar="ID", help="a vendor project id tokentrace covers (repeatable); traffic of others is reported as unseen")
    parser.add_argument("--workspace", action="append", default=[], metavar="ID", help="an Anthropic workspace id tokentrace covers (repeatable)")
    parser.add_argument("--api-key-id", action="append", default=[], metavar="ID", help="a vendor API key id tokentrace covers (repeatable)")
    parser.add_argument("--metrics", action="store_true", help="also record tokentrace.reconcile.capture_ratio through the OTEL_* exporter settings")
    parser.set_defaults(handler=main)


def parse_tolerance(text: str) -> float:
    value = text.strip()
    try:
        number = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise ValueError(f"--tolerance {text!r}: expected a percentage like 1% or a fraction like 0.01") from None
    if number < 0:
        raise ValueError(f"--tolerance {text!r}: must not be negative")
    return number


def parse_period(start_text: str, end_text: str) -> Tuple[int, int]:
    """[start, end) in epoch seconds; a date-only ``--to`` includes that whole day."""

    def one(text: str, is_end: bool) -> int:
        text = text.strip()
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
                return int(moment.timestamp()) + (86400 if is_end else 0)
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            flag = "--to" if is_end else "--from"
            raise ValueError(f"{flag} {text!r}: expected a date like 2026-11-30 or a time like 2026-11-30T12:00:00Z") from None
        return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)).timestamp())

    start, end = one(start_text, False), one(end_text, True)
    if end <= start:
        raise ValueError(f"the period is empty: --to {end_text} is not after --from {start_text}")
    return start, end


def _scope(args: argparse.Namespace) -> Dict[str, Set[str]]:
    scope: Dict[str, Set[str]] = {}
    for key, values in (("project_id", args.project), ("workspace_id", args.workspace), ("api_key_id", args.api_key_id)):
        if values:
            scope[key] = set(values)
    return scope


def _our_rows(args: argparse.Namespace, start: int, end: int) -> List[Any]:
    try:
        from ..ledger import read_rows
    except ImportError:
        raise RuntimeError("this tokentrace has no ledger reader; upgrade tokentrace") from None
    if args.prometheus:
        return read_rows(prometheus=args.prometheus, start=start, end=end)
    ledger = args.ledger
    if not ledger:
        from ..ledger import default_path

        ledger = str(default_path())
    return read_rows(ledger=ledger, start=start, end=end)


def main(args: argparse.Namespace) -> int:
    from ..reconcile import ModelIdentity, reconcile
    from ..reconcile.render import render
    from ..reconcile.sources import FILE_SOURCES, PROVIDERS, SOURCES, SourceError, load

    out, err = sys.stdout, sys.stderr
    vendor, *rest = args.vendor
    try:
        if vendor not in SOURCES:
            raise ValueError(f"--vendor {vendor!r}: expected {_VENDORS}")
        if vendor in FILE_SOURCES and len(rest) != 1:
            raise ValueError(f"--vendor {vendor} needs the export file: --vendor {vendor} FILE")
        if vendor not in FILE_SOURCES and rest:
            raise ValueError(f"--vendor {vendor} reads the vendor's admin API and takes no file (got {' '.join(rest)})")
        tolerance = parse_tolerance(args.tolerance)
        start, end = parse_period(args.start, args.end)
        identity = ModelIdentity.from_prices(args.prices) if args.prices else ModelIdentity.from_prices(_env_prices())
        if vendor in FILE_SOURCES and args.bucket_width != "1d":
            raise ValueError("--bucket-width is for the admin APIs (openai, anthropic); an export file has its own granularity")
        data = load(vendor, path=Path(rest[0]) if rest else None, start=start, end=end, base_url=args.base_url, bucket_width=args.bucket_width)
        ours = _our_rows(args, start, end)
    except (ValueError, SourceError, RuntimeError, OSError) as exc:
        print(f"tokentrace reconcile: {exc}", file=err)
        return EXIT_ERROR
    except Exception as exc:  # the ledger's and the price catalog's own errors carry their message
        if type(exc).__name__ in ("LedgerError", "ConfigError"):
            print(f"tokentrace reconcile: {exc}", file=err)
            return EXIT_ERROR
        raise
    families = PROVIDERS[vendor]
    if families is None:
        from ..reconcile.identity import provider_family

        families = frozenset(provider_family(r.provider) for r in data.rows)
    from ..reconcile.identity import provider_family as family_of

    ours = [row for row in ours if family_of(row.provider) in families]
    result = reconcile(data.rows, ours, source=vendor, start=start, end=end, tolerance=tolerance, identity=identity, scope=_scope(args))
    result.notes += data.all_notes()
    if args.prometheus:
        result.notes.append(
            "read from Prometheus: attempts tokentrace recorded as possibly billed (SDK retries after timeouts, cut streams) "
            "are in the ledger only; here a retry billed twice is explained only where the vendor counts requests (OpenAI)"
        )
    if args.metrics:
        _record_metrics(result)
    if args.json:
        json.dump(result.as_dict(), out, indent=2)
        out.write("\n")
    else:
        out.write(render(result, args.limit))
    return EXIT_OK if result.within_tolerance else EXIT_PAST_TOLERANCE


def _env_prices() -> Optional[str]:
    import os

    return os.environ.get("TOKENTRACE_PRICES") or None


def _record_metrics(result: Any) -> None:
    from ..core.sdk_setup import configure_from_environment
    from ..reconcile.metrics import record_capture

    configure_from_environment()
    record_capture(result)
    from opentelemetry import metrics

    provider = metrics.get_meter_provider()
    flush = getattr(provider, "force_flush", None)
    if flush is not None:
        flush(10_000)
