"""Checks spans and metrics against the GenAI semantic-convention registry.

The registry is what ``opentelemetry-semantic-conventions`` ships (every attribute and metric
constant, the enum members of ``gen_ai.operation.name``, ``gen_ai.provider.name``,
``gen_ai.output.type``, ``gen_ai.token.type``); the attribute types are the registry's (not in the
Python constants, so listed here from the conventions' YAML). Beside the registry only the names
``tokentrace.records.semconv`` documents are accepted: ``PROPOSED_NAMES`` (adopted after the
constants were frozen, or proposed), tokentrace's own namespace and the adapters' provider
namespaces. tokentrace's ``tests/conftest.py`` runs :func:`check_spans` / :func:`check_metrics`
over every span and metric the whole suite emitted and fails the run on a violation; an
application's own tests can do the same with their in-memory exporter and reader.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any, Dict, Iterable, List, Set

from opentelemetry.sdk.metrics.export import Histogram
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as ga

from tokentrace.core import finish_reasons
from tokentrace.records import semconv as sc


def _constants(package: str) -> Set[str]:
    names: Set[str] = set()
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        sub = importlib.import_module(f"{package}.{info.name}")
        names.update(v for k, v in vars(sub).items() if k.isupper() and isinstance(v, str) and "." in v)
    return names


REGISTRY_ATTRIBUTES = _constants("opentelemetry.semconv._incubating.attributes") | _constants("opentelemetry.semconv.attributes")
REGISTRY_METRICS = _constants("opentelemetry.semconv._incubating.metrics")

_INT, _FLOAT, _BOOL, _STR, _STRS = int, float, bool, str, "string[]"
TYPES: Dict[str, Any] = {
    "gen_ai.request.max_tokens": _INT, "gen_ai.request.seed": _INT, "gen_ai.request.choice.count": _INT,
    "gen_ai.request.top_k": _INT, "gen_ai.embeddings.dimension.count": _INT, "server.port": _INT,
    "gen_ai.request.temperature": _FLOAT, "gen_ai.request.top_p": _FLOAT, "gen_ai.request.frequency_penalty": _FLOAT,
    "gen_ai.request.presence_penalty": _FLOAT, "gen_ai.response.time_to_first_chunk": _FLOAT, "gen_ai.usage.cost.amount": _FLOAT,
    "gen_ai.request.stream": _BOOL,
    "gen_ai.operation.name": _STR, "gen_ai.provider.name": _STR, "gen_ai.request.model": _STR, "gen_ai.response.model": _STR,
    "gen_ai.response.id": _STR, "gen_ai.output.type": _STR, "gen_ai.request.reasoning.level": _STR, "gen_ai.token.type": _STR,
    "gen_ai.usage.cost.currency": _STR, "gen_ai.usage.cost.source": _STR, "gen_ai.input.messages": _STR,
    "gen_ai.output.messages": _STR, "gen_ai.system_instructions": _STR, "gen_ai.agent.name": _STR, "gen_ai.workflow.name": _STR,
    "server.address": _STR, "error.type": _STR,
    "gen_ai.response.finish_reasons": _STRS, "gen_ai.request.stop_sequences": _STRS, "gen_ai.request.encoding_formats": _STRS,
}
#: Every token count is an int.
_TOKEN_COUNT = re.compile(r"^gen_ai\.usage\.(?:[a-z_]+\.)*(?:input|output)_tokens$")

OPERATIONS = {v.value for v in ga.GenAiOperationNameValues} | {
    "fetch_response", "plan", "create_memory", "create_memory_store", "delete_memory", "delete_memory_store",
    "search_memory", "update_memory", "upsert_memory",
} | sc.PROPOSED_OPERATIONS
PROVIDERS = {v.value for v in ga.GenAiProviderNameValues} | {"moonshot_ai"}
OUTPUT_TYPES = {v.value for v in ga.GenAiOutputTypeValues}
TOKEN_TYPES = {"input", "output"}
METRIC_SHAPES = {
    "gen_ai.client.token.usage": (Histogram, "{token}"),
    "gen_ai.client.operation.duration": (Histogram, "s"),
    "gen_ai.client.operation.time_to_first_chunk": (Histogram, "s"),
    "gen_ai.client.operation.time_per_output_chunk": (Histogram, "s"),
}


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_SQUASHED_PROVIDERS = {_squash(p): p for p in PROVIDERS}


def name_problem(name: str) -> str:
    if name in REGISTRY_ATTRIBUTES or name in sc.PROPOSED_NAMES:
        return ""
    if name.startswith(sc.OWN_NAMESPACES) or name.startswith(sc.PROVIDER_NAMESPACES):
        return ""
    return f"attribute {name!r} is neither in the GenAI registry nor in tokentrace's documented names"


def value_problems(name: str, value: Any) -> List[str]:
    problems: List[str] = []
    expected = TYPES.get(name) or (_INT if _TOKEN_COUNT.match(name) else None)
    if expected == _STRS:
        if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
            problems.append(f"{name} must be string[], got {value!r}")
    elif expected is _INT and (isinstance(value, bool) or not isinstance(value, int)):
        problems.append(f"{name} must be int, got {type(value).__name__} {value!r}")
    elif expected is _FLOAT and (isinstance(value, bool) or not isinstance(value, float)):
        problems.append(f"{name} must be double, got {type(value).__name__} {value!r}")
    elif expected is not None and expected not in (_INT, _FLOAT) and not isinstance(value, expected):
        problems.append(f"{name} must be {expected.__name__}, got {type(value).__name__} {value!r}")
    if name == "gen_ai.operation.name" and value not in OPERATIONS:
        problems.append(f"gen_ai.operation.name {value!r} is not a registry operation")
    if name == "gen_ai.provider.name" and isinstance(value, str) and value not in PROVIDERS:
        spelled = _SQUASHED_PROVIDERS.get(_squash(value))
        if spelled:
            problems.append(f"gen_ai.provider.name {value!r} must be spelled as the registry does: {spelled!r}")
    if name == "gen_ai.output.type" and value not in OUTPUT_TYPES:
        problems.append(f"gen_ai.output.type {value!r} is not a registry member")
    if name == "gen_ai.response.finish_reasons" and isinstance(value, (tuple, list)):
        for reason in value:
            if finish_reasons.normalize(reason) != reason:
                problems.append(f"finish reason {reason!r} is not normalized")
    return problems


def check_attributes(where: str, attributes: Dict[str, Any]) -> List[str]:
    problems: List[str] = []
    for name, value in attributes.items():
        for problem in [name_problem(name), *value_problems(name, value)]:
            if problem:
                problems.append(f"{where}: {problem}")
    return problems


def check_spans(spans: Iterable[Any]) -> List[str]:
    problems: List[str] = []
    for span in spans:
        attributes = dict(span.attributes or {})
        if "gen_ai.operation.name" not in attributes and not any(k.startswith("tokentrace.") for k in attributes):
            continue  # not tokentrace's span (an HTTP client span of another instrumentation)
        problems.extend(check_attributes(f"span {span.name!r}", attributes))
    return problems


def check_metrics(data: Any) -> List[str]:
    problems: List[str] = []
    if data is None:
        return problems
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                name = metric.name
                if name not in REGISTRY_METRICS and not name.startswith(sc.OWN_NAMESPACES):
                    problems.append(f"metric {name!r} is neither in the GenAI registry nor tokentrace's own")
                shape = METRIC_SHAPES.get(name)
                if shape is not None and (not isinstance(metric.data, shape[0]) or metric.unit != shape[1]):
                    problems.append(f"metric {name!r} must be a {shape[0].__name__} in {shape[1]!r}, got {type(metric.data).__name__} in {metric.unit!r}")
                for point in metric.data.data_points:
                    attributes = dict(point.attributes or {})
                    problems.extend(check_attributes(f"metric {name!r}", attributes))
                    if name == "gen_ai.client.token.usage" and attributes.get("gen_ai.token.type") not in TOKEN_TYPES:
                        problems.append(f"metric {name!r}: gen_ai.token.type {attributes.get('gen_ai.token.type')!r} not in {sorted(TOKEN_TYPES)}")
    return problems


def check_telemetry(exporter: Any, reader: Any) -> List[str]:
    """Every problem in what an ``InMemorySpanExporter`` and an ``InMemoryMetricReader`` hold."""
    spans = list(exporter.get_finished_spans())
    try:
        data = reader.get_metrics_data()
    except Exception:  # a reader already shut down has nothing more to say
        data = None
    return check_spans(spans) + check_metrics(data)
