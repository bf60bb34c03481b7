"""Every registered adapter module imports, whether or not its SDK is installed here.

``load_instrumentor`` imports the adapter before it asks whether the SDK is there, so an adapter
whose own import is broken would log an internal error on every ``instrument()``, even for apps
that never use that SDK; and the SDKs that live in venvs of their own are not imported by the
main suite at all, so this is where such a break shows.
"""

from __future__ import annotations

import importlib

import pytest

from tokentrace.providers import REGISTRY


@pytest.mark.parametrize("name, target", REGISTRY, ids=[name for name, _ in REGISTRY])
def test_adapter_module_imports(name: str, target: str) -> None:
    module_name, class_name = target.split(":")
    instrumentor = getattr(importlib.import_module(module_name), class_name)()
    assert instrumentor.name == name
