"""What the local provider server's fake vendors bill: every request they processed with usage.

A real vendor bills what it processed, not what the client saw answered: a request whose
client timed out and retried is billed twice. So the fake bill is built from the server's own
request log (each request keeps the plan it was answered with): every successful answer with
usage is one billed call, at the time it arrived, under the project and API key its headers
carry. Tests then inject discrepancies by editing the list of :class:`BilledCall` (drop a day,
rename a model, add a project) or the vendor's rates, and the admin-API fakes
(``wire/openai_admin.py``, ``wire/anthropic_admin.py``) and the export-file writers
(``testing/exports.py``) all report from it.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
import weakref
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional

#: Request paths that are billed calls -> (provider, endpoint); the first match wins.
_BILLED_PATHS = (
    (re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/(?:chat/completions|completions|responses)$"), "azure.ai.openai", "completions"),
    (re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/embeddings$"), "azure.ai.openai", "embeddings"),
    (re.compile(r"/(?:chat/completions|responses|completions)$"), "openai", "completions"),
    (re.compile(r"/embeddings$"), "openai", "embeddings"),
    (re.compile(r"^/v1/messages$"), "anthropic", "messages"),
    (re.compile(r"^/model/(?P<model>[^/]+)/(?:converse|converse-stream|invoke|invoke-with-response-stream)$"), "aws.bedrock", "converse"),
    (re.compile(r"/projects/[^/]+/locations/[^/]+/publishers/anthropic/models/(?P<model>[^/:]+):(?:rawPredict|streamRawPredict)$"), "gcp", "raw_predict"),
    (re.compile(r"/models/(?P<model>[^/:]+):(?:generateContent|streamGenerateContent)$"), "gcp", "generate_content"),
)
#: Admin keys the fake admin APIs accept unless a test sets others.
OPENAI_ADMIN_KEY = "sk-admin-tokentrace-test-0123456789"
ANTHROPIC_ADMIN_KEY = "sk-ant-admin01-tokentrace-test-0123456789"


def api_key_id(provider: str, secret: str) -> str:
    """The id the fake vendor reports for an API key (vendors never report the key itself)."""
    digest = hashlib.sha256(secret.encode()).hexdigest()[:12]
    return f"key_{digest}" if provider == "openai" else f"apikey_{digest}"


@dataclass(frozen=True)
class BilledCall:
    """One call as the vendor bills it: tokens per spend-row token type (``input`` is uncached)."""

    at: float
    provider: str
    endpoint: str
    model: str
    tokens: Mapping[str, int]
    project_id: Optional[str] = None
    api_key_id: Optional[str] = None
    workspace_id: Optional[str] = None
    service_tier: Optional[str] = None
    batch: bool = False

    def moved(self, seconds: float) -> BilledCall:
        return replace(self, at=self.at + seconds)


#: (provider, model, token type, time) -> USD per 1M tokens.
RateFunction = Callable[[str, str, str, float], Optional[float]]


@dataclass
class Billing:
    """The fake vendors' bill: billed calls, rates, and the admin keys the admin APIs accept."""

    calls: List[BilledCall] = field(default_factory=list)
    #: Per-model multipliers on the catalog's list price (a negotiated or changed rate).
    rate_factors: Dict[str, float] = field(default_factory=dict)
    #: The vendor's own spelling of a model -> the model it is priced as (a renamed line item).
    aliases: Dict[str, str] = field(default_factory=dict)
    rates: Optional[RateFunction] = None
    admin_keys: Dict[str, str] = field(default_factory=lambda: {"openai": OPENAI_ADMIN_KEY, "anthropic": ANTHROPIC_ADMIN_KEY})
    #: Anthropic API key id -> workspace id (keys not listed belong to the default workspace).
    workspaces: Dict[str, str] = field(default_factory=dict)

    def bill_requests(self, requests: Iterable[Any]) -> List[BilledCall]:
        """Add a billed call for every request the server answered successfully with usage."""
        added = [call for call in (billed_call(request, self.workspaces) for request in requests) if call is not None]
        self.calls += added
        return added

    def rate(self, provider: str, model: str, token_type: str, at: float) -> Optional[float]:
        base = (self.rates or catalog_rate)(provider, self.aliases.get(model, model), token_type, at)
        if base is None:
            return None
        return base * self.rate_factors.get(model, 1.0)

    def cost(self, call: BilledCall, token_type: str) -> Optional[float]:
        rate = self.rate(call.provider, call.model, token_type, call.at)
        return None if rate is None else call.tokens.get(token_type, 0) * rate / 1_000_000


_BILLINGS: weakref.WeakKeyDictionary[Any, Billing] = weakref.WeakKeyDictionary()


def billing_for(server: Any) -> Billing:
    """The bill of one :class:`~tokentrace.testing.ProviderServer` (created on first use)."""
    found = _BILLINGS.get(server)
    if found is None:
        found = _BILLINGS[server] = Billing()
    return found


def billed_call(request: Any, workspaces: Mapping[str, str]) -> Optional[BilledCall]:
    plan = getattr(request, "plan", None)
    if request.method != "POST" or plan is None or plan.usage is None or plan.status != 200 or plan.error is not None or plan.body is not None:
        return None
    for pattern, provider, endpoint in _BILLED_PATHS:  # noqa: B007 - for-else search: used below
        match = pattern.search(request.path)
        if match:
            break
    else:
        return None
    body = request.json if isinstance(request.json, dict) else {}
    from .server import DEFAULT_SNAPSHOTS

    groups = match.groupdict()
    requested = urllib.parse.unquote(groups.get("model") or str(body.get("model") or groups.get("deployment") or "unknown"))
    model = plan.model or DEFAULT_SNAPSHOTS.get(requested, requested)
    headers = request.headers
    if provider in ("openai", "azure.ai.openai"):
        secret = headers.get("authorization", "").removeprefix("Bearer ").strip() or headers.get("api-key", "")
        key_id = api_key_id("openai", secret) if secret else None
        tier = plan.extra.get("service_tier") or body.get("service_tier")
        project = headers.get("openai-project") or ("proj_default" if provider == "openai" else None)
        return BilledCall(request.received_at, provider, endpoint, model, openai_tokens(plan.usage), project, key_id, service_tier=str(tier) if tier else "default")
    anthropic_shape = "input_tokens" in plan.usage
    if provider == "aws.bedrock":
        tokens = anthropic_tokens(plan.usage) if anthropic_shape else bedrock_tokens(plan.usage)
        return BilledCall(request.received_at, provider, endpoint, model, tokens, service_tier="standard")
    if provider == "gcp":
        project = re.search(r"/projects/(?P<project>[^/]+)/", request.path)
        tokens = anthropic_tokens(plan.usage) if anthropic_shape else gemini_tokens(plan.usage)
        return BilledCall(request.received_at, provider, endpoint, model, tokens, project.group("project") if project else None)
    secret = headers.get("x-api-key", "") or headers.get("authorization", "").removeprefix("Bearer ").strip()
    key_id = api_key_id("anthropic", secret) if secret else None
    tier = body.get("service_tier")
    return BilledCall(
        request.received_at, provider, endpoint, model, anthropic_tokens(plan.usage), None, key_id, workspaces.get(key_id or ""),
        service_tier="standard" if tier in (None, "auto", "standard_only") else str(tier),
    )


def bedrock_tokens(usage: Mapping[str, Any]) -> Dict[str, int]:
    """Billed token types of a Converse ``usage`` (``inputTokens`` exclude cache reads and writes)."""
    long_writes = sum(int(d.get("inputTokens") or 0) for d in usage.get("cacheDetails") or [] if str(d.get("ttl", "")).lower() in ("1h", "one_hour"))
    writes = int(usage.get("cacheWriteInputTokens") or 0)
    return {
        "input": int(usage.get("inputTokens") or 0),
        "cache_read": int(usage.get("cacheReadInputTokens") or 0),
        "cache_write_5m": max(0, writes - long_writes),
        "cache_write_1h": long_writes,
        "output": int(usage.get("outputTokens") or 0),
    }


def gemini_tokens(usage: Mapping[str, Any]) -> Dict[str, int]:
    """Billed token types of ``usageMetadata`` (the prompt count includes cached content; thoughts bill as output)."""
    prompt = int(usage.get("promptTokenCount") or 0)
    cached = int(usage.get("cachedContentTokenCount") or 0)
    output = int(usage.get("candidatesTokenCount") or 0) + int(usage.get("thoughtsTokenCount") or 0)
    return {"input": max(0, prompt - cached), "cache_read": cached, "output": output}


def openai_tokens(usage: Mapping[str, Any]) -> Dict[str, int]:
    """Billed token types of an OpenAI usage object (Chat Completions, Responses or Embeddings)."""
    prompt = int(usage.get("prompt_tokens", usage.get("input_tokens", 0)) or 0)
    details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0)
    writes = int(details.get("cache_write_tokens") or 0)
    output = int(usage.get("completion_tokens", usage.get("output_tokens", 0)) or 0)
    return {"input": max(0, prompt - cached - writes), "cache_read": cached, "cache_write_5m": writes, "output": output}


def anthropic_tokens(usage: Mapping[str, Any]) -> Dict[str, int]:
    """Billed token types of an Anthropic usage object (``input_tokens`` excludes cache parts)."""
    creation = usage.get("cache_creation") or {}
    writes = int(usage.get("cache_creation_input_tokens") or 0)
    long_writes = int(creation.get("ephemeral_1h_input_tokens") or 0)
    short = int(creation.get("ephemeral_5m_input_tokens") or max(0, writes - long_writes))
    return {
        "input": int(usage.get("input_tokens") or 0),
        "cache_read": int(usage.get("cache_read_input_tokens") or 0),
        "cache_write_5m": short,
        "cache_write_1h": long_writes,
        "output": int(usage.get("output_tokens") or 0),
    }


_RATE_FIELDS = {"input": "input", "cache_read": "cached_input", "cache_write_5m": "cache_write", "cache_write_1h": "cache_write_long", "output": "output"}
_CATALOG: List[Any] = []


def catalog_rate(provider: str, model: str, token_type: str, at: float) -> Optional[float]:
    """The built-in catalog's standard list rate (with its regional premium for regional Bedrock
    endpoints): what a vendor charges without a negotiated price."""
    if not _CATALOG:
        from ..core.config import Config
        from ..pricing.catalog import load_catalog

        _CATALOG.append(load_catalog(Config()))  # the built-in prices only: no user price files
    resolved = _CATALOG[0].resolve("gcp.vertex_ai" if provider == "gcp" else provider, model)
    if resolved is None or resolved.history is None or token_type not in _RATE_FIELDS:
        return None
    point = resolved.history.at(at)
    factor = point.regional_factor if resolved.regional else 1.0
    return float(getattr(point.standard, _RATE_FIELDS[token_type])) * factor
