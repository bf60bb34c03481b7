"""Attribution: which team, feature, workflow and agent step every LLM call served.

Public API (re-exported from ``tokentrace``): :func:`attribute`, :func:`workflow`,
:func:`agent_step`, :func:`current_attribution`, :func:`propagate_context`. ``instrument()``
calls :func:`setup`, which puts the configuration in force, carries attribution into threads,
and returns the hot-path ``capture`` function plus the roll-up observer.
"""

from __future__ import annotations

from typing import Callable, List, Tuple

from ..core.config import Config
from ..core.pipeline import AttributionSnapshot, CallObserver
from . import settings as _settings
from .api import agent_step, attribute, current_attribution, workflow
from .limits import OVERFLOW_VALUE
from .propagation import strip_attribution_baggage, without_attribution_baggage
from .rollup import RollupObserver, abandon_pending
from .scope import capture
from .threads import ThreadPatches, propagate_context
from .values import AttributionError

__all__ = [
    "OVERFLOW_VALUE",
    "AttributionError",
    "agent_step",
    "attribute",
    "current_attribution",
    "propagate_context",
    "setup",
    "strip_attribution_baggage",
    "without_attribution_baggage",
    "workflow",
]


class _InstrumentedRollups(RollupObserver):
    """The roll-up observer, which also undoes ``setup()`` on ``uninstrument()``."""

    def __init__(self) -> None:
        self._threads = ThreadPatches()

    def close(self) -> None:
        self._threads.close()
        abandon_pending()
        _settings.install(None)


def setup(config: Config) -> Tuple[Callable[[], AttributionSnapshot], List[CallObserver]]:
    """Put ``config``'s attribution settings in force; called by ``instrument()``."""
    _settings.install(_settings.Settings(config))
    return capture, [_InstrumentedRollups()]
