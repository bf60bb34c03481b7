"""From the model string a call reports to the names the catalog may list it under.

Providers and gateways spell one model many ways: dated snapshots (``gpt-4o-2024-08-06``,
``claude-sonnet-4-5-20250929``), ``vendor/model`` (OpenRouter), Bedrock region prefixes and
ARNs (``us.anthropic.claude-…-v1:0``), Vertex ``@date`` suffixes, Gemini ``models/`` paths,
fine-tuned ids (``ft:gpt-4o-mini-2024-07-18:org::id``). Resolution tries the most specific name
first and only then strips, so a snapshot with its own price (``gpt-4o-2024-05-13``) keeps it.
This runs once per distinct (provider, model) pair; the catalog caches the outcome.
"""

from __future__ import annotations

import re
from typing import Dict, List, NamedTuple, Optional, Tuple

#: gen_ai.provider.name -> catalog namespaces to search, in order.
PROVIDER_NAMESPACES: Dict[str, Tuple[str, ...]] = {
    "openai": ("openai",),
    "azure.ai.openai": ("openai",),
    "anthropic": ("anthropic",),
    "aws.bedrock": ("bedrock",),
    "gcp.gemini": ("google",),
    "gcp.gen_ai": ("google",),
    "gcp.vertex_ai": ("google", "anthropic"),
    "mistral_ai": ("mistral",),
    "cohere": ("cohere",),
    "deepseek": ("deepseek",),
    "x_ai": ("xai",),
    "groq": ("groq",),
    # Self-hosted runtimes: no vendor bill, so no built-in namespace; only the user's prices file.
    "ollama": (),
}
#: Namespaces searched when the provider is not one tokentrace knows (a custom gateway ...).
FALLBACK_NAMESPACES = ("openai", "anthropic", "google", "mistral", "cohere", "deepseek", "xai")
#: OpenRouter ``vendor/`` prefixes -> catalog namespace.
VENDOR_NAMESPACES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "mistralai": "mistral",
    "mistral": "mistral",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "x-ai": "xai",
    "xai": "xai",
}
BEDROCK_GEO_PREFIX = re.compile(r"^(us-gov|us|eu|apac|au|jp|ca|global)\.")
_SUFFIXES = (
    re.compile(r"@\d{8}$"),
    re.compile(r"-v\d+(?::\d+)?$"),
    re.compile(r":\d+$"),
    re.compile(r"-\d{8}$"),
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),
    re.compile(r"-latest$"),
    re.compile(r"-\d{3}$"),
)
_CLAUDE_DOTS = re.compile(r"(?<=\d)\.(?=\d)")


class Candidate(NamedTuple):
    namespace: str
    name: str
    #: Bedrock only: True for regional endpoints (geo profiles and in-region ids), False for global.
    regional: bool


def clean(model: str) -> str:
    return model.strip().lower()


def name_forms(name: str) -> List[str]:
    """``name``, then the same with dates, versions and ``-latest`` stripped one by one."""
    forms = [name]
    if "claude" in name:
        dashed = _CLAUDE_DOTS.sub("-", name)
        if dashed != name:
            forms.append(dashed)
    current = forms[-1]
    changed = True
    while changed:
        changed = False
        for pattern in _SUFFIXES:
            stripped = pattern.sub("", current)
            if stripped != current and stripped:
                current = stripped
                forms.append(current)
                changed = True
    if name.startswith("ft:"):
        base = name.split(":")[1] if name.count(":") >= 1 else ""
        forms = [f for f in forms if f.count(":") <= 1]
        forms += ["ft:" + form for form in name_forms(base)] if base else []
    return list(dict.fromkeys(forms))


def candidates(provider: Optional[str], model: str) -> List[Candidate]:
    """Every (namespace, name) the catalog should look for, most specific first."""
    text = clean(model)
    if not text:
        return []
    provider = (provider or "").strip().lower()
    if text.startswith("arn:"):
        text = text.rsplit("/", 1)[-1]
    if text.startswith("models/"):
        text = text[len("models/") :]
    if provider == "openrouter" or (provider not in PROVIDER_NAMESPACES and "/" in text):
        vendor, _, rest = text.partition("/")
        namespace = VENDOR_NAMESPACES.get(vendor)
        if namespace and rest:
            return [Candidate(namespace, form, True) for form in name_forms(rest)]
        if provider == "openrouter":
            return []
    namespaces = PROVIDER_NAMESPACES.get(provider, FALLBACK_NAMESPACES)
    found: List[Candidate] = []
    for namespace in namespaces:
        names = [text]
        if "/" in text:
            names.append(text.rsplit("/", 1)[-1])
        regional = True
        if namespace == "bedrock":
            match = BEDROCK_GEO_PREFIX.match(names[-1])
            if match:
                regional = match.group(1) != "global"
                names.append(names[-1][match.end() :])
        for name in names:
            for form in name_forms(name):
                found.append(Candidate(namespace, form, regional))
    return list(dict.fromkeys(found))
