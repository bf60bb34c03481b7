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

#: gen_ai.provider.name -> catalog namespaces to search, in order. Namespaces are genai-prices'
#: provider ids (the base data) and tokentrace's curated overlay uses the same ones; a host that
#: resells another vendor's models lists that vendor after its own (genai-prices' fallbacks).
PROVIDER_NAMESPACES: Dict[str, Tuple[str, ...]] = {
    "openai": ("openai",),
    "azure.ai.openai": ("azure", "openai", "anthropic", "deepseek", "x-ai", "moonshotai"),
    "azure.ai.inference": ("azure", "openai", "anthropic", "deepseek", "x-ai", "moonshotai", "mistral", "cohere"),
    "anthropic": ("anthropic",),
    "aws.bedrock": ("aws",),
    "gcp.gemini": ("google",),
    "gcp.gen_ai": ("google",),
    "gcp.vertex_ai": ("google", "anthropic"),
    "mistral_ai": ("mistral",),
    "cohere": ("cohere",),
    "deepseek": ("deepseek",),
    "x_ai": ("x-ai",),
    "groq": ("groq",),
    # Self-hosted runtimes: no vendor bill, so no built-in namespace; only the user's prices file.
    "ollama": (),
    "vllm": (),
    "self-hosted": (),
    "perplexity": ("perplexity",),
    "openrouter": ("openrouter",),
    "together_ai": ("together",),
    "fireworks_ai": ("fireworks",),
    "moonshot_ai": ("moonshotai",),
    "z_ai": ("zai",),
    "zhipu_ai": ("zhipuai",),
    "github_copilot": ("github-copilot",),
    "cerebras": ("cerebras",),
    "novita": ("novita",),
    "avian": ("avian",),
    "arcee": ("arcee",),
    "baseten": ("baseten",),
    "cloudflare": ("cloudflare",),
    "cursor": ("cursor",),
    "databricks": ("databricks",),
    "doubleword": ("doubleword",),
    "elevenlabs": ("elevenlabs",),
    "meta": ("meta",),
    "minimax": ("minimax",),
    "modal": ("modal",),
    "ovhcloud": ("ovhcloud",),
    "quicksilverpro": ("quicksilverpro",),
    "typesafe": ("typesafe",),
    "voyageai": ("voyageai",),
    "huggingface": (),
}
#: Names people type for a provider (``tokentrace cost --provider bedrock``, a prices file's
#: ``provider = "google"``) -> the ``gen_ai.provider.name`` the runtime records.
PROVIDER_ALIASES: Dict[str, str] = {
    "aws": "aws.bedrock",
    "bedrock": "aws.bedrock",
    "amazon": "aws.bedrock",
    "google": "gcp.gemini",
    "gemini": "gcp.gemini",
    "google_genai": "gcp.gemini",
    "vertex": "gcp.vertex_ai",
    "vertex_ai": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azure-openai": "azure.ai.openai",
    "xai": "x_ai",
    "x-ai": "x_ai",
    "grok": "x_ai",
    "mistral": "mistral_ai",
    "mistralai": "mistral_ai",
    "together": "together_ai",
    "togetherai": "together_ai",
    "fireworks": "fireworks_ai",
    "moonshot": "moonshot_ai",
    "moonshotai": "moonshot_ai",
    "kimi": "moonshot_ai",
    "zai": "z_ai",
    "zhipuai": "zhipu_ai",
    "github-copilot": "github_copilot",
    "hf": "huggingface",
    "self_hosted": "self-hosted",
    "selfhosted": "self-hosted",
    "local": "self-hosted",
}
#: Namespaces searched when the provider is not one tokentrace knows and no host says otherwise.
FALLBACK_NAMESPACES = ("openai", "anthropic", "google", "mistral", "cohere", "deepseek", "x-ai")
#: OpenRouter ``vendor/`` prefixes -> catalog namespace.
VENDOR_NAMESPACES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "mistralai": "mistral",
    "mistral": "mistral",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "x-ai": "x-ai",
    "xai": "x-ai",
    "moonshotai": "moonshotai",
}
BEDROCK_GEO_PREFIX = re.compile(r"^(us-gov|us|eu|apac|au|jp|ca|global)\.")
#: Suffixes stripped one at a time from the end (dates, versions, ``-latest``, preview dates);
#: one alternation, so each strip is one regex search (the leftmost, i.e. longest, suffix first).
_SUFFIX = re.compile(
    r"(?:@\d{8}|-v\d+(?::\d+)?|:\d+|-\d{8}|-\d{4}-\d{2}-\d{2}|-latest|-\d{3}|-\d{2}-\d{4}|-\d{2}-\d{2}|-preview|-exp)$"
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
    if "gpt-35" in name:  # Azure's spelling of gpt-3.5 model names
        forms.append(name.replace("gpt-35", "gpt-3.5"))
        name = forms[-1]
    if "claude" in name:
        dashed = _CLAUDE_DOTS.sub("-", name)
        if dashed != name:
            forms.append(dashed)
    current = forms[-1]
    while True:
        stripped = _SUFFIX.sub("", current, count=1)
        if stripped == current or not stripped:
            break
        current = stripped
        forms.append(current)
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
    provider = canonical_provider(provider)
    if text.startswith("arn:"):
        text = text.rsplit("/", 1)[-1]
    if text.startswith("models/"):
        text = text[len("models/") :]
    found: List[Candidate] = []
    if provider == "openrouter":
        found += [Candidate("openrouter", form, True) for form in dict.fromkeys((text, dashed_date(text)))]
    if provider == "openrouter" or (provider not in PROVIDER_NAMESPACES and "/" in text):
        vendor, _, rest = text.partition("/")
        namespace = VENDOR_NAMESPACES.get(vendor)
        if namespace and rest:
            found += [Candidate(namespace, form, True) for form in name_forms(rest)]
            return list(dict.fromkeys(found))
        if provider == "openrouter":
            return found
    namespaces = namespaces_for(provider)
    if provider == "huggingface" and ":" in text:
        text, _, router = text.rpartition(":")
        namespaces = ("huggingface_" + router,)
    plain = [text]
    if "/" in text:
        plain.append(text.rsplit("/", 1)[-1])
    forms_of: Dict[str, List[str]] = {}  # one name's forms, shared by the provider's namespaces
    for namespace in namespaces:
        names = plain
        regional = True
        if namespace == "aws":
            names = list(plain)
            match = BEDROCK_GEO_PREFIX.match(names[-1])
            if match:
                regional = match.group(1) != "global"
                names.append(names[-1][match.end() :])
            elif names[-1].startswith("claude-"):
                # AnthropicBedrock answers with Anthropic's own id; Bedrock lists it as anthropic.<id>.
                names.append("anthropic." + names[-1])
        for name in names:
            forms = forms_of.get(name)
            if forms is None:
                forms = forms_of[name] = name_forms(name)
            for form in forms:
                found.append(Candidate(namespace, form, regional))
    return list(dict.fromkeys(found)) if len(found) > 1 else found


def canonical_provider(name: Optional[str]) -> str:
    """The ``gen_ai.provider.name`` for a provider as a user or a prices file spells it."""
    found = _CANONICAL.get(name)
    if found is None:
        text = (name or "").strip().lower()
        found = PROVIDER_ALIASES.get(text, text)
        if len(_CANONICAL) < 1024:
            _CANONICAL[name] = found
    return found


_CANONICAL: Dict[Optional[str], str] = {}


def known_provider(name: Optional[str]) -> bool:
    """True for a provider name (or alias) tokentrace has a price namespace for, or ``self-hosted``."""
    text = canonical_provider(name)
    return text in PROVIDER_NAMESPACES or text == "self-hosted"


def namespaces_for(provider: Optional[str]) -> Tuple[str, ...]:
    """Catalog namespaces to search for a call recorded under ``provider`` (a registry name)."""
    text = canonical_provider(provider)
    return PROVIDER_NAMESPACES.get(text, FALLBACK_NAMESPACES)


_COMPACT_DATE = re.compile(r"-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)")


def dashed_date(name: str) -> str:
    """``gpt-5.2-20251211`` -> ``gpt-5.2-2025-12-11`` (LiteLLM/OpenRouter spell dates compactly)."""
    return _COMPACT_DATE.sub(lambda m: f"-{m.group(1)}-{m.group(2)}-{m.group(3)}", name)
