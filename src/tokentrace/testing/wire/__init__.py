"""One module per provider wire format; each exposes ``register(server)``."""

from __future__ import annotations

import importlib
from typing import Any

MODULES = ("openai", "openai_batches", "anthropic", "anthropic_batches", "google", "bedrock", "mistral", "cohere", "groq", "ollama", "azure_inference", "openai_admin", "anthropic_admin")


def register_all(server: Any) -> None:
    for name in MODULES:
        qualified = f"{__name__}.{name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name == qualified:
                continue
            raise
        module.register(server)
