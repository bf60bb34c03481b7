"""``tokentrace prices`` and ``tokentrace cost``: look at the catalog and price a call by hand.

``tokentrace prices [PATTERN]`` lists prices per 1M tokens with their source and date, under the
provider names the runtime records (``aws.bedrock``, ``gcp.gemini`` ...); ``tokentrace prices
check FILE`` validates a price file; ``tokentrace prices update`` converts the installed
genai-prices package into tokentrace's base price data (no network: it reads the package).
``tokentrace cost`` resolves provider, host and model exactly as instrumented calls are resolved
and prints the bill line by line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import fnmatch
import logging
import os
import sys
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, TextIO, Tuple

from ..core.config import Config, ConfigError
from ..pricing import hosts
from ..pricing.catalog import Catalog, load_catalog, update_path
from ..pricing.rates import BATCH, SERVICE_TIER_VARIANT, STANDARD, STANDARD_TIERS, PriceHistory, variant_for
from ..pricing.resolve import PROVIDER_ALIASES, PROVIDER_NAMESPACES, canonical_provider, known_provider
from ..pricing.schema import parse_document, read_file
from ..records import semconv as sc
from ..records.call import CallRecord, Usage

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_COLUMNS = ("provider", "model", "input", "cached", "write 5m", "write 1h", "output", "batch in/out", "long context", "since", "source")
#: Every value ``--service-tier`` accepts: what the providers report in responses.
SERVICE_TIERS = tuple(sorted(set(SERVICE_TIER_VARIANT) | (STANDARD_TIERS - {""})))
#: Catalog namespace -> the provider name calls are recorded under (its first user wins).
NAMESPACE_PROVIDER: Dict[str, str] = {}
for _name, _spaces in PROVIDER_NAMESPACES.items():
    if _spaces and _spaces[0] not in NAMESPACE_PROVIDER:
        NAMESPACE_PROVIDER[_spaces[0]] = _name
#: Model-name prefixes -> provider, for ``tokentrace cost`` without ``--provider``.
_MODEL_PROVIDERS = (
    (("gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-", "ft:", "davinci", "babbage", "whisper", "tts-", "dall-e", "codex-"), "openai"),
    (("claude-",), "anthropic"),
    (("gemini-", "models/gemini", "gemma-", "text-embedding-004", "imagen-"), "gcp.gemini"),
    (("anthropic.", "amazon.", "meta.", "cohere.", "ai21.", "mistral.", "us.", "eu.", "apac.", "global.", "jp.", "au.", "arn:aws:"), "aws.bedrock"),
    (("mistral-", "codestral", "ministral", "magistral", "pixtral", "devstral", "open-mistral", "voxtral"), "mistral_ai"),
    (("command", "embed-", "rerank-", "c4ai-"), "cohere"),
    (("deepseek-",), "deepseek"),
    (("grok-",), "x_ai"),
    (("kimi-", "moonshot-"), "moonshot_ai"),
    (("sonar",), "perplexity"),
)


def add_parsers(subparsers: Any) -> None:
    """Register ``prices`` and ``cost`` on the ``tokentrace`` command's subparsers."""
    prices = subparsers.add_parser(
        "prices",
        help="list the price catalog, check a price file, or rebuild the price data from genai-prices",
        description=(
            "tokentrace prices [PATTERN]      list prices (USD per 1M tokens) matching PATTERN (glob or substring)\n"
            "tokentrace prices --providers    list provider names, the names accepted for them, and their API hosts\n"
            "tokentrace prices check FILE     validate a price override file\n"
            "tokentrace prices update         convert the installed genai-prices package into tokentrace's price data\n"
            "                                 (reads the package, never the network; pip install -U genai-prices first)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    prices.add_argument("words", nargs="*", metavar="PATTERN | check FILE | update", help="what to do (see above)")
    prices.add_argument("--provider", help="only this provider (gen_ai.provider.name or a common name: bedrock, google, vertex ...)")
    prices.add_argument("--providers", action="store_true", help="list providers, their accepted names and API hosts")
    prices.add_argument("--prices", help="also show the overrides in this price file (default: $TOKENTRACE_PRICES)")
    prices.add_argument("--wide", action="store_true", help="every column: cache-write rates, long-context tiers, since, source")
    prices.add_argument("--output", help=f"update: file to write (default: $TOKENTRACE_PRICES_CACHE or {update_path()})")
    prices.add_argument("--report", help="update: also write the list of differences from genai-prices to this file")
    prices.set_defaults(handler=run_prices)

    cost = subparsers.add_parser(
        "cost",
        help="price one call by hand: tokentrace cost --model gpt-4o --input 2006 --cached 1920 --output 300",
        description="Price one call from token counts, resolved exactly as an instrumented call. --input is the whole "
        "prompt, cached and cache-write tokens included; --output is all output, reasoning included.",
    )
    cost.add_argument("--model", required=True, help="model id as the provider reports it (snapshots, prefixes are resolved)")
    cost.add_argument(
        "--provider",
        help="gen_ai.provider.name or a common name (openai, anthropic, bedrock, google, vertex, azure ...); "
        "by default assumed from the model name, and said so",
    )
    cost.add_argument("--host", help="server address the call went to (decides self-hosted / unknown-host pricing and regions)")
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
    cost.add_argument("--service-tier", type=_tier, help="service tier the response reported: " + ", ".join(SERVICE_TIERS))
    cost.add_argument("--date", type=_date, help="price in force at this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC; default now)")
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


def _tier(text: str) -> str:
    value = text.strip().lower()
    if value not in SERVICE_TIERS:
        raise argparse.ArgumentTypeError(f"unknown service tier {text!r}; expected one of {', '.join(SERVICE_TIERS)}")
    return value


def _date(text: str) -> float:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2025-06-10 (or 2025-06-10T18:30), got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def _catalog(prices: Optional[str]) -> Catalog:
    return load_catalog(Config(prices=prices if prices is not None else os.environ.get("TOKENTRACE_PRICES"), strict=True))


# -- tokentrace prices -------------------------------------------------------------------------------


def run_prices(args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    words: List[str] = list(args.words)
    try:
        if getattr(args, "providers", False):
            return show_providers(out)
        if words[:1] == ["check"]:
            if len(words) != 2:
                err.write("usage: tokentrace prices check FILE\n")
                return 2
            return check(words[1], out, err)
        if words[:1] == ["update"]:
            return update(args.output, getattr(args, "report", None), out, err)
        if len(words) > 1:
            err.write("usage: tokentrace prices [PATTERN]\n")
            return 2
        provider = None
        if getattr(args, "provider", None):
            provider = canonical_provider(args.provider)
            if not known_provider(provider):
                err.write(f"unknown provider {args.provider!r}; see 'tokentrace prices --providers'\n")
                return 2
        return show(_catalog(args.prices), words[0] if words else None, out, provider, wide=getattr(args, "wide", False))
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


def show_providers(out: TextIO) -> int:
    aliases: Dict[str, List[str]] = {}
    for alias, name in PROVIDER_ALIASES.items():
        aliases.setdefault(name, []).append(alias)
    known = hosts.known_hosts()
    for name in sorted(set(PROVIDER_NAMESPACES) | {hosts.SELF_HOSTED}):
        spaces = ", ".join(PROVIDER_NAMESPACES.get(name, ())) or "-"
        accepted = ", ".join(sorted(aliases.get(name, []))) or "-"
        out.write(f"{name:<20} prices: {spaces:<28} also accepted: {accepted:<30} hosts: {', '.join(known.get(name, ())) or '-'}\n")
    out.write("self-hosted: loopback, private and .local/.internal addresses; never charged a vendor's list price.\n")
    return 0


def show(catalog: Catalog, pattern: Optional[str], out: TextIO, provider: Optional[str] = None, wide: bool = False) -> int:
    wanted = set(PROVIDER_NAMESPACES.get(provider, ())) if provider else None
    rows = [
        _row(namespace, history)
        for namespace, history in catalog.entries()
        if (wanted is None or namespace in wanted or namespace == provider) and _matches(history, pattern)
    ]
    if not rows:
        out.write(f"no model matches {pattern!r}" + (f" for provider {provider}" if provider else "") + "\n")
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
            "Providers are named as calls record them (tokentrace prices --providers).\n"
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
            rates = "".join("  " + cell.ljust(width) for cell, width in zip(row[1:], rate_widths, strict=True))
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
    if point.daily:
        name += " (time-of-day prices)"
    return (
        NAMESPACE_PROVIDER.get(namespace, namespace),
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
    return f"{value:.6g}"


# -- tokentrace prices update -----------------------------------------------------------------------


def update(output: Optional[str], report_path: Optional[str], out: TextIO, err: TextIO) -> int:
    """Convert the installed genai-prices into tokentrace's base data, check it, write it atomically."""
    try:
        from ..pricing import genai_import
    except ImportError as exc:  # pragma: no cover - the module itself has no third-party imports
        err.write(f"tokentrace prices update: {exc}\n")
        return 1
    try:
        import genai_prices  # noqa: F401
    except ImportError:
        err.write(
            "tokentrace prices update: genai-prices is not installed. It is where tokentrace's prices come from: "
            "'pip install -U genai-prices', then run this again. Nothing was changed.\n"
        )
        return 1
    import warnings

    from ..pricing.base_data import BaseData

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = genai_import.build()
    text = genai_import.dumps(data)
    try:
        BaseData.from_text(text, "<converted>").lookup("openai", "gpt-4o")
    except Exception as exc:  # a conversion that cannot be read back is never written
        err.write(f"tokentrace prices update: the converted data does not load ({exc}); nothing was changed\n")
        return 1
    target = str(update_path()) if output is None else os.path.abspath(output)
    _write_atomically(target, text)
    models = sum(len(p["models"]) for p in data["providers"].values())
    out.write(
        f"tokentrace prices update: {models} models of {len(data['providers'])} providers from genai-prices "
        f"{data['source']['version']} written to {target}\n"
    )
    if report_path:
        from ..pricing import crosscheck

        catalog = _catalog_with_base(target)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            checks = list(crosscheck.compare(catalog))
        differences = [d for _, _, d in checks if d is not None]
        _write_atomically(os.path.abspath(report_path), crosscheck.report(differences, data["source"]["version"], len(checks), models))
        unexplained = [d for d in differences if not d.reason]
        out.write(f"differences from genai-prices: {len(differences)} checks, {len(unexplained)} without a reason, listed in {report_path}\n")
        if unexplained:
            err.write("some differences have no reason; add one to src/tokentrace/pricing/data/prices.toml\n")
            return 1
    return 0


def _catalog_with_base(path: str) -> Catalog:
    from ..pricing.base_data import BaseData
    from ..pricing.catalog import load_builtin

    with open(path, encoding="utf-8") as handle:
        base = BaseData.from_text(handle.read(), path)
    builtin = load_builtin()
    return Catalog(builtin.models, base=base, aliases=builtin.aliases, rules=builtin.rules)


def _write_atomically(target: str, text: str) -> None:
    directory = os.path.dirname(target) or "."
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, target)


# -- tokentrace cost --------------------------------------------------------------------------------


def assume_provider(model: str) -> Optional[str]:
    """The provider a bare model name most likely comes from (``tokentrace cost`` without --provider)."""
    text = model.strip().lower()
    if "/" in text and not text.startswith(("models/", "arn:")):
        return "openrouter"
    for prefixes, provider in _MODEL_PROVIDERS:
        if text.startswith(prefixes):
            return provider
    return None


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
    if args.provider:
        provider = canonical_provider(args.provider)
        if not known_provider(provider):
            err.write(f"unknown provider {args.provider!r}; use a gen_ai.provider.name or a common name ('tokentrace prices --providers')\n")
            return 2
        how = "as given" if provider == args.provider.strip().lower() else f"from --provider {args.provider}"
    else:
        assumed = assume_provider(args.model)
        if assumed is None:
            err.write(f"cannot tell the provider of {args.model!r} from its name; add --provider (see 'tokentrace prices --providers')\n")
            return 2
        provider = assumed
        how = "assumed from the model name; use --provider to choose"
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
    record = CallRecord(
        provider, "chat", request_model=args.model, usage=usage, batch=args.batch, service_tier=args.service_tier, server_address=args.host
    )
    quiet = logging.getLogger("tokentrace")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # this command says itself what the runtime would log
    try:
        result = catalog.cost(record, args.date)
        resolved = catalog.resolve_record(record)
    finally:
        quiet.setLevel(level)
    if result.usd is None:
        if result.status in (hosts.STATUS_SELF_HOSTED, hosts.STATUS_UNKNOWN_HOST):
            err.write(
                f"no price: {args.host} is {'a self-hosted address' if result.status == hosts.STATUS_SELF_HOSTED else 'not a vendor API host'} "
                f"(tokentrace.cost.status={result.status}); vendor list prices do not apply. Add a [[model]] with "
                f'host = "{args.host}" (or a [[host]] rule) to a prices file.\n'
            )
            return 1
        err.write(f"no price for model {args.model!r} (provider {provider}, {how}); tokentrace.cost.status={result.status}\n")
        suggestions = suggest(catalog, provider, args.model)
        if suggestions:
            err.write("close names in the catalog: " + ", ".join(suggestions) + "\n")
        err.write("see 'tokentrace prices PATTERN' for known models\n")
        return 1
    assert resolved is not None and resolved.history is not None
    point = resolved.history.at(args.date)
    cards = point.cards_at(args.date)
    wanted = variant_for(args.service_tier, args.batch)
    variant = wanted if wanted in cards else STANDARD
    card = cards[variant]
    since = point.effective_from or "release"
    if variant == wanted:
        mode = f"{variant} rates"
    else:
        mode = f"standard rates: no {wanted} price known for this model, so standard applies"
    out.write(f"${result.usd:.6f}  {result.model} ({mode} since {since}; source: {point.source})\n")
    out.write(f"  provider: {resolved.provider or provider} ({how})\n")
    if args.host:
        info = hosts.classify(args.host)
        out.write(f"  host: {args.host} ({info.kind}{', region ' + info.region if info.region else ''})\n")
    tiered = card.for_input(usage.input_tokens) if card.tiers else card
    if tiered is not card:
        threshold = max(above for above, tier in card.tiers if usage.input_tokens > above)
        out.write(f"  long-context rates: the prompt has more than {threshold:,} tokens, so every rate switches\n")
    subtotal = 0.0
    for label, tokens, rate, usd in card.breakdown(usage):
        subtotal += usd
        out.write(f"  {label:<32} {tokens:>12,} x ${_money(rate)}/1M = ${usd:.6f}\n")
    factors: List[Tuple[str, float]] = []
    if resolved.regional and point.regional_factor != 1.0:
        factors.append((f"regional premium +{(point.regional_factor - 1) * 100:g}%", point.regional_factor))
    if resolved.premium != 1.0:
        factors.append((f"regional endpoint premium +{(resolved.premium - 1) * 100:g}%", resolved.premium))
    if resolved.discount != 1.0:
        factors.append((f"your discount -{(1 - resolved.discount) * 100:g}%", resolved.discount))
    for label, factor in factors:
        before = subtotal
        subtotal *= factor
        out.write(f"  {label:<32} {'':>12}   {'':<12}  {subtotal - before:+.6f}\n")
    for note in (point.reason or "").split("; "):
        if note:
            out.write(f"  note: {note}\n")
    return 0


def suggest(catalog: Catalog, provider: str, model: str, limit: int = 5) -> List[str]:
    """Catalog names close to ``model`` within the provider's namespaces."""
    spaces = set(PROVIDER_NAMESPACES.get(provider, ())) or None
    names = sorted({h.name for ns, h in catalog.entries() if spaces is None or ns in spaces})
    return difflib.get_close_matches(model.strip().lower(), names, n=limit, cutoff=0.6)


__all__ = ["add_parsers", "assume_provider", "run_cost", "run_prices", "suggest", "sc"]
