"""LiteLLM (``litellm``) calls as call records: one record per ``completion`` / ``embedding``,
whatever provider LiteLLM routes to.

LiteLLM returns OpenAI-shaped objects whatever the provider: ``ModelResponse.usage`` has
``prompt_tokens`` including cached tokens (``prompt_tokens_details.cached_tokens``; for
Anthropic LiteLLM adds cache reads and writes into ``prompt_tokens`` and reports the writes as
``cache_creation_input_tokens``) and ``completion_tokens`` including reasoning. The provider comes
from LiteLLM's own routing (``custom_llm_provider``), mapped to the OpenTelemetry names tokentrace
uses elsewhere, so a call priced through LiteLLM is priced exactly as the same call made through
the provider's SDK. LiteLLM's ``response_cost`` is kept only as a fallback for models tokentrace
has no price for (``CallRecord.gateway_cost_usd``), and never when it is 0 (LiteLLM's map says 0
for local and unknown models).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from ...core import numbers
from ...records.call import CallRecord, Usage
from .. import chatlike
from ..openai import extract as openai_extract
from ..values import field, token_count

#: LiteLLM ``custom_llm_provider`` -> ``gen_ai.provider.name``.
PROVIDERS = {
    "openai": "openai", "text-completion-openai": "openai", "azure": "azure.ai.openai", "azure_text": "azure.ai.openai",
    "azure_ai": "azure.ai.inference", "anthropic": "anthropic", "bedrock": "aws.bedrock", "bedrock_converse": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai", "vertex_ai_beta": "gcp.vertex_ai", "gemini": "gcp.gemini", "mistral": "mistral_ai",
    "codestral": "mistral_ai", "cohere": "cohere", "cohere_chat": "cohere", "groq": "groq", "ollama": "ollama",
    "ollama_chat": "ollama", "deepseek": "deepseek", "xai": "x_ai", "openrouter": "openrouter", "together_ai": "together_ai",
    "fireworks_ai": "fireworks_ai", "perplexity": "perplexity", "hosted_vllm": "vllm", "vllm": "vllm",
}
PROVIDER_ATTRIBUTE = "litellm.provider"
GATEWAY_COST = "litellm.response_cost"


def route(kwargs: Mapping[str, Any]) -> Tuple[Optional[str], str, Optional[str]]:
    """(model without LiteLLM's routing prefix, provider name, api_base) of a call, as LiteLLM resolves it."""
    import litellm

    model = kwargs.get("model")
    if not isinstance(model, str) or not model:
        return None, "litellm", None
    api_base = kwargs.get("api_base") or kwargs.get("base_url")
    try:
        name, provider, _, base = litellm.get_llm_provider(model=model, custom_llm_provider=kwargs.get("custom_llm_provider"),
                                                           api_base=api_base if isinstance(api_base, str) else None)
    except Exception:  # LiteLLM raises for models it cannot route: the call itself will say so
        return model, "litellm", api_base if isinstance(api_base, str) else None
    return name, PROVIDERS.get(provider, provider), base if isinstance(base, str) else (api_base if isinstance(api_base, str) else None)


def completion_request(stream_default: bool = False) -> Any:
    def build(module: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> CallRecord:
        call_kwargs = dict(kwargs)
        if args:
            call_kwargs.setdefault("model", args[0])
            if len(args) > 1:
                call_kwargs.setdefault("messages", args[1])
        model, provider, base = route(call_kwargs)
        body = chatlike.keyword_body(call_kwargs, ("messages", "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop",
                                                   "seed", "n", "frequency_penalty", "presence_penalty", "reasoning_effort", "response_format"))
        if model:
            body["model"] = model
        record = chatlike.chat_record(provider, chatlike.target_of(base, provider), body, capture, stream=bool(call_kwargs.get("stream", stream_default)))
        record.request_attributes[PROVIDER_ATTRIBUTE] = str(call_kwargs.get("custom_llm_provider") or provider)
        return record

    return build


def embedding_request(module: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any], capture: bool) -> CallRecord:
    call_kwargs = dict(kwargs)
    if args:
        call_kwargs.setdefault("model", args[0])
    model, provider, base = route(call_kwargs)
    return chatlike.embedding_record(provider, chatlike.target_of(base, provider), model, call_kwargs.get("input"))


def usage(raw: Any) -> Optional[Usage]:
    found = openai_extract.completion_usage(raw)
    if found is None:
        return None
    if numbers.unreported(found.cache_write_tokens):
        found.cache_write_tokens = token_count(field(raw, "cache_creation_input_tokens"))
    if numbers.unreported(found.cache_read_tokens):
        found.cache_read_tokens = token_count(field(raw, "cache_read_input_tokens"))
    return found


def gateway_cost(response: Any) -> Optional[float]:
    hidden = getattr(response, "_hidden_params", None)
    cost = hidden.get("response_cost") if isinstance(hidden, Mapping) else None
    amount = numbers.reported_cost(cost)
    return amount if amount != 0 else None  # 0: LiteLLM does not know the price


def fill_completion(record: CallRecord, response: Any, capture: bool) -> None:
    """``ModelResponse``."""
    openai_extract.fill_chat(record, response, capture)
    record.provider_cost_usd = None
    record.usage = usage(field(response, "usage"))
    _gateway(record, response)


def fill_embedding(record: CallRecord, response: Any, capture: bool) -> None:
    """``EmbeddingResponse``."""
    openai_extract.fill_embeddings(record, response)
    _gateway(record, response)


def _gateway(record: CallRecord, response: Any) -> None:
    cost = gateway_cost(response)
    if cost is not None:
        record.gateway_cost_usd = cost
        record.response_attributes[GATEWAY_COST] = cost


def read_chunk(record: CallRecord, chunk: Any) -> Any:
    """One ``ModelResponseStream``: model and id once; usage when LiteLLM attaches it."""
    if record.response_model is None:
        model = field(chunk, "model")
        if isinstance(model, str) and model:
            record.response_model = model
        chunk_id = field(chunk, "id")
        if isinstance(chunk_id, str) and chunk_id:
            record.response_id = chunk_id
    raw = getattr(chunk, "usage", None)
    if raw is not None:
        record.usage = usage(raw)
    return field(chunk, "choices")


