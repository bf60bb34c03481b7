"""Who stands behind a server address, and whether a vendor's list prices may apply to it.

An SDK says nothing about who answers: the openai SDK talks to OpenAI, Azure, Groq, Cerebras,
a company gateway or a vLLM on the laptop alike, and a model name (``gpt-4o``) says nothing
either (vLLM serves any name it is given). The host does. This module turns ``server.address``
into

* a ``gen_ai.provider.name`` (the OpenTelemetry registry name for the vendors it lists,
  ``openai``, ``anthropic``, ``aws.bedrock``, ``x_ai`` ...; for a host it does not know, a name
  derived from the host, ``corp_example`` for ``llm.corp-example.com``; ``self-hosted`` for a
  loopback or private address), and
* whether a vendor's **list prices** may apply: only to the vendor's own API hosts. A call to a
  loopback/private address or to a host that is not the vendor's is never charged a vendor's list
  price unless the user's prices file says so (``[[model]] host = ...`` or ``[[host]]``).

Pure and cheap (string work, results cached); the provider adapters use it for the provider name
and the catalog for the pricing decision. The local provider server in ``tokentrace.testing``
registers itself as a *stand-in* for the vendors whose wire formats it speaks, so tests and demos
that point a real SDK at it are priced as the real vendor would charge.
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
from functools import lru_cache
from typing import Dict, NamedTuple, Optional, Set, Tuple

#: Provider name of loopback, private and link-local addresses (and single-label / ``.local`` names).
SELF_HOSTED = "self-hosted"

#: Why a call's host keeps vendor list prices away (``tokentrace.cost.status`` values).
STATUS_SELF_HOSTED = "self_hosted"
STATUS_UNKNOWN_HOST = "unknown_host"

#: Registry names (``gen_ai.provider.name``) for the vendor API hosts tokentrace knows, matched on
#: the exact host or as a ``.suffix``. Regex entries handle hosts with a region inside.
_EXACT_OR_SUFFIX: Tuple[Tuple[str, str], ...] = (
    ("api.openai.com", "openai"),
    (".openai.azure.com", "azure.ai.openai"),
    (".cognitiveservices.azure.com", "azure.ai.openai"),
    (".services.ai.azure.com", "azure.ai.inference"),
    (".models.ai.azure.com", "azure.ai.inference"),
    (".inference.ai.azure.com", "azure.ai.inference"),
    (".azure-api.net", "azure.ai.openai"),
    ("api.anthropic.com", "anthropic"),
    ("generativelanguage.googleapis.com", "gcp.gemini"),
    ("aiplatform.googleapis.com", "gcp.vertex_ai"),
    ("api.mistral.ai", "mistral_ai"),
    ("api.cohere.com", "cohere"),
    ("api.cohere.ai", "cohere"),
    ("api.deepseek.com", "deepseek"),
    ("api.x.ai", "x_ai"),
    ("api.groq.com", "groq"),
    ("api.perplexity.ai", "perplexity"),
    ("openrouter.ai", "openrouter"),
    ("api.together.xyz", "together_ai"),
    ("api.together.ai", "together_ai"),
    ("api.fireworks.ai", "fireworks_ai"),
    ("api.moonshot.ai", "moonshot_ai"),
    ("api.moonshot.cn", "moonshot_ai"),
    ("api.cerebras.ai", "cerebras"),
    ("api.z.ai", "z_ai"),
    ("open.bigmodel.cn", "zhipu_ai"),
    ("router.huggingface.co", "huggingface"),
    ("api.novita.ai", "novita"),
    ("api.avian.io", "avian"),
    ("api.arcee.ai", "arcee"),
    ("inference.baseten.co", "baseten"),
    ("api.cloudflare.com", "cloudflare"),
    ("api.cursor.com", "cursor"),
    (".cloud.databricks.com", "databricks"),
    (".azuredatabricks.net", "databricks"),
    (".gcp.databricks.com", "databricks"),
    ("api.doubleword.ai", "doubleword"),
    ("api.elevenlabs.io", "elevenlabs"),
    ("api.githubcopilot.com", "github_copilot"),
    ("api.meta.ai", "meta"),
    ("api.minimax.io", "minimax"),
    ("api.minimaxi.com", "minimax"),
    (".modal.run", "modal"),
    (".modal.direct", "modal"),
    ("oai.endpoints.kepler.ai.cloud.ovh.net", "ovhcloud"),
    ("api.quicksilverpro.io", "quicksilverpro"),
    ("api.typesafe.ai", "typesafe"),
    ("api.voyageai.com", "voyageai"),
    (".snowflakecomputing.com", "snowflake"),
    ("api.sambanova.ai", "sambanova"),
    ("api.hyperbolic.xyz", "hyperbolic"),
    ("api.studio.nebius.com", "nebius"),
    ("api.studio.nebius.ai", "nebius"),
    ("api.deepinfra.com", "deepinfra"),
    ("api.lambda.ai", "lambda"),
    ("api.ai21.com", "ai21"),
    ("api.reka.ai", "reka"),
    ("api.upstage.ai", "upstage"),
    (".ml.cloud.ibm.com", "ibm.watsonx.ai"),
)
#: ``bedrock-runtime.us-east-1.amazonaws.com``, ``bedrock-runtime-fips.…``, and Bedrock's
#: OpenAI-compatible ``bedrock-mantle.us-east-1.api.aws``; ``us-east5-aiplatform.googleapis.com``.
_REGIONAL = (
    (re.compile(r"^bedrock(?:-runtime|-agent-runtime)?(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"), "aws.bedrock"),
    (re.compile(r"^bedrock-mantle\.([a-z0-9-]+)\.api\.aws$"), "aws.bedrock"),
    (re.compile(r"^([a-z0-9-]+)-aiplatform\.googleapis\.com$"), "gcp.vertex_ai"),
    (re.compile(r"^aiplatform\.([a-z0-9-]+)\.rep\.googleapis\.com$"), "gcp.vertex_ai"),
)
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".svc", ".cluster.local", ".docker")
#: Two-part public suffixes, so ``api.example.co.uk`` is named ``example``, not ``co``.
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or"})
_GENERIC_LABELS = frozenset({"api", "www", "llm", "llms", "ai", "inference", "gateway", "models", "openai", "v1", "chat"})


class HostInfo(NamedTuple):
    """What :func:`classify` decided for one server address."""

    #: ``gen_ai.provider.name`` for calls to this host (``None`` when no host is known).
    provider: Optional[str]
    #: True when the host is the vendor's own API (or a registered stand-in): list prices may apply.
    vendor: bool
    #: ``vendor``, ``stand_in``, ``self_hosted``, ``unknown_host`` or ``none`` (no address known).
    kind: str
    #: The region in the host name (``us-east5`` for Vertex, ``us-east-1`` for Bedrock), if any;
    #: ``global`` for Vertex's global endpoint.
    region: Optional[str] = None

    @property
    def status(self) -> Optional[str]:
        """The ``tokentrace.cost.status`` for a call no user price matches, when list prices may not apply."""
        if self.kind == "self_hosted":
            return STATUS_SELF_HOSTED
        if self.kind == "unknown_host":
            return STATUS_UNKNOWN_HOST
        return None


_NO_HOST = HostInfo(None, True, "none")
#: ``host:port`` stand-ins (comma separated) inherited from a parent process that runs the local
#: provider server, so a worker process it starts prices calls to that server the same way.
STAND_INS_ENV = "TT_PROVIDER_SERVER_STAND_INS"  # not TOKENTRACE_*: tools that scrub config keep it
_stand_ins: Set[Tuple[str, Optional[int]]] = set()
_stand_in_lock = threading.Lock()
_generation = [0]


def register_stand_in(host: str, port: Optional[int] = None) -> None:
    """Treat ``host[:port]`` as the vendor itself (the local provider server in tests and demos).

    Calls to a stand-in keep the provider name the SDK adapter chose and are priced at that
    vendor's list prices, exactly as if they had gone to the vendor.
    """
    with _stand_in_lock:
        _stand_ins.add((_norm(host), port))
        _generation[0] += 1
        _export()
    _classify.cache_clear()


def unregister_stand_in(host: str, port: Optional[int] = None) -> None:
    with _stand_in_lock:
        _stand_ins.discard((_norm(host), port))
        _generation[0] += 1
        _export()
    _classify.cache_clear()


def _export() -> None:
    text = ",".join(sorted(f"{h}:{p}" if p else h for h, p in _stand_ins))
    if text:
        os.environ[STAND_INS_ENV] = text
    else:
        os.environ.pop(STAND_INS_ENV, None)


def _inherited() -> Set[Tuple[str, Optional[int]]]:
    found: Set[Tuple[str, Optional[int]]] = set()
    for item in os.environ.get(STAND_INS_ENV, "").split(","):
        host, _, port = item.strip().rpartition(":")
        if host and port.isdigit():
            found.add((_norm(host), int(port)))
        elif item.strip():
            found.add((_norm(item), None))
    return found


def stand_in_generation() -> int:
    """Changes whenever stand-ins change, so caches keyed on a host can tell they are stale."""
    return _generation[0]


def classify(host: Optional[str], port: Optional[int] = None) -> HostInfo:
    """Provider name and pricing eligibility for a call sent to ``host`` (``server.address``)."""
    if not host:
        return _NO_HOST
    return _classify(host, port)


def provider_for_host(host: Optional[str], port: Optional[int] = None, default: Optional[str] = None) -> Optional[str]:
    """``gen_ai.provider.name`` for ``host``; ``default`` (the SDK's vendor) for stand-ins or no host."""
    info = classify(host, port)
    if info.kind in ("none", "stand_in"):
        return default
    return info.provider


def is_private(host: Optional[str]) -> bool:
    """True for loopback, private, link-local and unique-local addresses and local-only names."""
    if not host:
        return False
    text = _norm(host)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text == "localhost" or "." not in text or text.endswith(_PRIVATE_SUFFIXES)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


@lru_cache(maxsize=1024)
def _classify(host: str, port: Optional[int]) -> HostInfo:
    text = _norm(host)
    with _stand_in_lock:
        known = _stand_ins | _inherited()
    stand_in = (text, port) in known or (text, None) in known
    if stand_in:
        return HostInfo(None, True, "stand_in")
    provider = vendor_for_domain(text)
    if provider is not None:
        return HostInfo(provider, True, "vendor", "global" if provider == "gcp.vertex_ai" else None)
    for pattern, provider in _REGIONAL:
        match = pattern.match(text)
        if match:
            return HostInfo(provider, True, "vendor", match.group(1))
    if is_private(text):
        return HostInfo(SELF_HOSTED, False, "self_hosted")
    return HostInfo(derived_name(text), False, "unknown_host")


#: Each entry of :data:`_EXACT_OR_SUFFIX` by its bare domain: (position, provider).
_BY_DOMAIN: Dict[str, Tuple[int, str]] = {}
for _position, (_suffix, _provider) in enumerate(_EXACT_OR_SUFFIX):
    _BY_DOMAIN.setdefault(_suffix.lstrip("."), (_position, _provider))


def vendor_for_domain(text: str) -> Optional[str]:
    """The vendor of a normalized host: the first :data:`_EXACT_OR_SUFFIX` entry naming the host
    itself or a domain it is under (``api.openai.com`` also covers ``eu.api.openai.com``).

    A dict hit per parent domain instead of a scan of the list: this runs on the first call to
    each host, which is part of a process's first price lookup.
    """
    best: Optional[Tuple[int, str]] = None
    domain = text
    while True:
        found = _BY_DOMAIN.get(domain)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
        dot = domain.find(".")
        if dot < 0:
            break
        domain = domain[dot + 1 :]
    return best[1] if best is not None else None


def derived_name(host: str) -> str:
    """A provider name for a host tokentrace does not know: its organisation's domain label.

    ``llm.corp-example.com`` -> ``corp_example``; ``api.example.co.uk`` -> ``example``; a public IP
    address stays as it is.
    """
    text = _norm(host)
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    labels = [label for label in text.split(".") if label]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        labels = labels[:-1]
    name = labels[-2] if len(labels) >= 2 else labels[0] if labels else text
    if name in _GENERIC_LABELS and len(labels) >= 3:
        name = labels[-3]
    return re.sub(r"[^a-z0-9]+", "_", name).strip("_") or text


def _norm(host: str) -> str:
    text = host.strip().lower().rstrip(".")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return text


#: Hosts per registry name, for documentation and the CLI (``tokentrace prices --hosts``).
def known_hosts() -> Dict[str, Tuple[str, ...]]:
    grouped: Dict[str, Tuple[str, ...]] = {}
    for suffix, provider in _EXACT_OR_SUFFIX:
        grouped[provider] = grouped.get(provider, ()) + ("*" + suffix if suffix.startswith(".") else suffix,)
    for pattern, provider in _REGIONAL:
        grouped[provider] = grouped.get(provider, ()) + (pattern.pattern,)
    return grouped
