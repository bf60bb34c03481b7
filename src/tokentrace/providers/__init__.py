"""Provider adapters: one subpackage per SDK, each translating that SDK to a CallRecord.

``REGISTRY`` is the flat list ``instrument()`` walks; an adapter whose SDK is not installed is
skipped without importing anything heavy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, List, Optional, Sequence

from ..core.safety import report

if TYPE_CHECKING:  # wrapt, loaded with the first adapter
    from .base import ProviderInstrumentor

#: (provider option name, "module:Class")
REGISTRY = [
    ("openai", "tokentrace.providers.openai:OpenAIInstrumentor"),
    ("anthropic", "tokentrace.providers.anthropic:AnthropicInstrumentor"),
    ("google_genai", "tokentrace.providers.google_genai:GoogleGenAIInstrumentor"),
    ("bedrock", "tokentrace.providers.bedrock:BedrockInstrumentor"),
    ("mistral", "tokentrace.providers.mistral:MistralInstrumentor"),
    ("cohere", "tokentrace.providers.cohere:CohereInstrumentor"),
    ("groq", "tokentrace.providers.groq:GroqInstrumentor"),
    ("ollama", "tokentrace.providers.ollama:OllamaInstrumentor"),
    ("azure_ai_inference", "tokentrace.providers.azure_ai_inference:AzureAIInferenceInstrumentor"),
    ("litellm", "tokentrace.providers.litellm:LiteLLMInstrumentor"),
    ("aiobotocore", "tokentrace.providers.aiobotocore:AiobotocoreInstrumentor"),
    ("vertexai", "tokentrace.providers.vertexai:VertexAIInstrumentor"),
]


def load_instrumentors(selected: Optional[Sequence[str]] = None) -> List[ProviderInstrumentor]:
    """Every selected adapter whose SDK is installed, importing each SDK (see ``deferred``)."""
    found: List[ProviderInstrumentor] = []
    for name, _ in REGISTRY:
        if selected is not None and name not in selected:
            continue
        instrumentor = load_instrumentor(name)
        if instrumentor is not None:
            found.append(instrumentor)
    return found


def load_instrumentor(name: str) -> Optional[ProviderInstrumentor]:
    """The adapter registered as ``name`` if its SDK is installed, else None (never raises)."""
    target = dict(REGISTRY).get(name)
    if target is None:
        return None
    module_name, class_name = target.split(":")
    try:
        instrumentor: ProviderInstrumentor = getattr(importlib.import_module(module_name), class_name)()
        return instrumentor if instrumentor.available() else None
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            report(f"loading the {name} adapter", exc)
    except Exception as exc:
        # One broken adapter must not take the others down with it.
        report(f"loading the {name} adapter", exc)
    return None


#: The HTTP packages under every supported SDK, where ``transport.py`` strips tokentrace baggage.
TRANSPORT_PACKAGES = ("httpcore", "httpcore2", "urllib3", "aiohttp")


def install_transport_guard(pipeline: Any) -> Any:
    """The wire-level baggage guard: on the HTTP packages imported now, on the others when imported.

    Importing httpcore, httpcore2, urllib3 and aiohttp (and wrapt) just to patch them was a good part of
    ``instrument()``'s time; an SDK imports its HTTP package before it can send anything, and the
    post-import hook (``deferred.py``) patches it right then.
    """
    from functools import partial

    from . import deferred

    now = [package for package in TRANSPORT_PACKAGES if deferred.imported(package)]
    for package in TRANSPORT_PACKAGES:
        if package not in now and deferred.installed(package):
            deferred.defer("transport", package, partial(_transport_for, (package,), pipeline))
    return _transport_for(now, pipeline) if now else None


def _transport_for(packages: Sequence[str], pipeline: Any) -> Any:
    from .transport import install_for

    return install_for(packages, pipeline)
