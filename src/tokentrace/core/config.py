"""Configuration: keyword options to ``instrument()`` over ``TOKENTRACE_*`` / ``OTEL_*`` variables.

A keyword option wins over its environment variable, which wins over the default. A value that
cannot be understood is reported in words that name the option and what was expected; by default
tokentrace then carries on with the default for that option (the application must start), and
with ``strict=True`` (or ``TOKENTRACE_STRICT=true``) it raises :class:`ConfigError` instead.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ..records.errors import ConfigError

logger = logging.getLogger("tokentrace")

CONTENT_MODES = ("NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT")




def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def parse_content_mode(raw: Any) -> str:
    """Accept the util-genai values, and true/false as older instrumentations did."""
    if isinstance(raw, bool):
        return "SPAN_ONLY" if raw else "NO_CONTENT"
    text = str(raw).strip().upper()
    if text in CONTENT_MODES:
        return text
    if text in ("TRUE", "1", "YES", "ON"):
        return "SPAN_ONLY"
    if text in ("FALSE", "0", "NO", "OFF", ""):
        return "NO_CONTENT"
    raise ValueError(f"expected one of {', '.join(CONTENT_MODES)}, got {raw!r}")


def parse_str_list(raw: Any) -> Tuple[str, ...]:
    if isinstance(raw, str):
        items = [part.strip() for part in raw.split(",")]
    else:
        items = [str(part).strip() for part in raw]
    return tuple(item for item in items if item)


#: The ``providers=`` names, as the provider registry knows them (kept equal by a test).
PROVIDER_NAMES = ("openai", "anthropic", "google_genai", "bedrock", "mistral", "cohere", "groq", "ollama", "azure_ai_inference", "litellm",
                  "aiobotocore", "vertexai")
#: Other spellings people use for the same adapters (package, SDK or product names).
PROVIDER_ALIASES = {
    "google-genai": "google_genai",
    "google.genai": "google_genai",
    "genai": "google_genai",
    "gemini": "google_genai",
    "google": "google_genai",
    "vertex_ai": "google_genai",
    "boto3": "bedrock",
    "botocore": "bedrock",
    "aws": "bedrock",
    "aws_bedrock": "bedrock",
    "aws.bedrock": "bedrock",
    "bedrock-runtime": "bedrock",
    "bedrock_runtime": "bedrock",
    "azure": "openai",
    "azure_openai": "openai",
    "mistralai": "mistral",
    "mistral_ai": "mistral",
    "cohere_ai": "cohere",
    "cohere-ai": "cohere",
    "azure-ai-inference": "azure_ai_inference",
    "azure.ai.inference": "azure_ai_inference",
    "async_bedrock": "aiobotocore",
    "aiplatform": "vertexai",
    "google-cloud-aiplatform": "vertexai",
    "vertexai.generative_models": "vertexai",
}


class PartialValue(ValueError):
    """A value with a bad part: ``usable`` is what can still be used (None: use the default)."""

    def __init__(self, message: str, usable: Any, consequence: Optional[str]) -> None:
        super().__init__(message)
        self.usable = usable
        self.consequence = consequence


def parse_providers(raw: Any) -> Tuple[str, ...]:
    """Provider names, case-insensitive, aliases accepted; an unknown one says what was meant.

    The error names every unknown entry with a did-you-mean suggestion, so ``opneai`` or
    ``bogus`` is not silently an empty selection.
    """
    import difflib

    names = parse_str_list(raw)
    known: List[str] = []
    unknown: List[str] = []
    for name in names:
        key = name.strip().lower().replace(" ", "_")
        canonical = key if key in PROVIDER_NAMES else PROVIDER_ALIASES.get(key)
        if canonical is None:
            close = difflib.get_close_matches(key, [*PROVIDER_NAMES, *PROVIDER_ALIASES], n=1, cutoff=0.6)
            hint = f" (did you mean {PROVIDER_ALIASES.get(close[0], close[0])!r}?)" if close else ""
            unknown.append(f"{name!r}{hint}")
        elif canonical not in known:
            known.append(canonical)
    if unknown:
        raise PartialValue(
            f"unknown provider name(s) {', '.join(unknown)}; known providers are {', '.join(PROVIDER_NAMES)}",
            tuple(known) or None,
            f"instrumenting only {', '.join(known)}" if known else None,
        )
    if not known:
        raise ValueError(f"no provider named; known providers are {', '.join(PROVIDER_NAMES)}")
    return tuple(known)


def parse_mapping(raw: Any) -> Dict[str, str]:
    """``a=b,c=d`` from the environment, or a mapping from code."""
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    result: Dict[str, str] = {}
    for part in str(raw).split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"expected name=value pairs separated by commas, got {part!r}")
        key, value = part.split("=", 1)
        result[key.strip()] = value.strip()
    return result


def parse_positive_int(raw: Any) -> int:
    try:
        value = int(str(raw).strip()) if not isinstance(raw, (bool, float)) else None
    except ValueError:
        value = None
    if value is None or value <= 0:
        raise ValueError(f"expected a positive whole number, got {raw!r}")
    if value > MAX_CONFIG_INT:
        raise ValueError(f"expected a positive whole number of at most {MAX_CONFIG_INT:,}, got {raw!r}")
    return value


#: Largest whole number a count-like option takes (a cardinality limit of 10**30 is a typo).
MAX_CONFIG_INT = 10**9


#: The attribution keys with a name of their own; any other key given to ``attribute()`` is a tag.
STANDARD_ATTRIBUTION_KEYS = ("team", "feature", "workflow", "agent_step", "task", "tenant", "user")
#: What a tag name may look like (it becomes ``tokentrace.tag.<name>`` and a Prometheus label).
ATTRIBUTION_TAG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


def parse_attribution_keys(raw: Any) -> Tuple[str, ...]:
    """Attribution keys for metrics: standard keys or tag names; every bad entry is named.

    ``team,,bad-key!`` keeps ``team`` and says that ``bad-key!`` and the empty entry were dropped,
    instead of accepting them silently (an empty key or one Prometheus cannot carry would never
    match anything).
    """
    parts = [part.strip() for part in (raw.split(",") if isinstance(raw, str) else [str(p) for p in raw])]
    good: List[str] = []
    bad: List[str] = []
    for part in parts:
        if not part:
            bad.append("an empty name (two commas in a row?)")
        elif part not in STANDARD_ATTRIBUTION_KEYS and not ATTRIBUTION_TAG_KEY.match(part):
            bad.append(f"{part!r}")
        elif part not in good:
            good.append(part)
    if bad:
        raise PartialValue(
            f"not an attribution key: {', '.join(bad)}; use {', '.join(STANDARD_ATTRIBUTION_KEYS)} or a tag name "
            "(a letter, then up to 63 letters, digits, '_', '.' or '-')",
            tuple(good) or None,
            f"using {','.join(good)} only" if good else None,
        )
    return tuple(good)


def parse_ledger(raw: Any) -> Optional[str]:
    """A file path for the spend ledger, or off (``false``, ``off``, ``0``, ``none``)."""
    if raw is False:
        return None
    text = os.fspath(raw) if isinstance(raw, os.PathLike) else str(raw)
    text = text.strip()
    if text.lower() in ("", "0", "false", "off", "no", "none"):
        return None
    return os.path.expanduser(text)


def _identity(raw: Any) -> Any:
    return raw


def _opt(env: Optional[str], parser: Callable[[Any], Any] = _identity, default: Any = None, **kw: Any) -> Any:
    if "default_factory" in kw:
        return field(metadata={"env": env, "parser": parser}, **kw)
    return field(default=default, metadata={"env": env, "parser": parser}, **kw)


@dataclass
class Config:
    """All of tokentrace's options; see the README's configuration table for each one's meaning."""

    tracer_provider: Any = _opt(None)
    meter_provider: Any = _opt(None)
    configure_sdk: bool = _opt("TOKENTRACE_CONFIGURE_SDK", parse_bool, True)
    capture_content: str = _opt("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", parse_content_mode, "NO_CONTENT")
    stream_usage: bool = _opt("TOKENTRACE_STREAM_USAGE", parse_bool, True)
    estimate_usage: bool = _opt("TOKENTRACE_ESTIMATE_USAGE", parse_bool, True)
    #: Let tiktoken download an encoding that is neither installed nor cached (core/encodings.py).
    download_encodings: bool = _opt("TOKENTRACE_DOWNLOAD_ENCODINGS", parse_bool, False)
    providers: Optional[Tuple[str, ...]] = _opt("TOKENTRACE_PROVIDERS", parse_providers, None)
    azure_deployments: Dict[str, str] = _opt("TOKENTRACE_AZURE_DEPLOYMENTS", parse_mapping, default_factory=dict)
    prices: Any = _opt("TOKENTRACE_PRICES", _identity, None)
    strict: bool = _opt("TOKENTRACE_STRICT", parse_bool, False)
    metric_attributes: Tuple[str, ...] = _opt(
        "TOKENTRACE_METRIC_ATTRIBUTES", parse_attribution_keys, ("team", "feature", "workflow")
    )
    metric_value_limit: int = _opt("TOKENTRACE_METRIC_VALUE_LIMIT", parse_positive_int, 100)
    propagate_baggage: bool = _opt("TOKENTRACE_PROPAGATE_BAGGAGE", parse_bool, True)
    trust_inbound_baggage: bool = _opt("TOKENTRACE_TRUST_INBOUND_BAGGAGE", parse_bool, False)
    user_hash_key: Optional[str] = _opt("TOKENTRACE_USER_HASH_KEY", str, None)
    budgets: Any = _opt("TOKENTRACE_BUDGETS", _identity, None)
    budget_store: Any = _opt("TOKENTRACE_BUDGET_STORE", _identity, None)
    model_policies: Any = _opt("TOKENTRACE_MODEL_POLICIES", _identity, None)
    ledger: Optional[str] = _opt("TOKENTRACE_LEDGER", parse_ledger, None)
    ledger_bucket: int = _opt("TOKENTRACE_LEDGER_BUCKET", parse_positive_int, 60)
    anomaly: Any = _opt("TOKENTRACE_ANOMALY", _identity, None)
    #: Name of the price source/snapshot, filled by the pricing package.
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def capture_on_span(self) -> bool:
        return self.capture_content in ("SPAN_ONLY", "SPAN_AND_EVENT")

    @property
    def capture_as_event(self) -> bool:
        return self.capture_content in ("EVENT_ONLY", "SPAN_AND_EVENT")

    @property
    def capture_any(self) -> bool:
        return self.capture_content != "NO_CONTENT"


def option_names() -> List[str]:
    return [f.name for f in fields(Config) if f.name != "extra"]


def build_config(options: Mapping[str, Any], environ: Optional[Mapping[str, str]] = None) -> Config:
    """Build a :class:`Config`, reporting each bad value once and in words a user understands."""
    environ = os.environ if environ is None else environ
    unknown = sorted(set(options) - set(option_names()))
    strict = _strictness(options, environ)
    problems: List[Tuple[str, str]] = []
    if unknown:
        problems.append((
            f"unknown option(s) {', '.join(unknown)} passed to tokentrace.instrument(); "
            f"known options are: {', '.join(option_names())}",
            "they are ignored",
        ))
    values: Dict[str, Any] = {}
    for f in fields(Config):
        if f.name == "extra":
            continue
        env, parser = f.metadata.get("env"), f.metadata.get("parser", _identity)
        if f.name in options and options[f.name] is not None:
            raw, origin = options[f.name], f"option {f.name}="
        elif env and environ.get(env) not in (None, ""):
            raw, origin = environ[env], f"environment variable {env}"
        else:
            continue
        try:
            values[f.name] = parser(raw)
        except PartialValue as exc:
            if exc.usable is not None:
                values[f.name] = exc.usable
            problems.append((f"{origin}: {exc}", exc.consequence or _using_default(f)))
        except (TypeError, ValueError) as exc:
            problems.append((f"{origin}: {exc}", _using_default(f)))
    if problems:
        if strict:  # nothing is "used instead": instrument() stops here
            raise ConfigError("tokentrace configuration problem (strict mode): " + "; ".join(p for p, _ in problems))
        logger.error("tokentrace configuration problem: " + "; ".join(f"{p}; {c}" for p, c in problems))
    return Config(**values)


#: How to say a default whose value alone would not tell the user what happens.
_DEFAULT_WORDS = {
    "providers": "every installed SDK",
    "prices": "the built-in prices",
    "user_hash_key": "a random key per process",
    "budgets": "no budgets",
    "budget_store": "memory",
    "ledger": "off",
}


def _using_default(f: Any) -> str:
    """``using the default (100) instead``: the message says what the default is."""
    if f.name in _DEFAULT_WORDS:
        words = _DEFAULT_WORDS[f.name]
    else:
        default = f.default if f.default is not MISSING else (f.default_factory() if f.default_factory is not MISSING else None)
        if isinstance(default, bool):
            words = "true" if default else "false"
        elif isinstance(default, (tuple, list)):
            words = ",".join(str(item) for item in default) or "none"
        elif default is None or default == {}:
            words = "none"
        else:
            words = str(default)
    return f"using the default ({words}) instead"


def _strictness(options: Mapping[str, Any], environ: Mapping[str, str]) -> bool:
    try:
        if "strict" in options and options["strict"] is not None:
            return parse_bool(options["strict"])
        return parse_bool(environ.get("TOKENTRACE_STRICT", "false"))
    except ValueError:
        return False
