"""Reading price files (the built-in catalog and users' override files) into rate cards.

Both use one TOML format, described in the README ("Your own prices"). Every problem is reported as a
:class:`~tokentrace.ConfigError` whose message names the file, the entry and what is wrong, so a
typo in a negotiated price is found when tokentrace starts, not on an invoice.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ..records.errors import ConfigError
from .overlay import Alias, Rule
from .rates import RATE_FIELDS, STANDARD, VARIANTS, PricePoint, RateCard
from .resolve import canonical_provider, known_provider

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

GLOB_CHARS = frozenset("*?[")
KINDS = ("chat", "embedding")
_ENTRY_KEYS = frozenset(
    {"provider", "name", "aliases", "match", "host", "effective_from", "source", "reason", "kind", "regional_premium", "tier", *VARIANTS, *RATE_FIELDS}
)
_VARIANT_KEYS = frozenset({"tier", "source", *RATE_FIELDS})
_DISCOUNT_KEYS = frozenset({"provider", "model", "percent"})
_HOST_KEYS = frozenset({"match", "provider"})
_TOP_KEYS = frozenset({"model", "discount", "host", "sources", "alias", "rule"})
_ALIAS_KEYS = frozenset({"provider", "name", "target", "effective_from", "source", "reason"})
_RULE_KEYS = frozenset({"provider", "variant", "rate", "factor", "models", "effective_from", "source", "reason"})


@dataclass
class ModelEntry:
    """One dated price of one model as written in a file."""

    name: str
    #: Built-in: the catalog namespace. Override: the ``gen_ai.provider.name`` it is limited to.
    provider: Optional[str]
    #: Exact ids (built-in names and aliases) or glob patterns (override ``match``).
    patterns: Tuple[str, ...]
    point: PricePoint
    #: Override only: globs on the call's ``server.address`` (or ``address:port``) it is limited to.
    hosts: Tuple[str, ...] = ()


@dataclass
class HostRule:
    """``[[host]]``: calls to these hosts are billed at ``provider``'s list prices (a gateway, a proxy)."""

    patterns: Tuple[str, ...]
    provider: str

@dataclass
class Discount:
    """A percentage off every locally computed cost that matches provider and/or model."""

    provider: Optional[str]
    model: Optional[str]
    percent: float

    @property
    def factor(self) -> float:
        return 1.0 - self.percent / 100.0


@dataclass
class PriceFile:
    origin: str
    models: List[ModelEntry] = field(default_factory=list)
    discounts: List[Discount] = field(default_factory=list)
    hosts: List[HostRule] = field(default_factory=list)
    aliases: List[Alias] = field(default_factory=list)
    rules: List[Rule] = field(default_factory=list)


class _Problem(Exception):
    """A problem inside one entry; turned into a ConfigError naming the file and the entry."""


def read_file(path: Union[str, Path]) -> PriceFile:
    """Parse a user price file; raises ConfigError naming the file and the problem."""
    origin = str(path)
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"tokentrace prices file {origin}: file not found (check TOKENTRACE_PRICES / prices=)") from None
    except OSError as exc:
        raise ConfigError(f"tokentrace prices file {origin}: cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"tokentrace prices file {origin}: not valid TOML: {exc}") from None
    return parse_document(document, origin, builtin=False)


def read_text(text: str, origin: str, builtin: bool = False) -> PriceFile:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"tokentrace prices file {origin}: not valid TOML: {exc}") from None
    return parse_document(document, origin, builtin=builtin)


def parse_document(document: Mapping[str, Any], origin: str, builtin: bool) -> PriceFile:
    """Validate a parsed TOML document; ``builtin`` requires namespaced, named entries."""
    unknown = sorted(set(document) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"tokentrace prices file {origin}: unknown top-level key(s) {', '.join(unknown)}; "
            "expected [[model]], [[discount]], [[host]] and [sources]"
        )
    sources = document.get("sources", {})
    if not isinstance(sources, Mapping):
        raise ConfigError(f"tokentrace prices file {origin}: [sources] must be a table of provider = \"source\"")
    result = PriceFile(origin)
    models = document.get("model", [])
    if not isinstance(models, list):
        raise ConfigError(f"tokentrace prices file {origin}: 'model' must be an array of tables ([[model]])")
    seen: Dict[Tuple[Optional[str], str, float], int] = {}
    for index, raw in enumerate(models, start=1):
        label = _entry_label("model", index, raw)
        try:
            entry = _parse_model(raw, sources, builtin, origin)
        except _Problem as exc:
            raise ConfigError(f"tokentrace prices file {origin}: {label}: {exc}") from None
        key = (entry.provider, entry.name, entry.point.start)
        if key in seen:
            raise ConfigError(
                f"tokentrace prices file {origin}: {label}: same model and effective_from as [[model]] #{seen[key]}; "
                "a price change needs a later effective_from"
            )
        seen[key] = index
        result.models.append(entry)
    discounts = document.get("discount", [])
    if not isinstance(discounts, list):
        raise ConfigError(f"tokentrace prices file {origin}: 'discount' must be an array of tables ([[discount]])")
    for index, raw in enumerate(discounts, start=1):
        try:
            result.discounts.append(_parse_discount(raw))
        except _Problem as exc:
            raise ConfigError(f"tokentrace prices file {origin}: {_entry_label('discount', index, raw)}: {exc}") from None
    for kind, parse in (("alias", _parse_alias), ("rule", _parse_rule)):
        raw_list = document.get(kind, [])
        if raw_list and not builtin:
            raise ConfigError(f"tokentrace prices file {origin}: [[{kind}]] is only used in tokentrace's own catalog; use [[model]] entries")
        if not isinstance(raw_list, list):
            raise ConfigError(f"tokentrace prices file {origin}: '{kind}' must be an array of tables ([[{kind}]])")
        for index, raw in enumerate(raw_list, start=1):
            try:
                parsed = parse(raw, sources)
            except _Problem as exc:
                raise ConfigError(f"tokentrace prices file {origin}: {_entry_label(kind, index, raw)}: {exc}") from None
            (result.aliases if kind == "alias" else result.rules).append(parsed)  # type: ignore[arg-type]
    host_rules = document.get("host", [])
    if not isinstance(host_rules, list):
        raise ConfigError(f"tokentrace prices file {origin}: 'host' must be an array of tables ([[host]])")
    for index, raw in enumerate(host_rules, start=1):
        try:
            result.hosts.append(_parse_host(raw))
        except _Problem as exc:
            raise ConfigError(f"tokentrace prices file {origin}: {_entry_label('host', index, raw)}: {exc}") from None
    return result


def _required_str(raw: Mapping[str, Any], key: str) -> str:
    value = _optional_str(raw, key)
    if not value:
        raise _Problem(f"needs '{key}'")
    return value.strip()


def _parse_alias(raw: Any, sources: Mapping[str, Any]) -> Alias:
    if not isinstance(raw, Mapping):
        raise _Problem("must be a table of key = value pairs")
    _check_keys(raw, _ALIAS_KEYS)
    effective_from, start = _date(raw.get("effective_from"))
    if effective_from is None:
        raise _Problem("needs 'effective_from' (the day the name started meaning the target)")
    return Alias(_required_str(raw, "provider").lower(), _required_str(raw, "name").lower(), _required_str(raw, "target").lower(),
                 start, effective_from, _required_str(raw, "source"), _required_str(raw, "reason"))


def _parse_rule(raw: Any, sources: Mapping[str, Any]) -> Rule:
    if not isinstance(raw, Mapping):
        raise _Problem("must be a table of key = value pairs")
    _check_keys(raw, _RULE_KEYS)
    variant = _optional_str(raw, "variant")
    rate = _optional_str(raw, "rate")
    if (variant is None) == (rate is None):
        raise _Problem("needs exactly one of 'variant' (batch, flex, priority) and 'rate' (a rate name)")
    if variant is not None and variant not in VARIANTS:
        raise _Problem(f"'variant' must be one of {', '.join(VARIANTS)}, got {variant!r}")
    if rate is not None and rate not in RATE_FIELDS:
        raise _Problem(f"'rate' must be one of {', '.join(RATE_FIELDS)}, got {rate!r}")
    factor = _number(raw, "factor")
    effective_from, start = _date(raw.get("effective_from"))
    return Rule(_required_str(raw, "provider").lower(), variant, rate, factor, (_optional_str(raw, "models") or "*").lower(), start,
                effective_from, _required_str(raw, "source"), _required_str(raw, "reason"))


def _parse_host(raw: Any) -> HostRule:
    if not isinstance(raw, Mapping):
        raise _Problem("must be a table of key = value pairs")
    _check_keys(raw, _HOST_KEYS)
    patterns = _str_list(raw, "match")
    if not patterns:
        raise _Problem('needs \'match\' (the server address, e.g. match = "llm-gateway.example.com" or "10.0.0.*")')
    provider = _optional_str(raw, "provider")
    if not provider:
        raise _Problem('needs \'provider\' (whose list prices apply, e.g. provider = "openai")')
    canonical = canonical_provider(provider)
    if not known_provider(canonical) or canonical == "self-hosted":
        raise _Problem(f"'provider' {provider!r} is not a provider tokentrace has prices for; see 'tokentrace prices --providers'")
    return HostRule(tuple(p.strip().lower() for p in patterns), canonical)


def _entry_label(kind: str, index: int, raw: Any) -> str:
    label = f"[[{kind}]] #{index}"
    if isinstance(raw, Mapping):
        named = raw.get("name") or raw.get("match") or raw.get("model") or raw.get("provider")
        if named:
            label += f" ({named!r})"
    return label


def _parse_model(raw: Any, sources: Mapping[str, Any], builtin: bool, origin: str) -> ModelEntry:
    if not isinstance(raw, Mapping):
        raise _Problem("must be a table of key = value pairs")
    _check_keys(raw, _ENTRY_KEYS)
    provider = _optional_str(raw, "provider")
    name = _optional_str(raw, "name")
    if builtin:
        if not provider or not name:
            raise _Problem("built-in entries need 'provider' and 'name'")
        patterns = (name, *_str_list(raw, "aliases"))
    else:
        patterns = _str_list(raw, "match") + _str_list(raw, "aliases")
        if not patterns and name:
            patterns = (name,)
        if not patterns:
            raise _Problem("needs 'match' (the model name or a glob such as \"my-llama*\")")
        name = name or patterns[0]
    kind = _optional_str(raw, "kind") or "chat"
    if kind not in KINDS:
        raise _Problem(f"'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    effective_from, start = _date(raw.get("effective_from"))
    default_source = str(sources.get(provider or "", "")) if provider else ""
    source = _optional_str(raw, "source") or default_source or origin
    reason = _optional_str(raw, "reason")
    hosts = tuple(h.strip().lower() for h in _str_list(raw, "host"))
    if builtin and hosts:
        raise _Problem("'host' belongs in user price files, not the built-in catalog")
    premium = _number(raw, "regional_premium", 0.0)
    standard = _card(raw, required_output=(kind == "chat"), where="")
    explicit = {k: v for k, v in raw.items() if k in RATE_FIELDS}
    cards = {STANDARD: standard}
    for variant in VARIANTS:
        if variant in raw:
            cards[variant] = _variant(raw[variant], explicit, variant)
    if provider and not builtin:
        provider = canonical_provider(provider)
        if not known_provider(provider):
            raise _Problem(
                f"'provider' {raw.get('provider')!r} is not a provider name tokentrace knows; use a gen_ai.provider.name "
                "such as openai, anthropic, aws.bedrock, gcp.gemini, gcp.vertex_ai, self-hosted ('tokentrace prices --providers')"
            )
    return ModelEntry(
        name=name.strip().lower(),
        provider=provider.strip().lower() if provider else None,
        patterns=tuple(p.strip().lower() for p in patterns),
        point=PricePoint(start, effective_from, source, cards, 1.0 + premium / 100.0, kind, reason=reason),
        hosts=hosts,
    )


def _variant(raw: Any, standard: Mapping[str, Any], variant: str) -> RateCard:
    """A variant's card: its own rates over the standard flat rates; tiers only its own."""
    if not isinstance(raw, Mapping):
        raise _Problem(f"'{variant}' must be a table of rates, e.g. {variant} = {{ input = 1.25, output = 5 }}")
    _check_keys(raw, _VARIANT_KEYS, where=f"'{variant}'")
    merged = {**standard, **{k: v for k, v in raw.items() if k in RATE_FIELDS}}
    return _card({**merged, "tier": raw.get("tier", [])}, required_output=False, where=f"'{variant}' ")


def _card(raw: Mapping[str, Any], required_output: bool, where: str) -> RateCard:
    if "input" not in raw:
        raise _Problem(f"{where}needs 'input' (USD per 1M input tokens)")
    if required_output and "output" not in raw:
        raise _Problem(f"{where}needs 'output' (USD per 1M output tokens); use kind = \"embedding\" for input-only models")
    rates = {name: _number(raw, name) for name in RATE_FIELDS if name in raw}
    tiers_raw = raw.get("tier", [])
    if not isinstance(tiers_raw, list):
        raise _Problem(f"{where}'tier' must be an array: tier = [{{ above = 200000, input = ..., output = ... }}]")
    tiers = []
    for position, tier in enumerate(tiers_raw, start=1):
        if not isinstance(tier, Mapping):
            raise _Problem(f"{where}tier #{position} must be a table")
        _check_keys(tier, frozenset({"above", *RATE_FIELDS}), where=f"{where}tier #{position}")
        above = tier.get("above")
        if isinstance(above, bool) or not isinstance(above, int) or above <= 0:
            raise _Problem(f"{where}tier #{position}: 'above' must be a positive whole number of input tokens, got {above!r}")
        # Rates a tier leaves out are the card's explicit rates, then the usual fallbacks.
        tier_rates = {**rates, **{k: _number(tier, k) for k in RATE_FIELDS if k in tier}}
        tiers.append((above, RateCard(tier_rates)))
    if len({above for above, _ in tiers}) != len(tiers):
        raise _Problem(f"{where}two tiers have the same 'above'")
    return RateCard(rates, tiers)


def _parse_discount(raw: Any) -> Discount:
    if not isinstance(raw, Mapping):
        raise _Problem("must be a table of key = value pairs")
    _check_keys(raw, _DISCOUNT_KEYS)
    provider = _optional_str(raw, "provider")
    model = _optional_str(raw, "model")
    if not provider and not model:
        raise _Problem("needs 'provider' and/or 'model' to say what it applies to")
    if "percent" not in raw:
        raise _Problem("needs 'percent' (e.g. percent = 15 for 15% off)")
    percent = _number(raw, "percent")
    if not 0 < percent <= 100:
        raise _Problem(f"'percent' must be more than 0 and at most 100, got {percent!r}")
    if provider:
        provider = canonical_provider(provider)
        if not known_provider(provider):
            raise _Problem(
                f"'provider' {raw.get('provider')!r} is not a provider name tokentrace knows; use a gen_ai.provider.name "
                "such as openai, anthropic, aws.bedrock, gcp.gemini ('tokentrace prices --providers')"
            )
    return Discount(provider if provider else None, model.strip().lower() if model else None, percent)


def _check_keys(raw: Mapping[str, Any], allowed: frozenset, where: str = "") -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        prefix = f"{where}: " if where else ""
        raise _Problem(f"{prefix}unknown key(s) {', '.join(repr(k) for k in unknown)}; known keys are {', '.join(sorted(allowed))}")


def _number(raw: Mapping[str, Any], key: str, default: Optional[float] = None) -> float:
    if key not in raw:
        if default is None:
            raise _Problem(f"needs '{key}'")
        return default
    value = raw[key]
    unit, maximum = _UNITS.get(key, _RATE_UNIT)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise _Problem(f"'{key}' must be {unit}, 0 or more, got {value!r}")
    if value > maximum:
        raise _Problem(f"'{key}' = {value!r} is not plausible: {unit} of at most {maximum:g} expected")
    return float(value)


#: (what a number means, its largest plausible value): a price of 1e300 is a typo, not a price.
_RATE_UNIT = ("a number of USD per 1M tokens", 100_000.0)
_UNITS = {
    "percent": ("a percentage (15 means 15% off)", math.inf),  # its 0-100 range is checked by the caller
    "regional_premium": ("a percentage added for regional endpoints (10 means +10%)", 1000.0),
    "factor": ("a multiplier of the standard rate (0.5 means half price)", 100.0),
}


def _optional_str(raw: Mapping[str, Any], key: str) -> Optional[str]:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _Problem(f"'{key}' must be a non-empty string, got {value!r}")
    return value


def _str_list(raw: Mapping[str, Any], key: str) -> Tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Problem(f"'{key}' must be a model name or a list of model names, got {value!r}")
    return tuple(value)


def _date(value: Any) -> Tuple[Optional[str], float]:
    """(ISO date text, Unix time of its 00:00 UTC); no date means "since the model's release"."""
    if value is None:
        return None, float("-inf")
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise _Problem(f"'effective_from' must be a date like 2025-06-10, got {value!r}") from None
    if not isinstance(value, dt.date):
        raise _Problem(f"'effective_from' must be a date like 2025-06-10, got {value!r}")
    return value.isoformat(), float(calendar.timegm(value.timetuple()))
