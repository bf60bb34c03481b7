"""The price catalog: resolves a call's model once, then prices each call from cached rates.

Layers, later wins: the built-in catalog shipped in ``data/prices.toml`` (or a newer copy fetched
on request by ``tokentrace prices update``), then the user's price files (``TOKENTRACE_PRICES`` or
``instrument(prices=...)``) with negotiated prices, custom models and discounts. Nothing here
touches the network.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

from ..core import semconv as sc
from ..core.config import ConfigError
from ..core.record import CallRecord
from .base import CostParts, CostResult
from .rates import BATCH, SERVICE_TIER_VARIANT, STANDARD, PriceHistory, RateCard
from .resolve import PROVIDER_NAMESPACES, candidates, clean
from .schema import GLOB_CHARS, Discount, ModelEntry, PriceFile, read_file, read_text

logger = logging.getLogger("tokentrace")

SOURCE_LOCAL = "local"
SOURCE_PROVIDER = "provider"
#: Cost computed by a gateway (LiteLLM) for a model tokentrace has no price for.
SOURCE_GATEWAY = "gateway"
#: Environment variable naming the file ``tokentrace prices update`` writes (a default is used otherwise).
UPDATE_PATH_ENV = "TOKENTRACE_PRICES_CACHE"
_MAX_CACHED = 4096


class Resolved(NamedTuple):
    """What a (provider, model) pair resolved to; ``factor`` folds regional premium and discount."""

    name: str
    history: PriceHistory
    regional: bool
    discount: float
    #: True when the user's prices (not the built-in catalog) gave this entry.
    override: bool = False


class Catalog:
    """A :class:`~tokentrace.pricing.base.PriceLookup` over built-in prices and user overrides."""

    def __init__(
        self,
        builtin: Sequence[ModelEntry],
        overrides: Sequence[ModelEntry] = (),
        discounts: Sequence[Discount] = (),
        azure_deployments: Optional[Dict[str, str]] = None,
    ) -> None:
        self._index = _index_builtin(builtin)
        self._overrides = _group_overrides(overrides)
        self._discounts = list(discounts)
        self._azure = {k.strip(): v for k, v in (azure_deployments or {}).items()}
        self._azure_lower = {k.lower(): v for k, v in self._azure.items()}
        self._cache: Dict[Tuple[Optional[str], ...], Optional[Resolved]] = {}
        self._list_cache: Dict[Tuple[Optional[str], ...], Optional[Resolved]] = {}
        self._warned: set = set()
        self._lock = threading.Lock()

    # -- the hot path -----------------------------------------------------------------------------

    def cost(self, record: CallRecord, at: Optional[float] = None) -> CostResult:
        """Price one call; ``at`` is the call's Unix time (prices change over time)."""
        reported = record.provider_cost_usd
        key = (record.provider, record.response_model, record.policy_model, record.request_model)
        resolved = self._cache.get(key, _MISSING)
        if resolved is _MISSING:
            resolved = self._resolve_call(record)
        if reported is not None:
            return CostResult(float(reported), sc.COST_PROVIDER_REPORTED, resolved.name if resolved else record.model, SOURCE_PROVIDER)
        usage = record.usage
        if usage is None:
            return CostResult(None, sc.COST_NO_USAGE, resolved.name if resolved else None)
        if resolved is None:
            if record.gateway_cost_usd is not None:
                return CostResult(float(record.gateway_cost_usd), sc.COST_PROVIDER_REPORTED, record.model, SOURCE_GATEWAY)
            return CostResult(None, sc.COST_UNKNOWN_MODEL, None)
        card, premium = self._card(resolved, record, at)
        usd = card.cost(usage)
        if premium != 1.0:
            usd *= premium
        if resolved.discount != 1.0:
            usd *= resolved.discount
        return CostResult(usd, sc.COST_PRICED, resolved.name, SOURCE_LOCAL)

    def _card(self, resolved: Resolved, record: CallRecord, at: Optional[float]) -> Tuple[RateCard, float]:
        """The rate card that applies to ``record`` and the regional premium factor on top of it."""
        point = resolved.history.at(at)
        variant = BATCH if record.batch else SERVICE_TIER_VARIANT.get((record.service_tier or "").lower(), STANDARD)
        card = point.cards.get(variant)
        if card is None:
            card = point.cards[STANDARD]
            if variant != STANDARD:
                self._warn_once(("variant", resolved.name, variant), "tokentrace: no %s price for model %r in the catalog; priced at standard rates.", variant, resolved.name)
        premium = point.regional_factor if resolved.regional else 1.0
        return card, premium

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
        resolved = self._cache.get((record.provider, record.response_model, record.policy_model, record.request_model), _MISSING)
        if resolved is _MISSING:
            resolved = self._resolve_call(record)
        if resolved is None:
            return None
        card, premium = self._card(resolved, record, at)
        factor = premium * resolved.discount
        effective = tuple(part * factor for part in card.parts(usage))
        listed_at = self._builtin_resolve(record) if resolved.override else resolved
        if listed_at is None:
            list_card, list_premium = card, premium
        else:
            list_card, list_premium = self._card(listed_at, record, at)
        listed = tuple(part * list_premium for part in list_card.parts(usage))
        return CostParts(listed, effective)  # type: ignore[arg-type]

    def _builtin_resolve(self, record: CallRecord) -> Optional[Resolved]:
        key = (record.provider, record.response_model, record.policy_model, record.request_model)
        cached = self._list_cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        found = self._find_builtin(record)
        with self._lock:
            if len(self._list_cache) >= _MAX_CACHED:
                self._list_cache.clear()
            self._list_cache[key] = found
        return found

    def _find_builtin(self, record: CallRecord) -> Optional[Resolved]:
        for model in (record.response_model, record.policy_model, record.request_model):
            if not model:
                continue
            provider_key = (record.provider or "").strip().lower()
            for candidate in candidates(provider_key, model):
                history = self._index.get(candidate.namespace, {}).get(candidate.name)
                if history is not None:
                    return Resolved(history.name, history, candidate.regional, 1.0)
        return None

    # -- resolution (once per distinct provider/model pair) ----------------------------------------

    def _resolve_call(self, record: CallRecord) -> Optional[Resolved]:
        key = (record.provider, record.response_model, record.policy_model, record.request_model)
        resolved = None
        for model in (record.response_model, record.policy_model, record.request_model):
            if model:
                resolved = self.resolve(record.provider, model)
                if resolved is not None:
                    break
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

    def resolve(self, provider: Optional[str], model: str) -> Optional[Resolved]:
        """The catalog entry for ``model`` as ``provider`` reported it, or ``None`` if unknown."""
        provider_key = (provider or "").strip().lower()
        if provider_key == "azure.ai.openai":
            model = self._azure.get(model.strip()) or self._azure_lower.get(clean(model)) or model
        found = candidates(provider_key, model)
        names = [clean(model)] + [c.name for c in found]
        namespaces = {c.namespace for c in found} | set(PROVIDER_NAMESPACES.get(provider_key, ()))
        override = self._match_override(provider_key, namespaces, names)
        if override is not None:
            name, history = override
            return Resolved(name, history, True, self._discount_for(provider_key, namespaces, name, names), True)
        for candidate in found:
            history = self._index.get(candidate.namespace, {}).get(candidate.name)
            if history is not None:
                return Resolved(
                    history.name, history, candidate.regional, self._discount_for(provider_key, namespaces | {candidate.namespace}, history.name, names)
                )
        return None

    def _match_override(self, provider: str, namespaces: Iterable[str], names: Sequence[str]) -> Optional[Tuple[str, PriceHistory]]:
        scopes = {provider, *namespaces}
        for override_provider, patterns, history in self._overrides:
            if override_provider and override_provider not in scopes:
                continue
            for name in names:
                if any(fnmatch.fnmatchcase(name, pattern) if _is_glob(pattern) else name == pattern for pattern in patterns):
                    return history.name, history
        return None

    def _discount_for(self, provider: str, namespaces: Iterable[str], name: str, names: Sequence[str]) -> float:
        scopes = {provider, *namespaces}
        for discount in self._discounts:
            if discount.provider and discount.provider not in scopes:
                continue
            if discount.model and not any(fnmatch.fnmatchcase(n, discount.model) for n in (name, *names)):
                continue
            return discount.factor
        return 1.0

    def _warn_once(self, key: Tuple[Any, ...], message: str, *args: Any) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        logger.warning(message, *args)

    # -- listing (CLI) ----------------------------------------------------------------------------

    def entries(self) -> List[Tuple[str, PriceHistory]]:
        """(namespace, history) for every built-in model, then ("override", history) for user ones."""
        listed: List[Tuple[str, PriceHistory]] = []
        for namespace, models in self._index.items():
            seen: set = set()
            for history in models.values():
                if id(history) not in seen:
                    seen.add(id(history))
                    listed.append((namespace, history))
        listed += [(provider or "override", history) for provider, _, history in self._overrides]
        return listed


_MISSING: Any = object()


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


def _group_overrides(entries: Sequence[ModelEntry]) -> List[Tuple[Optional[str], Tuple[str, ...], PriceHistory]]:
    grouped: Dict[Tuple[Optional[str], Tuple[str, ...]], List[ModelEntry]] = {}
    for entry in entries:
        grouped.setdefault((entry.provider, entry.patterns), []).append(entry)
    return [(provider, patterns, PriceHistory(group[0].name, [e.point for e in group])) for (provider, patterns), group in grouped.items()]


# -- loading -----------------------------------------------------------------------------------------

_builtin_lock = threading.Lock()
_builtin_cache: Dict[str, PriceFile] = {}


def builtin_text() -> str:
    return resources.files("tokentrace.pricing").joinpath("data/prices.toml").read_text(encoding="utf-8")


def update_path() -> Path:
    """Where ``tokentrace prices update`` keeps the catalog it fetched."""
    configured = os.environ.get(UPDATE_PATH_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tokentrace" / "prices.toml"


def load_builtin() -> PriceFile:
    """The built-in catalog: the fetched update if there is a valid one, else the shipped file."""
    updated = update_path()
    key = str(updated) if updated.is_file() else "<shipped>"
    with _builtin_lock:
        cached = _builtin_cache.get(key)
        if cached is not None:
            return cached
        parsed = None
        if key != "<shipped>":
            try:
                parsed = read_text(updated.read_text(encoding="utf-8"), str(updated), builtin=True)
            except (ConfigError, OSError) as exc:
                logger.error("tokentrace: ignoring the fetched price catalog (%s); using the built-in one", exc)
        if parsed is None:
            parsed = read_text(builtin_text(), "tokentrace/pricing/data/prices.toml", builtin=True)
        _builtin_cache[key] = parsed
        return parsed


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


def read_overrides(value: Union[None, str, os.PathLike, Sequence[Any]]) -> Tuple[List[ModelEntry], List[Discount]]:
    models: List[ModelEntry] = []
    discounts: List[Discount] = []
    for path in price_paths(value):
        parsed = read_file(path)
        models += parsed.models
        discounts += parsed.discounts
    return models, discounts


def load_catalog(config: Any) -> Catalog:
    """Build the catalog for ``instrument()``.

    A bad price file is reported here, when tokentrace starts, naming file, entry and problem:
    with ``strict`` it raises :class:`~tokentrace.ConfigError`; otherwise it is logged and the
    built-in prices are used (the file is skipped as a whole, so no half-read prices apply).
    """
    builtin = load_builtin()
    overrides: List[ModelEntry] = []
    discounts: List[Discount] = []
    try:
        overrides, discounts = read_overrides(getattr(config, "prices", None))
    except ConfigError as exc:
        if getattr(config, "strict", False):
            raise
        logger.error("%s; continuing with the built-in prices only", exc)
    return Catalog(builtin.models, overrides, discounts, getattr(config, "azure_deployments", None))
