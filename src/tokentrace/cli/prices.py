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
from typing import Any, List, Mapping, Optional, Sequence, TextIO

from ..core.config import Config, ConfigError
from ..core.record import CallRecord, Usage
from ..pricing.catalog import Catalog, load_catalog, update_path
from ..pricing.rates import BATCH, STANDARD, PriceHistory
from ..pricing.schema import parse_document, read_file, read_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

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
    prices.add_argument("--wide", action="store_true", help="every column: cache-write rates, long-context tiers, since, source")
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
            return check(words[1], out, err)
        if words[:1] == ["update"]:
            return update(args.url, args.timeout, args.output, out, err)
        if len(words) > 1:
            err.write("usage: tokentrace prices [PATTERN]\n")
            return 2
        return show(_catalog(args.prices), words[0] if words else None, out, wide=getattr(args, "wide", False))
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return 1


#: How ``prices check`` counts each kind of entry.
_ENTRY_WORDS = {"model": "model price(s)", "discount": "discount(s)", "host": "host rule(s)"}


def check(path: str, out: TextIO, err: Optional[TextIO] = None) -> int:
    """Validate a price file and list *every* problem, each with its entry; warn when it is empty.

    The loader stops at the first problem (it must: a half-read price file would misprice
    calls); here each entry is validated on its own, so one run shows everything to fix.
    """
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        read_file(path)  # missing, unreadable or not TOML: the loader's own message, raised
        raise
    problems = _all_problems(document, path)
    if problems:
        err = err or sys.stderr
        err.write(f"tokentrace prices file {path}: {len(problems)} problem(s)\n")
        for problem in problems:
            err.write(f"  - {problem}\n")
        return 1
    counts = {key: len(value) for key, value in document.items() if isinstance(value, list)}
    if not any(counts.values()):
        out.write(
            f"{path}: warning: no [[model]] or [[discount]] entries, so this file changes no price. "
            "See the README's 'Your own prices' for the format.\n"
        )
        return 0
    summary = ", ".join(f"{count} {_ENTRY_WORDS.get(key, f'[[{key}]] entr(ies)')}" for key, count in counts.items())
    out.write(f"{path}: OK, {summary}\n")
    return 0


def _all_problems(document: Mapping[str, Any], path: str) -> List[str]:
    """Every problem of ``document``: the file's frame first, then each entry on its own."""
    prefix = f"tokentrace prices file {path}: "

    def problem_of(doc: Mapping[str, Any]) -> Optional[str]:
        try:
            parse_document(doc, path, builtin=False)
        except ConfigError as exc:
            return str(exc)[len(prefix):] if str(exc).startswith(prefix) else str(exc)
        return None

    frame = {key: ([] if isinstance(value, list) else value) for key, value in document.items()}
    framing = problem_of(frame)
    if framing is not None:
        return [framing]
    problems: List[str] = []
    for key, entries in document.items():
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries, start=1):
            found = problem_of({**frame, key: [entry]})
            if found is not None:
                problems.append(found.replace(f"[[{key}]] #1", f"[[{key}]] #{index}", 1))
    if not problems:
        whole = problem_of(document)  # what only shows between entries: duplicates
        if whole is not None:
            problems.append(whole)
    return problems


def show(catalog: Catalog, pattern: Optional[str], out: TextIO, wide: bool = False) -> int:
    rows = [_row(namespace, history) for namespace, history in catalog.entries() if _matches(history, pattern)]
    if not rows:
        out.write(f"no model matches {pattern!r}\n")
        return 1
    rows.sort(key=lambda r: (r[0], r[1]))
    rows = [_without_repeated_rates(row) for row in rows]
    if wide:
        _write_wide(rows, out)
        out.write("USD per 1M tokens; 'long context': rates once the prompt exceeds the token count (all tokens switch).\n")
    else:
        _write_compact(rows, out)
        out.write(
            "USD per 1M tokens; * higher rates above a prompt size (see --wide: tiers, since, source).\n"
        )
    return 0


#: Width the default table keeps to (a terminal's, or a README's code block).
TABLE_WIDTH = 100
_WRITE_5M, _WRITE_1H = _COLUMNS.index("write 5m"), _COLUMNS.index("write 1h")


def _without_repeated_rates(row: Sequence[str]) -> List[str]:
    """'-' for a cache-write rate that only repeats the rate it falls back to: no such rate.

    A model without a cache-write price is billed its input rate for writes, and one without a
    1 h price its 5 min rate; showing those copies made every provider look like it had them.
    """
    cells = list(row)
    if row[_WRITE_5M] == row[_COLUMNS.index("input")]:
        cells[_WRITE_5M] = "-"
    if row[_WRITE_1H] == row[_WRITE_5M]:
        cells[_WRITE_1H] = "-"
    return cells


def _lines(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]


def _write_wide(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """Every column, a line per model; cache-write columns only when a shown model has such a rate."""
    keep = [i for i in range(len(_COLUMNS)) if i not in (_WRITE_5M, _WRITE_1H) or any(r[i] != "-" for r in rows)]
    for line in _lines([_COLUMNS[i] for i in keep], [[r[i] for i in keep] for r in rows]):
        out.write(line + "\n")


def _write_compact(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """One block per provider, within :data:`TABLE_WIDTH` columns.

    A provider's block has cache-write columns only if one of its models has a cache-write rate of
    its own; a model name too long for the line gets a line of its own, its rates below it.
    """
    rate_columns = [_COLUMNS.index(n) for n in ("input", "cached", "write 5m", "write 1h", "output", "batch in/out")]
    input_column, long_context = rate_columns[0], _COLUMNS.index("long context")
    for provider in sorted({r[0] for r in rows}):
        group = [r for r in rows if r[0] == provider]
        keep = [c for c in rate_columns if c not in (_WRITE_5M, _WRITE_1H) or any(r[c] != "-" for r in group)]
        header = ["model", *(_COLUMNS[c] for c in keep)]
        body = [[r[1], *(r[c] + "*" if c == input_column and r[long_context] != "-" else r[c] for c in keep)] for r in group]
        rate_widths = [max(len(row[i]) for row in [header, *body]) for i in range(1, len(header))]
        name_room = TABLE_WIDTH - 2 - sum(w + 2 for w in rate_widths)
        name_width = max(len(row[0]) for row in [header, *body] if len(row[0]) <= name_room)
        sources = sorted({r[_COLUMNS.index("source")] for r in group})
        # Your own prices say which file they come from (the catalog's sources are in --wide).
        out.write(provider + (f"  (from {', '.join(sources)})" if provider == "override" else "") + "\n")
        for row in [header, *body]:
            rates = "".join("  " + cell.ljust(width) for cell, width in zip(row[1:], rate_widths))
            if len(row[0]) > name_width:
                out.write(f"  {row[0]}\n")
                out.write(("  " + " " * name_width + rates).rstrip() + "\n")
            else:
                out.write(("  " + row[0].ljust(name_width) + rates).rstrip() + "\n")


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
