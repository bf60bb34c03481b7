"""Silent model rerouting: the model that answered is not the one that was asked for.

Providers answer an alias with a dated snapshot (``gpt-4o`` -> ``gpt-4o-2024-08-06``,
``claude-sonnet-4-5`` -> ``claude-sonnet-4-5-20250929``); that is the same model and not a
reroute. A different family or size (``gpt-5`` -> ``gpt-5-mini``) is.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping, Optional

_DATE_SUFFIX = re.compile(r"(?:[-@](?:\d{8}|\d{4}-\d{2}-\d{2}|\d{2}-\d{4}|\d{4}))$")
_VERSION_SUFFIX = re.compile(r"(?:-v\d+(?::\d+)?|-0\d\d|-latest|:\d+)$")


@lru_cache(maxsize=4096)
def canonical_model(name: str) -> str:
    """The model family name with provider prefixes, dates and version tags removed."""
    text = name.strip().lower()
    if text.startswith("models/"):
        text = text[len("models/") :]
    if "/" in text:
        text = text.rsplit("/", 1)[1]
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
