"""The provider-neutral description of one LLM call.

Provider adapters fill a :class:`CallRecord`; everything after that (span, metrics, cost,
attribution, budgets, rerouting) is done once, in the core, from the record alone. The record
therefore states usage in one canonical shape, whatever the provider's own conventions are:

* ``input_tokens`` is the *total* prompt, cache reads and cache writes included (OpenAI already
  reports it so; Anthropic and Bedrock report ``input_tokens`` without the cache parts, and their
  adapters add them up).
* ``cache_read_tokens`` and ``cache_write_tokens`` are subsets of ``input_tokens``;
  ``cache_write_long_tokens`` is the part of the writes with the long TTL (Anthropic 1 h,
  OpenAI 12 h), itself a subset of ``cache_write_tokens``.
* ``output_tokens`` is the total output, reasoning/thinking included; ``reasoning_tokens`` is a
  subset of it.
* the audio/image counts are subsets of the matching totals, for models that price them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

USAGE_SOURCE_PROVIDER = "provider"
USAGE_SOURCE_ESTIMATE = "estimate"


@dataclass(slots=True)
class Usage:
    """Token counts of one call, in the canonical shape described in the module docstring."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_long_tokens: int = 0
    reasoning_tokens: int = 0
    input_audio_tokens: int = 0
    output_audio_tokens: int = 0
    input_image_tokens: int = 0

    @property
    def uncached_input_tokens(self) -> int:
        """Prompt tokens billed at the plain input rate (never negative, even for odd reports)."""
        return max(0, self.input_tokens - self.cache_read_tokens - self.cache_write_tokens)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def by_type(self) -> Dict[str, int]:
        """Counts keyed by the ``gen_ai.token.type`` values tokentrace's token counter uses."""
        return {
            "input": self.input_tokens,
            "output": self.output_tokens,
            "cache_read": self.cache_read_tokens,
            "cache_write": self.cache_write_tokens,
            "reasoning": self.reasoning_tokens,
        }


@dataclass(slots=True)
class CallRecord:
    """Everything tokentrace knows about one call, filled in two steps by an adapter.

    The request half (provider, operation, models requested, server, parameters) is known before
    the call is sent and is what the span starts with (these are the sampling-relevant
    attributes). The response half is filled when the response, or the last stream event, arrives.
    """

    provider: str
    operation: str
    request_model: Optional[str] = None
    server_address: Optional[str] = None
    server_port: Optional[int] = None
    stream: bool = False
    #: Semconv request attributes (``gen_ai.request.*`` and provider refinements) the adapter read.
    request_attributes: Dict[str, Any] = field(default_factory=dict)
    #: Batch processing (priced at batch rates where the catalog has them).
    batch: bool = False
    #: Builds the prompt's text on demand (budget projections); never called on the hot path.
    prompt_text: Optional[Callable[[], str]] = None
    #: The model a tokentrace policy chose instead of ``request_model`` (a budget's downgrade, a
    #: model policy's rewrite). Set by observers before the request is sent; adapters send this
    #: model, and the span keeps ``request_model`` as what the application asked for.
    policy_model: Optional[str] = None
    #: The adapter can send another model than the app asked for (it applies ``policy_model``).
    #: Where it cannot, a downgrade or rewrite blocks the call instead of claiming a model it
    #: did not send.
    model_rewritable: bool = False

    response_model: Optional[str] = None
    response_id: Optional[str] = None
    finish_reasons: List[str] = field(default_factory=list)
    usage: Optional[Usage] = None
    usage_source: str = USAGE_SOURCE_PROVIDER
    #: Service tier as the *response* reports it (flex, priority, default, ...).
    service_tier: Optional[str] = None
    #: A charge the provider or gateway itself reported (OpenRouter ``usage.cost``), in USD.
    provider_cost_usd: Optional[float] = None
    #: A cost a gateway computed from its own price map (LiteLLM's ``response_cost``), in USD:
    #: used only when the catalog has no price for the model, never instead of one.
    gateway_cost_usd: Optional[float] = None
    #: The call was answered before it was billed (a queued background response): its usage is
    #: recorded later, on the span that settles it; never estimated here, never priced at $0.
    usage_deferred: bool = False
    #: Provider-specific response attributes (``openai.response.service_tier`` ...).
    response_attributes: Dict[str, Any] = field(default_factory=dict)

    #: Attempts the SDK retried on its own, and how many of them may have been billed: a timeout
    #: or a dropped connection (the provider may have processed the request), or the call's own
    #: last attempt failing that way. An HTTP error answer (429, 5xx) is retried but not billed.
    retries: int = 0
    possibly_billed_attempts: int = 0
    #: The application closed or dropped the stream before its end and before its usage arrived:
    #: the provider bills the output it generated after the app stopped reading (reconcile's
    #: "possibly billed", bounded by ``gen_ai.request.max_tokens``).
    stream_cut: bool = False

    #: Opt-in content, already in the semconv JSON message shape; only filled when capture is on.
    input_messages: Optional[List[Dict[str, Any]]] = None
    output_messages: Optional[List[Dict[str, Any]]] = None
    system_instructions: Optional[List[Dict[str, Any]]] = None
    #: Text to count locally when the provider reports no usage (prompt, completion).
    estimate_input_text: Optional[str] = None
    estimate_output_text: Optional[str] = None
    #: Length of the whole output when ``estimate_output_text`` is only a sample of it (or empty:
    #: a stream that would have reported usage keeps no text), for an extrapolated count.
    estimate_output_chars: Optional[int] = None

    @property
    def model(self) -> Optional[str]:
        """The model to price and report: the one that answered, else the one requested."""
        return self.response_model or self.policy_model or self.request_model

    @property
    def sent_model(self) -> Optional[str]:
        """The model the request actually named: the policy's choice, else the application's."""
        return self.policy_model or self.request_model
