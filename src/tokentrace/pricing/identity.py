"""Whether two model names are the same model, by the catalog's model identity.

A provider answers a request for ``gpt-4o`` with ``gpt-4o-2024-08-06``, for ``claude-sonnet-4-0``
with ``claude-sonnet-4-20250514``, for ``davinci-002`` with ``davinci:2023-07-21-v2``; OpenRouter
answers ``anthropic/claude-sonnet-4.6`` with ``anthropic/claude-4.6-sonnet-20260217``; a
compatible host answers ``llama3.3-70b`` with ``llama-3.3-70b``. Each pair is one model, and a
reroute alarm on them is a false alarm. A different model (``gpt-5`` answered by
``gpt-5-mini``, an OpenRouter ``google/...`` request answered by ``x-ai/grok-4``) is a reroute.

:func:`same_model` decides with the same name rules the price catalog resolves with
(:mod:`.resolve`: dated snapshots, version suffixes, vendor prefixes, Bedrock region prefixes)
plus the spellings vendors use for one model (word order, separators, ``.0`` minor versions,
mid-name snapshot dates such as ``-1106-``), and, when given the catalog's ``resolve``, the
catalog's own aliases. When it cannot tell (a name the catalog does not know, an unmapped Azure
deployment, a self-hosted model name) it says so: ``None``, never a guess.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, FrozenSet, Optional, Tuple

from .resolve import BEDROCK_GEO_PREFIX, VENDOR_NAMESPACES, candidates, clean, name_forms

#: ``resolve(provider, model)`` of :class:`~tokentrace.pricing.catalog.Catalog`: an entry with a
#: ``name`` (the catalog's canonical model name), or ``None`` for a model it does not know.
Resolver = Callable[[Optional[str], str], Any]

_BEDROCK_VENDOR = re.compile(r"^(?:anthropic|meta|amazon|mistral|cohere|ai21|deepseek|qwen|openai|writer)\.")
#: Snapshot dates anywhere in a name: 20250514, 2024-08-06, and MMDD tokens (gpt-4-1106-preview).
_DATES = re.compile(r"(?:(?<=[-_@:])|^)(?:\d{8}|\d{4}-\d{2}-\d{2}|(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(?=$|[-_:@.])")
_SNAPSHOT_TAG = re.compile(r":(?:\d{4}-\d{2}-\d{2}|\d{8}|v\d+)[^/]*$")
_TOKENS = re.compile(r"[a-z]+|\d+")


def same_model(
    requested: Optional[str], answered: Optional[str], provider: Optional[str] = None, resolve: Optional[Resolver] = None
) -> Optional[bool]:
    """``True`` when ``answered`` is the model ``requested`` names, ``False`` when it is another
    model, ``None`` when that cannot be told."""
    if not requested or not answered:
        return None
    req, ans = clean(requested), clean(answered)
    if req == ans:
        return True
    req_vendor, ans_vendor = _vendor(req), _vendor(ans)
    if req_vendor and ans_vendor and req_vendor != ans_vendor:
        return False  # OpenRouter: another vendor's model answered
    if _forms(provider, req) & _forms(provider, ans):
        return True
    if _spelling(req) == _spelling(ans):
        return True
    if resolve is None:
        return None
    try:
        req_entry = _lookup(resolve, provider, requested)
        ans_entry = _lookup(resolve, provider, answered)
    except Exception:
        return None
    if req_entry is None:
        return None  # a name the catalog does not know (an Azure deployment, a self-hosted model)
    if ans_entry is not None:
        return bool(req_entry.name == ans_entry.name)
    # A model the catalog knows, answered under a name that is none of its spellings.
    return False


def model_part(name: str) -> str:
    """The model part of a name as a user would write a pattern for it: lower case, no vendor,
    region or ARN prefix, no ``:`` snapshot tag (``us.anthropic.claude-opus-4-5-20251101-v1:0``
    -> ``claude-opus-4-5-20251101-v1:0``, ``openai/gpt-5`` -> ``gpt-5``)."""
    return _base(clean(name))


def _lookup(resolve: Resolver, provider: Optional[str], name: str) -> Any:
    """The catalog entry for ``name``, else for its bare model part (no region or vendor prefix)."""
    entry = resolve(provider, name)
    if entry is None:
        base = _base(clean(name))
        if base != clean(name):
            entry = resolve(provider, base)
    return entry


def _vendor(name: str) -> Optional[str]:
    """The catalog namespace of an OpenRouter-style ``vendor/model`` prefix, if any."""
    if "/" not in name or name.startswith(("arn:", "models/")):
        return None
    vendor = name.split("/", 1)[0]
    return VENDOR_NAMESPACES.get(vendor, vendor)


@lru_cache(maxsize=4096)
def _forms(provider: Optional[str], name: str) -> FrozenSet[str]:
    """Every name the catalog would look the model up under (snapshots and versions stripped)."""
    forms = {name, *(candidate.name for candidate in candidates(provider, name))}
    base = _base(name)
    forms.update(name_forms(base))
    return frozenset(forms)


def _base(name: str) -> str:
    """The model part of a name: no vendor, region or ARN prefix, no ``:`` snapshot tag."""
    text = name.rsplit("/", 1)[-1]
    text = BEDROCK_GEO_PREFIX.sub("", text)
    text = _BEDROCK_VENDOR.sub("", text)
    if not text.startswith("ft:"):
        text = _SNAPSHOT_TAG.sub("", text)  # davinci:2023-07-21-v2 (a size tag, llama3:8b, stays)
    return text


@lru_cache(maxsize=4096)
def _spelling(name: str) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """A name as vendors spell it apart: its words (any order) and its version numbers (in order)."""
    base = name_forms(_base(name))[-1]
    base = _DATES.sub("", base)
    tokens = _TOKENS.findall(base)
    words = tuple(sorted(t for t in tokens if not t.isdigit()))
    numbers = [t.lstrip("0") or "0" for t in tokens if t.isdigit()]
    while len(numbers) > 1 and numbers[-1] == "0":  # claude-sonnet-4-0 is claude-sonnet-4
        numbers.pop()
    return words, tuple(numbers)
