"""Attribution: who spent it (team, feature, workflow, agent step ...). Placeholder until issue #4."""

from __future__ import annotations

from typing import Any, Callable, List, Tuple

from ..core.pipeline import NO_ATTRIBUTION, AttributionSnapshot, CallObserver


def setup(config: Any) -> Tuple[Callable[[], AttributionSnapshot], List[CallObserver]]:
    return (lambda: NO_ATTRIBUTION), []
