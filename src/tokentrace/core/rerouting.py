"""Silent model rerouting: the model that answered is not the one that was asked for.

Providers answer an alias with a dated snapshot (``gpt-4o`` -> ``gpt-4o-2024-08-06``,
``claude-sonnet-4-5`` -> ``claude-sonnet-4-5-20250929``); that is the same model and not a
reroute. A different family or size (``gpt-5`` -> ``gpt-5-mini``) is. The decision is the price
catalog's model identity (:func:`tokentrace.pricing.identity.same_model`), so what is one model
for cost is one model here; when it cannot be told, the answer is ``None`` ("unknown"), never an
alarm. :func:`canonical_model` is the cheap family name budgets and policies match on.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping, Optional

from ..pricing.identity import Resolver, same_model

#: Bedrock ids: an optional cross-region profile prefix, then the model vendor (``us.anthropic.``).
_BEDROCK_PREFIX = re.compile(
    r"^(?:(?:us|eu|apac|global|au|jp|ca|us-gov)\.)?(?:anthropic|meta|amazon|mistral|cohere|ai21|deepseek|qwen|openai|writer)\."
)
_DATE_SUFFIX = re.compile(r"(?:[-@](?:\d{8}|\d{4}-\d{2}-\d{2}|\d{2}-\d{4}|\d{4}))$")
_VERSION_SUFFIX = re.compile(r"(?:-v\d+(?::\d+)?|-0\d\d|-latest|:\d+)$")


@lru_cache(maxsize=4096)
def canonical_model(name: str) -> str:
    """The model family name with provider prefixes, dates and version tags removed."""
    text = name.strip().lower()
    if text.startswith("models/"):
        text = text[len("models/") :]
    if "/" in text:  # vendor/model names and inference-profile ARNs
        text = text.rsplit("/", 1)[1]
    text = _BEDROCK_PREFIX.sub("", text)
    previous = None
    while previous != text:
        previous = text
        text = _DATE_SUFFIX.sub("", text)
        text = _VERSION_SUFFIX.sub("", text)
    return text


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
