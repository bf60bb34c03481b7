"""Silent model rerouting: the model that answered is not the one that was asked for.

Providers answer an alias with a dated snapshot (``gpt-4o`` -> ``gpt-4o-2024-08-06``,
``claude-sonnet-4-5`` -> ``claude-sonnet-4-5-20250929``); that is the same model and not a
reroute. A different family or size (``gpt-5`` -> ``gpt-5-mini``) is. The decision is the price
catalog's model identity (:func:`tokentrace.pricing.identity.same_model`), so what is one model
for cost is one model here; when it cannot be told, the answer is ``None`` ("unknown"), never an
alarm. Budgets and model policies compare names with the same identity.
"""

from __future__ import annotations

from typing import Mapping, Optional

from ..pricing.identity import Resolver, same_model


def is_rerouted(
    requested: Optional[str],
    answered: Optional[str],
    aliases: Optional[Mapping[str, str]] = None,
    provider: Optional[str] = None,
    resolve: Optional[Resolver] = None,
) -> Optional[bool]:
    """``True``/``False`` when it can be decided; ``None`` when it cannot ("unknown").

    ``aliases`` maps user-chosen names (Azure deployments) to the model they stand for; an
    unmapped Azure deployment name is not a model name and gives ``None`` unless it happens to be
    spelled like the answering model. ``resolve`` is the price catalog's lookup (its aliases).
    """
    if not requested or not answered:
        return None
    if aliases:
        requested = aliases.get(requested, requested)
    same = same_model(requested, answered, provider, resolve)
    return None if same is None else not same
