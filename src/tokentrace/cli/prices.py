"""``tokentrace prices`` and ``tokentrace cost``: look at the catalog and price a call by hand.

``tokentrace prices [PATTERN]`` lists prices per 1M tokens with their source and date;
``tokentrace prices check FILE`` validates a price file; ``tokentrace prices update`` fetches a
newer catalog, the only place tokentrace touches the network for prices, and only when asked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import os
import sys
import tempfile
import urllib.error
import urllib.request
from typing import Any, List, Optional, Sequence, TextIO

from ..core.config import Config, ConfigError
from ..core.record import CallRecord, Usage
from ..pricing.catalog import Catalog, load_catalog, update_path
from ..pricing.rates import BATCH, STANDARD, PriceHistory
from ..pricing.schema import read_file, read_text

DEFAULT_UPDATE_URL = "https://raw.githubusercontent.com/tokentrace/tokentrace/main/src/tokentrace/pricing/data/prices.toml"
_COLUMNS = ("provider", "model", "input", "cached", "write 5m", "write 1h", "output", "batch in/out", "long context", "since", "source")


def add_parsers(subparsers: Any) -> None:
    """Register ``prices`` and ``cost`` on the ``tokentrace`` command's subparsers."""
    prices = subparsers.add_parser(
        "prices",
        help="list the price catalog, check a price file, or fetch a newer catalog",
        description=(
            "tokentrace prices [PATTERN]      list prices (USD per 1M tokens) matching PATTERN (glob or substring)\n"
            "tokentrace prices check FILE     validate a price override file\n"
            "tokentrace prices update         download a newer built-in catalog (network, only when asked)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prices.add_argument("words", nargs="*", metavar="PATTERN | check FILE | update", help="what to do (see above)")
    prices.add_argument("--prices", help="also show the overrides in this price file (default: $TOKENTRACE_PRICES)")
    prices.add_argument("--url", default=DEFAULT_UPDATE_URL, help="update: where to download the catalog from")
    prices.add_argument("--timeout", type=float, default=10.0, help="update: seconds to wait for the download (default 10)")
    prices.add_argument("--output", help=f"update: file to write (default: $TOKENTRACE_PRICES_CACHE or {update_path()})")
    prices.set_defaults(handler=run_prices)

    cost = subparsers.add_parser(
        "cost",
        help="price one call by hand: tokentrace cost --model gpt-4o --input 2006 --cached 1920 --output 300",
        description="Price one call from token counts. --input is the whole prompt, cached and cache-write tokens included; "
        "--output is all output, reasoning included.",
    )
    cost.add_argument("--model", required=True, help="model id as the provider reports it (snapshots, prefixes are resolved)")
    cost.add_argument("--provider", default="openai", help="gen_ai.provider.name value: openai, anthropic, aws.bedrock, gcp.gemini ... (default openai)")
    cost.add_argument("--input", type=_count, required=True, help="input tokens, total (cached included)")
    cost.add_argument("--output", type=_count, default=0, help="output tokens, total (reasoning included)")
    cost.add_argument("--cached", type=_count, default=0, help="input tokens read from the cache")
    cost.add_argument("--cache-write", type=_count, default=0, help="input tokens written to the cache (all TTLs)")
    cost.add_argument("--cache-write-long", type=_count, default=0, help="of those, written with the 1 h (Anthropic) / 12 h (OpenAI) TTL")
    cost.add_argument("--reasoning", type=_count, default=0, help="of the output, reasoning/thinking tokens (billed as output)")
    cost.add_argument("--audio-input", type=_count, default=0, help="of the input, audio tokens")
    cost.add_argument("--audio-output", type=_count, default=0, help="of the output, audio tokens")
    cost.add_argument("--image-input", type=_count, default=0, help="of the input, image tokens")
    cost.add_argument("--batch", action="store_true", help="priced at batch rates")
    cost.add_argument("--service-tier", help="service tier the response reported: flex, priority ...")
    cost.add_argument("--date", type=_date, help="price in force on this day (YYYY-MM-DD; default today)")
    cost.add_argument("--prices", help="price override file (default: $TOKENTRACE_PRICES)")
    cost.set_defaults(handler=run_cost)


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of tokens, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"token counts cannot be negative, got {text}")
    return value


def _date(text: str) -> float:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2025-06-10, got {text!r}") from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()


def _catalog(prices: Optional[str]) -> Catalog:
    return load_catalog(Config(prices=prices if prices is not None else os.environ.get("TOKENTRACE_PRICES"), strict=True))


# -- tokentrace prices -------------------------------------------------------------------------------


def run_prices(args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    words: List[str] = list(args.words)
    try:
        if words[:1] == ["check"]:
            if len(words) != 2:
                err.write("usage: tokentrace prices check FILE\n")
                return 2
            return check(words[1], out)
        if words[:1] == ["update"]:
            return update(args.url, args.timeout, args.output, out, err)
        if len(words) > 1:
            err.write("usage: tokentrace prices [PATTERN]\n")
            return 2
        return show(_catalog(args.prices), words[0] if words else None, out)
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return 1


def check(path: str, out: TextIO) -> int:
    parsed = read_file(path)
    out.write(f"{path}: OK, {len(parsed.models)} model price(s), {len(parsed.discounts)} discount(s)\n")
    return 0


def show(catalog: Catalog, pattern: Optional[str], out: TextIO) -> int:
    rows = [_row(namespace, history) for namespace, history in catalog.entries() if _matches(history, pattern)]
    if not rows:
        out.write(f"no model matches {pattern!r}\n")
        return 1
    rows.sort(key=lambda r: (r[0], r[1]))
    widths = [max(len(str(r[i])) for r in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]
    for row in [_COLUMNS, *rows]:
        out.write("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip() + "\n")
    out.write("USD per 1M tokens; 'long context': rates once the prompt exceeds the token count (all tokens switch).\n")
    return 0


def _matches(history: PriceHistory, pattern: Optional[str]) -> bool:
    if not pattern:
        return True
    pattern = pattern.strip().lower()
    name = history.name
    return fnmatch.fnmatchcase(name, pattern) if any(c in pattern for c in "*?[") else pattern in name


def _row(namespace: str, history: PriceHistory) -> Sequence[str]:
    point = history.at(None)
    card = point.standard
    batch = point.cards.get(BATCH)
    tiers = "; ".join(f">{above:,}: {_money(t.input)}/{_money(t.output)}" for above, t in card.tiers)
    since = point.effective_from or "release"
    if len(history.points) > 1:
        since += f" ({len(history.points) - 1} earlier)"
    name = history.name
    if point.regional_factor != 1.0:
        name += f" (+{(point.regional_factor - 1) * 100:g}% regional)"
    return (
        namespace,
        name,
        _money(card.input),
        _money(card.cached_input),
        _money(card.cache_write),
        _money(card.cache_write_long),
        _money(card.output),
        f"{_money(batch.input)}/{_money(batch.output)}" if batch else "-",
        tiers or "-",
        since,
        point.source,
    )


def _money(value: float) -> str:
    return f"{value:g}"


# -- tokentrace prices update -----------------------------------------------------------------------


def update(url: str, timeout: float, output: Optional[str], out: TextIO, err: TextIO) -> int:
    """Download a catalog, validate it fully, then replace the fetched copy atomically."""
    target = update_path() if output is None else os.path.abspath(output)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - explicit user request
            text = response.read().decode("utf-8")
    except (urllib.error.URLError, OSError, ValueError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "reason", exc)
        err.write(
            f"tokentrace prices update: could not download {url}: {reason}. Nothing was changed; "
            "tokentrace keeps using the prices it has. Check the network (or --url) and try again.\n"
        )
        return 1
    parsed = read_text(text, url, builtin=True)
    os.makedirs(os.path.dirname(str(target)) or ".", exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(str(target)) or ".", suffix=".toml")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, target)
    out.write(f"tokentrace prices update: {len(parsed.models)} model prices from {url} written to {target}\n")
    return 0


# -- tokentrace cost --------------------------------------------------------------------------------


def run_cost(args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    parts = args.cached + args.cache_write + args.audio_input + args.image_input
    if parts > args.input:
        err.write(
            f"--input ({args.input}) is the whole prompt and must include --cached, --cache-write, --audio-input and "
            f"--image-input (together {parts})\n"
        )
        return 2
    if args.cache_write_long > args.cache_write or args.reasoning > args.output or args.audio_output > args.output:
        err.write("--cache-write-long must be part of --cache-write, and --reasoning / --audio-output part of --output\n")
        return 2
    try:
        catalog = _catalog(args.prices)
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return 1
    usage = Usage(
        input_tokens=args.input,
        output_tokens=args.output,
        cache_read_tokens=args.cached,
        cache_write_tokens=args.cache_write,
        cache_write_long_tokens=args.cache_write_long,
        reasoning_tokens=args.reasoning,
        input_audio_tokens=args.audio_input,
        output_audio_tokens=args.audio_output,
        input_image_tokens=args.image_input,
    )
    record = CallRecord(args.provider, "chat", request_model=args.model, usage=usage, batch=args.batch, service_tier=args.service_tier)
    result = catalog.cost(record, args.date)
    if result.usd is None:
        err.write(f"no price for model {args.model!r} (provider {args.provider}); see 'tokentrace prices' for known models\n")
        return 1
    resolved = catalog.resolve(args.provider, args.model)
    point = resolved.history.at(args.date) if resolved else None
    mode = "batch" if args.batch else (args.service_tier or STANDARD)
    since = point.effective_from if point and point.effective_from else "release"
    out.write(f"${result.usd:.6f}  {result.model} ({mode} rates since {since}; source: {point.source if point else '-'})\n")
    return 0
