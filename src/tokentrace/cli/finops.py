"""``tokentrace report`` and ``tokentrace focus``: spend over a period, from the ledger or Prometheus."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime, timezone
from typing import Any, Optional, Tuple

_DURATION = re.compile(r"^(\d+)([hdw])$")


def add_parsers(commands: Any) -> None:
    report = commands.add_parser("report", help="spend by team, feature, workflow, model, provider and day; --html, --png")
    _source_arguments(report)
    report.add_argument("--html", metavar="FILE", help="also write one self-contained HTML page with charts")
    report.add_argument("--png", metavar="DIR", help="also write the charts as PNG files into DIR")
    report.add_argument("--top", type=int, default=10, help="rows per table (default 10)")
    report.add_argument(
        "--budgets", metavar="FILE", help="budgets file whose use and burn-rate forecast to show (default: $TOKENTRACE_BUDGETS)"
    )
    report.set_defaults(handler=run_report)

    focus = commands.add_parser("focus", help="FOCUS rows at token level (CSV or Parquet) for FinOps tools")
    _source_arguments(focus)
    focus.add_argument("-o", "--output", metavar="FILE", default="-", help="file to write (.csv or .parquet; default: CSV to standard output)")
    focus.add_argument("--format", choices=("csv", "parquet"), default="", help="output format (default: from the file name)")
    focus.add_argument("--focus-version", default=None, help="FOCUS version: 1.4 (the newest, default), 1.3, or 1.0 (what focus-validator 1.0.0 checks)")
    focus.add_argument("--billing-account", help="BillingAccountId/Name to put on the rows (default: the provider)")
    focus.set_defaults(handler=run_focus)


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--ledger", metavar="FILE", help="ledger file (default: $TOKENTRACE_LEDGER or ~/.local/share/tokentrace/ledger.sqlite)")
    source.add_argument("--prometheus", metavar="URL", help="Prometheus-compatible API (Prometheus, Mimir, Thanos, VictoriaMetrics) with tokentrace's counters")
    parser.add_argument("--selector", default="", metavar="MATCHERS", help='with --prometheus: PromQL label matchers narrowing the series, e.g. \'{job="checkout"}\'')
    parser.add_argument("--last", default="7d", help="period ending now: e.g. 24h, 7d, 4w (default 7d)")
    parser.add_argument("--start", help="period start, UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM (overrides --last)")
    parser.add_argument("--end", help="period end (exclusive), UTC (default: now)")


def _moment(text: str, option: str) -> float:
    for pattern in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text.rstrip("Z"), pattern).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    raise ValueError(f"{option} {text!r}: expected a UTC date like 2026-12-01 or 2026-12-01T14:30")


def period(args: Any, now: Optional[float] = None) -> Tuple[float, float]:
    end = _moment(args.end, "--end") if args.end else (now if now is not None else time.time())
    if args.start:
        start = _moment(args.start, "--start")
    else:
        match = _DURATION.match(str(args.last).strip())
        if not match:
            raise ValueError(f"--last {args.last!r}: expected a number and h, d or w, like 24h, 7d or 4w")
        start = end - int(match.group(1)) * {"h": 3600, "d": 86400, "w": 604800}[match.group(2)]
    if start >= end:
        raise ValueError("the period is empty: --start must be before --end")
    return start, end


def _source(args: Any) -> Tuple[Optional[str], Optional[str]]:
    if args.prometheus:
        return None, args.prometheus
    from .ledger_path import chosen_ledger

    ledger = chosen_ledger(args.ledger)
    if not ledger:
        raise ValueError("no ledger to read: the ledger is turned off (TOKENTRACE_LEDGER=off); pass --ledger FILE or --prometheus URL")
    return ledger, None


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"tokentrace: {message} ...", file=sys.stderr, flush=True)


def run_report(args: Any) -> int:
    from ..ledger.store import LedgerError
    from ..report import render_text, report, write_html, write_pngs

    try:
        start, end = period(args)
        ledger, prometheus = _source(args)
        data = report(
            ledger=ledger, prometheus=prometheus, start=start, end=end, top=args.top, progress=_progress, budgets=args.budgets,
            prometheus_selector=args.selector,
        )
    except (ValueError, LedgerError, RuntimeError, OSError) as exc:
        print(f"tokentrace report: {exc}", file=sys.stderr)
        return 2
    print(render_text(data, top=args.top), flush=True)
    try:
        if args.html:
            write_html(data, args.html, top=args.top)
            print(f"tokentrace report: wrote {args.html}", file=sys.stderr)
        if args.png:
            files = write_pngs(data, args.png)
            print(f"tokentrace report: wrote {len(files)} chart(s) to {args.png}", file=sys.stderr)
    except (RuntimeError, OSError) as exc:
        print(f"tokentrace report: {exc}", file=sys.stderr)
        return 2
    return 0


def run_focus(args: Any) -> int:
    from ..focus import DEFAULT_VERSION, export
    from ..ledger.store import LedgerError

    version = args.focus_version or DEFAULT_VERSION
    try:
        start, end = period(args)
        ledger, prometheus = _source(args)
        written = export(
            args.output, ledger=ledger, prometheus=prometheus, start=start, end=end, version=version, format=args.format,
            billing_account=args.billing_account, prometheus_selector=args.selector, progress=_progress,
        )
    except (ValueError, LedgerError, RuntimeError, OSError) as exc:
        print(f"tokentrace focus: {exc}", file=sys.stderr)
        return 2
    where = "standard output" if args.output == "-" else args.output
    message = f"tokentrace focus: {written.rows:,} FOCUS {version} row(s) written to {where}"
    if written.unpriced_rows:
        message += f"; {written.unpriced_rows} row(s) of unpriced models carry cost 0 with x_CostStatus saying why"
    print(message, file=sys.stderr)
    return 0
