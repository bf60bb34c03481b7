"""Runs the vertexai tests in the venv that has the Vertex AI SDK (it needs google-genai<3).

``.ci/install-vertexai.sh`` builds ``.ci-work/vertexai-venv``; the runner is ``suite_in_venv``
in ``tests/providers/conftest.py``, with the shared hardening tests (faults, fuzz, secrets) for
this adapter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def test_vertexai_suite_in_its_venv(suite_in_venv: Callable[..., None]) -> None:
    suite_in_venv(
        "vertexai", "vertexai-venv", ".ci/install-vertexai.sh", Path(__file__).parent,
        "test_vertex_*.py", "vertexai or test_vertex_ or test_no_secret",
    )
