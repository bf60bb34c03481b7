"""Provider adapters: one subpackage per SDK, each translating that SDK to a CallRecord.

``REGISTRY`` is the flat list ``instrument()`` walks; an adapter whose SDK is not installed is
skipped without importing anything heavy.
"""

from __future__ import annotations

import importlib
from typing import List, Optional, Sequence

from ..core.safety import report
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
]


def load_instrumentors(selected: Optional[Sequence[str]] = None) -> List[ProviderInstrumentor]:
    found: List[ProviderInstrumentor] = []
    for name, target in REGISTRY:
        if selected is not None and name not in selected:
            continue
        module_name, class_name = target.split(":")
        try:
            instrumentor = getattr(importlib.import_module(module_name), class_name)()
            if instrumentor.available():
                found.append(instrumentor)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                report(f"loading the {name} adapter", exc)
        except Exception as exc:
            # One broken adapter must not take the others down with it.
            report(f"loading the {name} adapter", exc)
    return found
