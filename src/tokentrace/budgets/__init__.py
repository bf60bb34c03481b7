"""Budgets that alert or stop a runaway. Placeholder until issue #6."""

from __future__ import annotations

from typing import Any, List

from ..core.pipeline import CallObserver


def setup(config: Any) -> List[CallObserver]:
    return []
