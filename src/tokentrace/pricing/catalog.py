"""The price catalog: resolves a call's model once, then prices each call from cached rates.

Layers, later wins: the base data converted from genai-prices (``data/genai_prices.json``, or the
copy ``tokentrace prices update`` converted from a newer installed genai-prices), tokentrace's
curated overlay (``data/prices.toml``), then the user's price files (``TOKENTRACE_PRICES`` or
``instrument(prices=...)``) with negotiated prices, self-hosted models, gateways and discounts.
The host a call went to decides whether a vendor's list prices may apply at all
(:mod:`.hosts`). Nothing here touches the network.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from ..records import semconv as sc
from ..records.call import CallRecord
from ..records.errors import ConfigError
from . import hosts
from .base import CostParts, CostResult
from .base_data import BaseData
from .overlay import Alias, Rule, with_alias, with_rules
from .premiums import vertex_regional_premium
from .rates import BATCH, SERVICE_TIER_VARIANT, STANDARD, PriceHistory, RateCard
from .resolve import candidates, canonical_provider, clean, name_forms
from .schema import GLOB_CHARS, Discount, HostRule, ModelEntry, PriceFile, read_file, read_text

logger = logging.getLogger("tokentrace")

SOURCE_LOCAL = "local"
SOURCE_PROVIDER = "provider"
#: Cost computed by a gateway (LiteLLM) for a model tokentrace has no price for.
SOURCE_GATEWAY = "gateway"
#: Environment variable naming the file ``tokentrace prices update`` writes (a default is used otherwise).
UPDATE_PATH_ENV = "TOKENTRACE_PRICES_CACHE"
_MAX_CACHED = 4096
#: Distinct causes the catalog warns about (unknown models ...) before it only counts them.
MAX_WARNED = 256
#: ``Catalog(base=...)`` left out: the shipped base data.
_DEFAULT: Any = object()


class Resolved(NamedTuple):
    """What a call's (provider, model, host) resolved to, computed once and cached."""

    name: str
    history: Optional[PriceHistory]
    #: Bedrock curated entries: apply the point's ``regional_premium`` (geo profiles, in-region ids).
    regional: bool
    #: The user's discount factor (1.0 = none).
    discount: float
    #: True when the user's prices (not the built-in catalog) gave this entry.
    override: bool = False
    #: ``priced``, or why no list price applies (``self_hosted``, ``unknown_host``).
    status: str = sc.COST_PRICED
    #: An extra factor the host implies (Claude on a Vertex regional endpoint: 1.1).
    premium: float = 1.0
    #: The provider the price was looked up for, after the host was taken into account.
    provider: str = ""
    #: The catalog namespace the price came from (``override`` for the user's prices).
    namespace: str = ""


class Catalog:
    """A :class:`~tokentrace.pricing.base.PriceLookup` over built-in prices and user overrides.

    Built-in prices come in two layers: the base data converted from genai-prices
    (:class:`~tokentrace.pricing.base_data.BaseData`) and tokentrace's curated overlay
    (``data/prices.toml``), which wins where both list a model (each such difference is listed,
    with its reason, in ``data/DISAGREEMENTS.md``). User price files win over both.
    """

    def __init__(
        self,
        builtin: Sequence[ModelEntry],
        overrides: Sequence[ModelEntry] = (),
        discounts: Sequence[Discount] = (),
        azure_deployments: Optional[Dict[str, str]] = None,
        base: Any = _DEFAULT,
        host_rules: Sequence[HostRule] = (),
        aliases: Optional[Sequence[Alias]] = None,
        rules: Optional[Sequence[Rule]] = None,
    ) -> None:
        """``builtin``: the curated entries (``load_builtin().models``). ``base``, ``aliases`` and
        ``rules`` default to the shipped ones, so ``Catalog(load_builtin().models)`` is the whole
        built-in catalog; pass ``base=None`` for the curated entries alone."""
        if base is _DEFAULT:
            base = load_base()
        if aliases is None or rules is None:
            shipped = load_builtin()
            aliases = shipped.aliases if aliases is None else aliases
            rules = shipped.rules if rules is None else rules
        self._index = _index_builtin(builtin)
        self._base = base
        self._aliases: Dict[Tuple[str, str], List[Alias]] = {}
        for alias in sorted(aliases, key=lambda a: a.start):
            self._aliases.setdefault((alias.namespace, alias.name), []).append(alias)
        self._rules: Dict[str, List[Rule]] = {}
        for rule in rules:
            self._rules.setdefault(rule.namespace, []).append(rule)
        self._finished: Dict[Tuple[str, int], PriceHistory] = {}
        self._overrides = _group_overrides(overrides)
        self._discounts = list(discounts)
        self._host_rules = list(host_rules)
        self._azure = {k.strip(): v for k, v in (azure_deployments or {}).items()}
        self._azure_lower = {k.lower(): v for k, v in self._azure.items()}
        self._cache: Dict[Tuple[Any, ...], Optional[Resolved]] = {}
        self._list_cache: Dict[Tuple[Any, ...], Optional[Resolved]] = {}
        self._warned: set = set()
        self._said_more = False
        #: Warnings not logged (repeats, and causes beyond MAX_WARNED).
        self.warnings_left_out = 0
        self._lock = threading.Lock()

    # -- the hot path -----------------------------------------------------------------------------

    def cost(self, record: CallRecord, at: Optional[float] = None) -> CostResult:
        """Price one call; ``at`` is the call's Unix time (prices change over time)."""
        key = (record.provider, record.response_model, record.policy_model, record.request_model, record.server_address, record.server_port)
        resolved = self._cache.get(key, _MISSING)
        if resolved is _MISSING:
            resolved = self._resolve_call(record, key)
        reported = record.provider_cost_usd
        if reported is not None:
            return CostResult(float(reported), sc.COST_PROVIDER_REPORTED, resolved.name if resolved else record.model, SOURCE_PROVIDER)
        usage = record.usage
        if usage is None:
            return CostResult(None, sc.COST_NO_USAGE, resolved.name if resolved else None)
        if resolved is None:
            if record.gateway_cost_usd is not None:
                return CostResult(float(record.gateway_cost_usd), sc.COST_PROVIDER_REPORTED, record.model, SOURCE_GATEWAY)
            return CostResult(None, sc.COST_UNKNOWN_MODEL, None)
        history = resolved.history
        if history is None:
            return CostResult(None, resolved.status, None)
        # _card() inlined: this is the per-call path.
        point = history.at(at)
        cards = point.cards if point.daily is None else point.cards_at(at)
        if record.batch:
            card = cards.get(BATCH)
        elif record.service_tier:
            card = cards.get(SERVICE_TIER_VARIANT.get(record.service_tier.lower(), STANDARD))
        else:
            card = cards[STANDARD]
        if card is None:
            card = self._card(resolved, record, at)[0]
        usd = card.cost(usage)
        if resolved.regional and point.regional_factor != 1.0:
            usd *= point.regional_factor
        if resolved.premium != 1.0:
            usd *= resolved.premium
        if resolved.discount != 1.0:
            usd *= resolved.discount
        return CostResult(usd, sc.COST_PRICED, resolved.name, SOURCE_LOCAL)

    def _card(self, resolved: Resolved, record: CallRecord, at: Optional[float]) -> Tuple[RateCard, float]:
        """The rate card that applies to ``record`` and the premium factor on top of it (regional
        profiles, regional endpoints)."""
        assert resolved.history is not None
        point = resolved.history.at(at)
        variant = BATCH if record.batch else SERVICE_TIER_VARIANT.get((record.service_tier or "").lower(), STANDARD)
        cards = point.cards if point.daily is None else point.cards_at(at)
        card = cards.get(variant)
        if card is None:
            card = cards[STANDARD]
            if variant != STANDARD:
                self._warn_once(("variant", resolved.name, variant), "tokentrace: no %s price for model %r in the catalog; priced at standard rates.", variant, resolved.name)
        premium = point.regional_factor if resolved.regional else 1.0
        return card, premium * resolved.premium

    # -- per token type (the spend ledger, off the app's thread) -----------------------------------

    def cost_parts(self, record: CallRecord, at: Optional[float] = None) -> Optional[CostParts]:
        """List and effective USD per billed token type, or ``None`` when the model is not priced.

        *Effective* is what :meth:`cost` charges (user price overrides and discounts applied);
        *list* is the built-in catalog's public price for the same usage (regional premium
        included, no override, no discount). A model only the user's prices know has no public
        price: its list is its own price before discounts.
        """
        usage = record.usage
        if usage is None:
            return None
        key = (record.provider, record.response_model, record.policy_model, record.request_model, record.server_address, record.server_port)
        resolved = self._cache.get(key, _MISSING)
        if resolved is _MISSING:
            resolved = self._resolve_call(record, key)
        if resolved is None or resolved.history is None:
            return None
        card, premium = self._card(resolved, record, at)
        factor = premium * resolved.discount
        effective = tuple(part * factor for part in card.parts(usage))
        listed_at = self._builtin_resolve(record, key) if resolved.override else resolved
        if listed_at is None or listed_at.history is None:
            list_card, list_premium = card, premium
        else:
            list_card, list_premium = self._card(listed_at, record, at)
        listed = tuple(part * list_premium for part in list_card.parts(usage))
        return CostParts(listed, effective)  # type: ignore[arg-type]

    def _builtin_resolve(self, record: CallRecord, key: Tuple[Any, ...]) -> Optional[Resolved]:
        cached = self._list_cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached
        found = self.resolve_record(record, overrides=False)
        with self._lock:
            if len(self._list_cache) >= _MAX_CACHED:
                self._list_cache.clear()
            self._list_cache[key] = found
        return found

    # -- resolution (once per distinct provider/model/host) ----------------------------------------

    def _resolve_call(self, record: CallRecord, key: Tuple[Any, ...]) -> Optional[Resolved]:
        resolved = self.resolve_record(record)
        if resolved is None and record.provider_cost_usd is None and record.gateway_cost_usd is None:
            model = record.model
            self._warn_once(
                ("unknown", record.provider, model),
                "tokentrace: no price for model %r (provider %s); its calls get tokentrace.cost.status=unknown_model "
                "and no cost. Add it to a prices file (TOKENTRACE_PRICES, see 'tokentrace prices --help').",
                model,
                record.provider,
            )
        with self._lock:
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            self._cache[key] = resolved
        return resolved

    def resolve_record(self, record: CallRecord, overrides: bool = True) -> Optional[Resolved]:
        """Resolve a call as :meth:`cost` does: the host first, then the model names it reports.

        ``overrides=False`` ignores the user's prices (the public list price, for the ledger)."""
        info = hosts.classify(record.server_address, record.server_port)
        provider = canonical_provider(record.provider)
        list_prices = True
        status = sc.COST_PRICED
        if info.kind == "vendor" and info.provider:
            provider = info.provider
        elif info.kind in ("self_hosted", "unknown_host"):
            list_prices = False
            status = info.status or sc.COST_UNKNOWN_MODEL
            rule = self._host_rule(record.server_address, record.server_port)
            if rule is not None:
                provider, list_prices = rule.provider, True
            else:
                provider = info.provider or provider
        if provider == "aws.bedrock":
            # The id sent carries the geo prefix that sets the price (a policy's rewrite is the id
            # sent); AnthropicBedrock answers with Anthropic's own model id.
            models = [m for m in (record.policy_model, record.request_model, record.response_model) if m]
        else:
            models = [m for m in (record.response_model, record.policy_model, record.request_model) if m]
        for model in models:
            resolved = self.resolve(
                provider, model, host=record.server_address, port=record.server_port, list_prices=list_prices, overrides=overrides
            )
            if resolved is not None:
                if info.kind == "vendor" and info.region and provider == "gcp.vertex_ai":
                    premium = vertex_regional_premium(resolved.name, info.region)
                    if premium != 1.0:
                        resolved = resolved._replace(premium=premium)
                return resolved
        if not list_prices:
            return Resolved(record.model or "", None, False, 1.0, status=status, provider=provider)
        return None

    def resolve(
        self,
        provider: Optional[str],
        model: str,
        host: Optional[str] = None,
        port: Optional[int] = None,
        list_prices: bool = True,
        overrides: bool = True,
    ) -> Optional[Resolved]:
        """The catalog entry for ``model`` as ``provider`` reported it, or ``None`` if unknown.

        ``host``/``port`` select the user's host-scoped prices; with ``list_prices=False`` (a
        self-hosted or unknown host) only the user's prices may match.
        """
        provider_key = canonical_provider(provider)
        if provider_key in ("azure.ai.openai", "azure.ai.inference"):
            model = self._azure.get(model.strip()) or self._azure_lower.get(clean(model)) or model
        found = candidates(provider_key, model) if list_prices or self._overrides else []
        names: Sequence[str] = ()
        if self._overrides or self._discounts:
            names = list(dict.fromkeys([clean(model)] + [c.name for c in found]))
        override = self._match_override(provider_key, host, port, names) if overrides and self._overrides else None
        if override is not None:
            name, history = override
            return Resolved(name, history, True, self._discount_for(provider_key, name, names), True, provider=provider_key, namespace="override")
        if not list_prices:
            return None
        # The curated overlay first for every spelling, then the base data (genai-prices' own
        # rules see the name as sent first, then with dates and versions stripped).
        index = self._index
        for candidate in found:
            curated = index.get(candidate.namespace, _NO_NAMES).get(candidate.name)
            if curated is not None:
                history = self._finish(candidate.namespace, curated, curated=True)
                return Resolved(
                    history.name,
                    history,
                    candidate.regional,
                    self._discount_for(provider_key, history.name, names),
                    provider=provider_key,
                    namespace=candidate.namespace,
                )
        base = self._base
        if base is None:
            return None
        for candidate in found:
            based = base.lookup(candidate.namespace, candidate.name)  # the overlay was tried above
            if based is not None:
                history = self._finish(candidate.namespace, based)
                return Resolved(
                    history.name,
                    history,
                    candidate.regional,
                    self._discount_for(provider_key, history.name, names),
                    provider=provider_key,
                    namespace=candidate.namespace,
                )
        return None

    def _finish(self, namespace: str, history: PriceHistory, curated: bool = False) -> PriceHistory:
        """A resolved history with tokentrace's corrections, built once per model.

        A curated entry whose first price is dated corrects the base data from that date on;
        before it the base data's history applies (DeepSeek's V3 off-peak prices, say). Then
        moved aliases and provider-wide rules are applied.
        """
        key = (namespace, id(history))
        finished = self._finished.get(key)
        if finished is None:
            finished = history
            if curated and self._base is not None and history.points[0].start != float("-inf"):
                older = self._base.lookup_exact(namespace, history.name) or self._base.lookup(namespace, history.name)
                if older is not None:
                    first = history.points[0].start
                    finished = PriceHistory(history.name, [p for p in older.points if p.start < first] + list(history.points))
            for alias in self._aliases.get((namespace, history.name), ()):
                target = self._index.get(namespace, {}).get(alias.target) or (self._base.lookup(namespace, alias.target) if self._base else None)
                if target is not None:
                    finished = with_alias(finished, with_rules(target, namespace, self._rules.get(namespace, ())), alias)
            finished = with_rules(finished, namespace, self._rules.get(namespace, ()))
            with self._lock:
                finished = self._finished.setdefault(key, finished)
        return finished

    # -- one namespace at a time (the genai-prices cross-check, the CLI) ------------------------

    def history_for(self, namespace: str, name: str) -> Optional[PriceHistory]:
        """What tokentrace charges for ``name`` in catalog ``namespace`` (overlay, then base data)."""
        text = clean(name)
        bare = text.split(".", 1)[1] if text.startswith(("regional.", "global.")) else text
        for form in name_forms(bare):
            history = self._index.get(namespace, {}).get(form)
            if history is not None:
                return self._finish(namespace, history, curated=True)
        if self._base is None:
            return None
        history = self._base.by_id(namespace, text) or self._base.lookup(namespace, text)
        return self._finish(namespace, history) if history is not None else None

    def explain(self, namespace: str, name: str, variant: str, when: float, unmodelled: Sequence[str] = ()) -> Optional[str]:
        """Why tokentrace's price for ``name`` may differ from its base data at ``when``, if it knows."""
        history = self.history_for(namespace, name)
        reasons = []
        if history is not None:
            point = history.at(when)
            if point.reason:
                reasons.append(point.reason)
            if variant != STANDARD and variant not in point.cards_at(when):
                reasons.append(f"no {variant} price known: tokentrace bills standard rates and says so (genai-prices too)")
        fees = [k for k in unmodelled if k.startswith("requests") or k.endswith("_kcount") and "search" not in k]
        if fees:
            reasons.append("genai-prices adds a per-request fee (" + ", ".join(fees) + ") that tokentrace's token rate cards do not bill")
        return "; ".join(reasons) or None

    def _host_rule(self, host: Optional[str], port: Optional[int]) -> Optional[HostRule]:
        if not host or not self._host_rules:
            return None
        forms = _host_forms(host, port)
        for rule in self._host_rules:
            if any(_glob(form, pattern) for pattern in rule.patterns for form in forms):
                return rule
        return None

    def _match_override(self, provider: str, host: Optional[str], port: Optional[int], names: Sequence[str]) -> Optional[Tuple[str, PriceHistory]]:
        info_provider = hosts.classify(host, port).provider if host else None
        forms = _host_forms(host, port) if host else ()
        for override_provider, patterns, host_patterns, history in self._overrides:
            if override_provider and override_provider not in (provider, info_provider):
                continue
            if host_patterns and not any(_glob(form, pattern) for pattern in host_patterns for form in forms):
                continue
            for name in names:
                if any(_glob(name, pattern) for pattern in patterns):
                    return history.name, history
        return None

    def _discount_for(self, provider: str, name: str, names: Sequence[str]) -> float:
        """A discount applies to the provider it names only (``openai`` is not Azure or Groq)."""
        if not self._discounts:
            return 1.0
        for discount in self._discounts:
            if discount.provider and discount.provider != provider:
                continue
            if discount.model and not any(fnmatch.fnmatchcase(n, discount.model) for n in (name, *names)):
                continue
            return discount.factor
        return 1.0

    def _warn_once(self, key: Tuple[Any, ...], message: str, *args: Any) -> None:
        """One line per cause, for the first ``MAX_WARNED`` causes; then one line, then a count.

        A gateway that answers with a new model name on every call would otherwise log a line
        per call and grow this set without bound (pricing sits below core's rate limiter).
        """
        with self._lock:
            if key in self._warned:
                self.warnings_left_out += 1
                return
            if len(self._warned) >= MAX_WARNED:
                self.warnings_left_out += 1
                if self._said_more:
                    return
                self._said_more = True
                message += " (Further such warnings are counted, not logged.)"
            else:
                self._warned.add(key)
        logger.warning(message, *args)

    # -- listing (CLI) ----------------------------------------------------------------------------

    @property
    def base(self) -> Optional[BaseData]:
        return self._base

    def entries(self, include_base: bool = True) -> List[Tuple[str, PriceHistory]]:
        """(namespace, history) for every curated model, then the base data's models that the
        overlay does not replace, then ("override", history) for the user's."""
        listed: List[Tuple[str, PriceHistory]] = []
        curated: set = set()
        for namespace, models in self._index.items():
            seen: set = set()
            for history in models.values():
                if id(history) not in seen:
                    seen.add(id(history))
                    listed.append((namespace, history))
                    curated.add((namespace, history.name))
        if include_base and self._base is not None:
            for namespace, history in self._base.entries():
                if (namespace, history.name) not in curated:
                    listed.append((namespace, history))
        listed += [(provider or "override", history) for provider, _, _, history in self._overrides]
        return listed


_MISSING: Any = object()
_NO_NAMES: Dict[str, PriceHistory] = {}


def _glob(text: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(text, pattern) if _is_glob(pattern) else text == pattern


def _host_forms(host: Optional[str], port: Optional[int]) -> Tuple[str, ...]:
    if not host:
        return ()
    text = host.strip().lower()
    return (text, f"{text}:{port}") if port else (text,)


def _is_glob(pattern: str) -> bool:
    return any(ch in GLOB_CHARS for ch in pattern)


def _index_builtin(entries: Sequence[ModelEntry]) -> Dict[str, Dict[str, PriceHistory]]:
    grouped: Dict[Tuple[str, str], List[ModelEntry]] = {}
    for entry in entries:
        grouped.setdefault((entry.provider or "", entry.name), []).append(entry)
    index: Dict[str, Dict[str, PriceHistory]] = {}
    for (namespace, name), group in grouped.items():
        history = PriceHistory(name, [e.point for e in group])
        names = index.setdefault(namespace, {})
        for entry in group:
            for pattern in entry.patterns:
                names[pattern] = history
    return index


def _group_overrides(entries: Sequence[ModelEntry]) -> List[Tuple[Optional[str], Tuple[str, ...], Tuple[str, ...], PriceHistory]]:
    grouped: Dict[Tuple[Optional[str], Tuple[str, ...], Tuple[str, ...]], List[ModelEntry]] = {}
    for entry in entries:
        grouped.setdefault((entry.provider, entry.patterns, entry.hosts), []).append(entry)
    return [
        (provider, patterns, host_patterns, PriceHistory(group[0].name, [e.point for e in group]))
        for (provider, patterns, host_patterns), group in grouped.items()
    ]


# -- loading -----------------------------------------------------------------------------------------

_builtin_lock = threading.Lock()
_builtin_cache: Dict[str, PriceFile] = {}
_base_cache: Dict[Tuple[str, float], BaseData] = {}
#: The shipped base data (generated from genai-prices by ``tokentrace prices update --output``).
BASE_DATA = "data/genai_prices.json"


def builtin_text() -> str:
    """tokentrace's curated overlay (``data/prices.toml``)."""
    return resources.files("tokentrace.pricing").joinpath("data/prices.toml").read_text(encoding="utf-8")


def base_text() -> str:
    return resources.files("tokentrace.pricing").joinpath(BASE_DATA).read_text(encoding="utf-8")


def update_path() -> Path:
    """Where ``tokentrace prices update`` writes base data converted from the installed genai-prices."""
    configured = os.environ.get(UPDATE_PATH_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tokentrace" / "genai_prices.json"


def load_builtin() -> PriceFile:
    """The curated overlay, parsed once per process."""
    with _builtin_lock:
        cached = _builtin_cache.get("<shipped>")
        if cached is None:
            cached = read_text(builtin_text(), "tokentrace/pricing/data/prices.toml", builtin=True)
            _builtin_cache["<shipped>"] = cached
        return cached


def load_base() -> BaseData:
    """The base data: a valid ``tokentrace prices update`` copy if there is one, else the shipped file."""
    updated = update_path()
    try:
        stamp = updated.stat().st_mtime if updated.is_file() else 0.0
    except OSError:
        stamp = 0.0
    key = (str(updated) if stamp else "<shipped>", stamp)
    with _builtin_lock:
        cached = _base_cache.get(key)
        if cached is not None:
            return cached
        data = None
        if stamp:
            try:
                data = BaseData.from_text(updated.read_text(encoding="utf-8"), str(updated))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                logger.error("tokentrace: ignoring the price data in %s (%s); using the shipped data", updated, exc)
        if data is None:
            data = BaseData.from_text(base_text(), "tokentrace/pricing/" + BASE_DATA)
        _base_cache[key] = data
        return data


def price_paths(value: Any) -> List[Path]:
    """``prices=`` / ``TOKENTRACE_PRICES``: one path, a list, or paths joined by os.pathsep."""
    if value is None or value == "":
        return []
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        return [Path(p) for p in text.split(os.pathsep) if p.strip()] if isinstance(text, str) else [Path(text)]
    if isinstance(value, (list, tuple)):
        return [Path(os.fspath(p)) for p in value]
    raise ConfigError(f"tokentrace: prices= must be a file path or a list of paths, got {type(value).__name__}")


def read_price_files(value: Union[None, str, os.PathLike, Sequence[Any]]) -> PriceFile:
    """Every user price file named by ``prices=`` / ``TOKENTRACE_PRICES``, merged in order."""
    merged = PriceFile("user prices")
    for path in price_paths(value):
        parsed = read_file(path)
        merged.models += parsed.models
        merged.discounts += parsed.discounts
        merged.hosts += parsed.hosts
    return merged


def read_overrides(value: Union[None, str, os.PathLike, Sequence[Any]]) -> Tuple[List[ModelEntry], List[Discount]]:
    parsed = read_price_files(value)
    return parsed.models, parsed.discounts


def load_catalog(config: Any) -> Catalog:
    """Build the catalog for ``instrument()``.

    A bad price file is reported here, when tokentrace starts, naming file, entry and problem:
    with ``strict`` it raises :class:`~tokentrace.ConfigError`; otherwise it is logged and the
    built-in prices are used (the file is skipped as a whole, so no half-read prices apply).
    """
    builtin = load_builtin()
    user = PriceFile("user prices")
    try:
        user = read_price_files(getattr(config, "prices", None))
    except ConfigError as exc:
        if getattr(config, "strict", False):
            raise
        logger.error("%s; continuing with the built-in prices only", exc)
    return Catalog(
        builtin.models,
        user.models,
        user.discounts,
        getattr(config, "azure_deployments", None),
        load_base(),
        user.hosts,
        builtin.aliases,
        builtin.rules,
    )
