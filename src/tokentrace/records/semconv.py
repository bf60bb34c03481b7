"""Attribute and metric names tokentrace emits.

The GenAI conventions moved out of the core semantic-conventions repository and the Python
constants for them are deprecated or missing (``cache_write`` has none), so tokentrace owns its
names here: one place to change when the conventions change.
"""

# GenAI semantic conventions (development stability).
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K = "gen_ai.request.top_k"
GEN_AI_REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED = "gen_ai.request.seed"
GEN_AI_REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
GEN_AI_REQUEST_STREAM = "gen_ai.request.stream"
GEN_AI_REQUEST_ENCODING_FORMATS = "gen_ai.request.encoding_formats"
GEN_AI_REQUEST_REASONING_LEVEL = "gen_ai.request.reasoning.level"
GEN_AI_OUTPUT_TYPE = "gen_ai.output.type"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_USAGE_AUDIO_INPUT_TOKENS = "gen_ai.usage.audio.input_tokens"
GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS = "gen_ai.usage.audio.output_tokens"
GEN_AI_USAGE_IMAGE_INPUT_TOKENS = "gen_ai.usage.image.input_tokens"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT = "gen_ai.embeddings.dimension.count"
GEN_AI_TOKEN_TYPE = "gen_ai.token.type"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_CONTENT_EVENT = "gen_ai.client.inference.operation.details"
# Proposed cost conventions (semantic-conventions-genai PR #443, open): emitted beside ours.
GEN_AI_USAGE_COST_AMOUNT = "gen_ai.usage.cost.amount"
GEN_AI_USAGE_COST_CURRENCY = "gen_ai.usage.cost.currency"
GEN_AI_USAGE_COST_SOURCE = "gen_ai.usage.cost.source"

SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"

OPENAI_REQUEST_SERVICE_TIER = "openai.request.service_tier"
OPENAI_RESPONSE_SERVICE_TIER = "openai.response.service_tier"
OPENAI_RESPONSE_SYSTEM_FINGERPRINT = "openai.response.system_fingerprint"
OPENAI_API_TYPE = "openai.api.type"

# tokentrace's own namespace (the contract in DESIGN.md).
TT_COST_USD = "tokentrace.cost.usd"
TT_COST_STATUS = "tokentrace.cost.status"
TT_COST_MODEL = "tokentrace.cost.model"
TT_USAGE_SOURCE = "tokentrace.usage.source"
TT_USAGE_ESTIMATOR = "tokentrace.usage.estimator"
TT_MODEL_REROUTED = "tokentrace.model.rerouted"
#: ``same``, ``rerouted`` or ``unknown``: the reroute decision, including "cannot tell"
#: (``tokentrace.model.rerouted`` is only set when it could be told).
TT_MODEL_MATCH = "tokentrace.model.match"
MODEL_MATCH_SAME = "same"
MODEL_MATCH_REROUTED = "rerouted"
MODEL_MATCH_UNKNOWN = "unknown"
#: The model a tokentrace policy sent instead of the requested one (downgrade, rewrite).
TT_MODEL_POLICY = "tokentrace.model.policy"
#: SDK retries of the call, and attempts the provider may have billed without the app seeing an answer.
TT_RETRIES = "tokentrace.retries"
TT_POSSIBLY_BILLED_ATTEMPTS = "tokentrace.attempts.possibly_billed"
TT_SERVICE_TIER = "tokentrace.service_tier"
#: True when the call was settled before it ended (a stream still open at exit): what is known.
TT_CALL_INCOMPLETE = "tokentrace.call.incomplete"
#: True on a call answered before it was billed (an OpenAI background response still ``queued``):
#: its usage is recorded once, on the span that settles it (linked to this one), when tokentrace
#: first sees the finished work; with no such span, no usage was observable.
TT_USAGE_DEFERRED = "tokentrace.usage.deferred"
#: What was wrong with the numbers a provider reported (``input_tokens:fractional`` ...).
TT_USAGE_INVALID = "tokentrace.usage.invalid"

# Metric names.
METRIC_TOKEN_USAGE = "gen_ai.client.token.usage"
METRIC_OPERATION_DURATION = "gen_ai.client.operation.duration"
METRIC_TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
METRIC_TT_TOKENS = "tokentrace.tokens"
#: ``gen_ai.token.type`` of tokentrace.tokens for the long-TTL cache writes (a subset of
#: ``cache_write``, as ``cache_read`` is of ``input``): Anthropic's 1 h writes, priced apart.
TOKEN_TYPE_CACHE_WRITE_LONG = "cache_write_1h"
METRIC_TT_COST = "tokentrace.cost"
METRIC_TT_CALLS = "tokentrace.calls"
#: Warnings tokentrace left out of the logs (one line per cause per interval, this counts the rest).
METRIC_TT_WARNINGS_SUPPRESSED = "tokentrace.warnings.suppressed"

# Bucket advice from the GenAI metric conventions.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)

# Cost statuses.
COST_PRICED = "priced"
COST_PROVIDER_REPORTED = "provider_reported"
COST_UNKNOWN_MODEL = "unknown_model"
COST_NO_USAGE = "no_usage"
COST_ERROR = "error"
#: Answered before billed (``tokentrace.usage.deferred``): the cost is on the settling span.
COST_DEFERRED = "deferred"
#: The provider reported token counts that cannot be right (fractional, negative, huge, subsets
#: larger than their totals): not priced, never a silent $0.
COST_INVALID_USAGE = "invalid_usage"
#: A reported or computed cost that cannot be right (negative, NaN, absurdly large).
COST_INVALID_COST = "invalid_cost"

# -- what the conformance test (tests/semconv_conformance.py) accepts beside the registry -----------
#: ``gen_ai.*`` names tokentrace emits that the Python registry constants lack: adopted in the GenAI
#: repository after the constants were frozen (``cache_write``, per-modality usage, reasoning level)
#: or proposed in an open pull request (the ``gen_ai.usage.cost.*`` names, PR #443).
PROPOSED_NAMES = frozenset(
    {
        GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
        GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
        GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
        GEN_AI_USAGE_AUDIO_INPUT_TOKENS,
        GEN_AI_USAGE_AUDIO_OUTPUT_TOKENS,
        GEN_AI_USAGE_IMAGE_INPUT_TOKENS,
        GEN_AI_REQUEST_REASONING_LEVEL,
        GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
        GEN_AI_USAGE_COST_AMOUNT,
        GEN_AI_USAGE_COST_CURRENCY,
        GEN_AI_USAGE_COST_SOURCE,
        GEN_AI_CONTENT_EVENT,
        # The OpenTelemetry metrics SDK's overflow series (past a counter's cardinality limit):
        # tokentrace's own counters use it the way the SDK's instruments do.
        "otel.metric.overflow",
    }
)
#: ``gen_ai.operation.name`` values for operations the registry has no member for (the attribute
#: is an open enum): Cohere's rerank, billed in search units.
PROPOSED_OPERATIONS = frozenset({"rerank"})
#: tokentrace's own namespace: every name under it is tokentrace's (the contract names are in
#: DESIGN.md and the README's attribute and metric tables).
OWN_NAMESPACES = ("tokentrace.",)
#: Provider-specific attributes live in the provider's namespace, as the conventions' provider
#: refinements do (``openai.*``, ``aws.bedrock.*``); these are the adapters' namespaces.
PROVIDER_NAMESPACES = ("openai.", "anthropic.", "aws.bedrock.", "cohere.", "groq.", "ollama.", "litellm.", "mistral.", "gcp.", "azure.")
