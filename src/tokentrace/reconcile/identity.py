"""One model identity for both sides of a reconciliation: the price catalog's.

The vendor bills ``gpt-4o-2024-08-06`` where the app asked for ``gpt-4o``; CUR says
``anthropic.claude-sonnet-4-6`` where the app called ``us.anthropic.claude-sonnet-4-6-v1:0``.
Both sides are resolved through :meth:`tokentrace.pricing.catalog.Catalog.resolve`, the same
resolution cost uses, so two spellings of one model land in one cell. A name the catalog does
not know keeps its cleaned spelling, so it can still match the same spelling on the other side.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from ..pricing.catalog import Catalog, load_builtin, read_overrides
from ..pricing.resolve import clean

#: Provider names a vendor source's rows may carry -> the family reconcile compares them as.
PROVIDER_FAMILIES: Dict[str, str] = {
    "openai": "openai",
    "azure.ai.openai": "azure.ai.openai",
    "anthropic": "anthropic",
    "aws.bedrock": "aws.bedrock",
    "gcp.gemini": "gcp",
    "gcp.vertex_ai": "gcp",
    "gcp.gen_ai": "gcp",
}


def provider_family(provider: str) -> str:
    name = (provider or "").strip().lower()
    return PROVIDER_FAMILIES.get(name, name)


class ModelIdentity:
    """Maps (provider, model spelling) to the name reconcile compares, caching each answer."""

    def __init__(self, catalog: Optional[Catalog] = None) -> None:
        self._catalog = catalog
        self._cache: Dict[Tuple[str, str], Tuple[str, bool]] = {}

    @classmethod
    def from_prices(cls, prices: object = None) -> ModelIdentity:
        """The built-in catalog plus the user's price files (``TOKENTRACE_PRICES`` / ``--prices``)."""
        overrides, discounts = read_overrides(prices)  # type: ignore[arg-type]
        return cls(Catalog(load_builtin().models, overrides, discounts))

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog(load_builtin().models)
        return self._catalog

    def resolve(self, provider: str, model: str) -> Tuple[str, bool]:
        """(name to compare, whether the catalog knew the model)."""
        key = (provider, model)
        found = self._cache.get(key)
        if found is None:
            resolved = self.catalog.resolve(provider, model) if model else None
            found = (resolved.name, True) if resolved is not None else (clean(model or "unknown"), False)
            self._cache[key] = found
        return found

    def resolve_row(self, provider: str, model: str, request_model: Optional[str]) -> Tuple[str, bool]:
        """A row's model, falling back to the requested model when the catalog does not know the
        answering one (as pricing does: ``claude-haiku-4-5-20251001`` answered on Bedrock)."""
        found = self.resolve(provider, model)
        if not found[1] and request_model and request_model != model:
            requested = self.resolve(provider, request_model)
            if requested[1]:
                return requested
        return found

    def key(self, provider: str, model: str) -> str:
        return self.resolve(provider, model)[0]
