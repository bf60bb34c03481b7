"""Fault injection: tokentrace's internals made to raise, in every adapter's wrappers and proxies.

For each provider SDK, the app's plain call, consumed stream and provider error are recorded
uninstrumented; then, instrumented, one internal function at a time is replaced by one that
raises, and the same scenario must give the app exactly the same results, chunks and exceptions.
Each failure site must be logged once, however many calls hit it.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import Any, Iterator, List, Tuple

import pytest

from tokentrace.core import safety
from tokentrace.core.pipeline import Pipeline
from tokentrace.testing import ResponsePlan

from .scenarios import SCENARIOS

FAULT = "injected tokentrace fault"

#: Pipeline steps every adapter goes through.
PIPELINE_FAULTS = ["start", "finish", "first_chunk", "activate", "_complete", "_price", "_end_attributes", "_record_metrics", "_start_attributes"]

#: Adapter modules whose classes (stream state, result handlers) and module functions are faulted.
ADAPTER_MODULES = {
    "openai": ("tokentrace.providers.openai.streams", "tokentrace.providers.openai.extract", "tokentrace.providers.openai.endpoints"),
    "anthropic": ("tokentrace.providers.anthropic.streams", "tokentrace.providers.anthropic.extract", "tokentrace.providers.anthropic.request"),
    "google": ("tokentrace.providers.google_genai.streams", "tokentrace.providers.google_genai.extract"),
    "bedrock": ("tokentrace.providers.bedrock.streams", "tokentrace.providers.bedrock.extract"),
    "mistral": ("tokentrace.providers.mistral.streams", "tokentrace.providers.mistral.extract", "tokentrace.providers.chunks",
                "tokentrace.providers.chatlike"),
    "cohere": ("tokentrace.providers.cohere.streams", "tokentrace.providers.cohere.extract", "tokentrace.providers.chunks"),
    "groq": ("tokentrace.providers.groq.streams", "tokentrace.providers.groq.extract", "tokentrace.providers.chunks"),
    "ollama": ("tokentrace.providers.ollama.streams", "tokentrace.providers.ollama.extract", "tokentrace.providers.chunks"),
    "azure_ai_inference": ("tokentrace.providers.azure_ai_inference.streams", "tokentrace.providers.azure_ai_inference.extract",
                           "tokentrace.providers.chunks"),
    "aiobotocore": ("tokentrace.providers.bedrock.streams", "tokentrace.providers.bedrock.extract", "tokentrace.providers.aiobotocore.streams"),
    "vertexai": ("tokentrace.providers.google_genai.streams", "tokentrace.providers.google_genai.extract",
                 "tokentrace.providers.vertexai.extract", "tokentrace.providers.vertexai.streams"),
    "litellm": ("tokentrace.providers.litellm.streams", "tokentrace.providers.litellm.extract", "tokentrace.providers.chunks"),
}

#: The proxies themselves are what the app holds; faulting their own dunder methods would be
#: faulting the app's object. Their *helpers* (state, handlers, extractors) are what is faulted.
_SKIP_CLASSES = ("Proxy", "Filter", "_FailedRead", "_EventIterator")


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(FAULT)


def _adapter_targets(provider: str) -> Iterator[Tuple[Any, str]]:
    for module_name in ADAPTER_MODULES[provider]:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if getattr(value, "__module__", None) != module_name or name.startswith("__"):
                continue
            if inspect.isfunction(value):
                yield module, name
            elif inspect.isclass(value) and not any(skip in name for skip in _SKIP_CLASSES):
                for attr, member in vars(value).items():
                    if inspect.isfunction(member) and attr not in ("__init__",) and not attr.startswith("__"):
                        yield value, attr


#: Unguarded call sites these tests found in adapters owned by others (reported to the lead).
#: Strict: when one is fixed the case XPASSes and fails, so its entry must be removed here.
#: Fault sites that still reach the application, with the reason; empty since every adapter
#: goes through :mod:`tokentrace.providers.flow`.
KNOWN_GAPS: dict = {}


def _cases() -> List[Any]:
    cases = []
    for provider in SCENARIOS:
        targets = [(Pipeline, name) for name in PIPELINE_FAULTS] + list(_adapter_targets(provider))
        for owner, name in targets:
            case_id = f"{provider}-{owner.__name__.rsplit('.', 1)[-1]}.{name}"
            gap = KNOWN_GAPS.get(case_id)
            marks = [pytest.mark.xfail(reason=gap, strict=True, raises=(RuntimeError, AssertionError))] if gap else []
            cases.append(pytest.param(provider, owner, name, id=case_id, marks=marks))
    return cases


@pytest.fixture(autouse=True)
def _fresh_log_once() -> Iterator[None]:
    safety.reset_reported()
    yield
    safety.reset_reported()


_baselines: dict = {}


def _baseline(provider: str, server: Any) -> List[Any]:
    if provider not in _baselines:
        _baselines[provider] = SCENARIOS[provider].run_all(server, ResponsePlan)
    return _baselines[provider]


@pytest.mark.parametrize("provider, owner, name", _cases())
def test_internal_fault_never_reaches_the_app(instrument: Any, server: Any, monkeypatch: Any, caplog: Any, provider: str, owner: Any, name: str) -> None:
    scenario = SCENARIOS[provider]
    expected = _baseline(provider, server)
    instrument()
    monkeypatch.setattr(owner, name, _boom)
    caplog.set_level(logging.WARNING, logger="tokentrace")
    for _ in range(2):  # twice: the second round must not log again
        assert scenario.run_all(server, ResponsePlan) == expected
    messages = [r.getMessage() for r in caplog.records if FAULT in r.getMessage()]
    assert len(messages) == len(set(messages)), f"a failure site logged more than once: {messages}"
