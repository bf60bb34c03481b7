"""Anthropic-specific attribute names, spelled as the ``anthropic`` SDK's own spans spell them.

Kept beside the adapter (the provider-neutral names live in :mod:`tokentrace.records.semconv`), and
named like the SDK's native spans so a dashboard built on either keeps working.
"""

REQUEST_SERVICE_TIER = "anthropic.request.service_tier"
RESPONSE_SERVICE_TIER = "anthropic.response.service_tier"
THINKING_TYPE = "anthropic.thinking.type"
THINKING_BUDGET_TOKENS = "anthropic.thinking.budget_tokens"
STOP_REASON = "anthropic.message.stop_reason"
REQUEST_ID = "anthropic.request.id"
CACHE_WRITE_5M = "anthropic.usage.cache_creation.ephemeral_5m_input_tokens"
CACHE_WRITE_1H = "anthropic.usage.cache_creation.ephemeral_1h_input_tokens"
SPEED = "anthropic.usage.speed"
INFERENCE_GEO = "anthropic.usage.inference_geo"
