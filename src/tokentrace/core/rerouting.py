"""Silent model rerouting: the model that answered is not the one that was asked for.

Providers answer an alias with a dated snapshot (``gpt-4o`` -> ``gpt-4o-2024-08-06``,
``claude-sonnet-4-5`` -> ``claude-sonnet-4-5-20250929``); that is the same model and not a
reroute. A different family or size (``gpt-5`` -> ``gpt-5-mini``) is.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping, Optional

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
    requested: Optional[str], answered: Optional[str], aliases: Optional[Mapping[str, str]] = None
) -> Optional[bool]:
    """``True``/``False`` when both names are known; ``None`` when it cannot be decided.

    ``aliases`` maps user-chosen names (Azure deployments) to the model they stand for; an
    unmapped Azure deployment name cannot be compared and gives ``None``.
    """
    if not requested or not answered:
        return None
    if aliases:
        requested = aliases.get(requested, requested)
    return canonical_model(requested) != canonical_model(answered)
