"""The pipeline ``instrument()`` put in force, readable from every layer.

``instrument()`` lives at the top of the package, but attribution (the tracer for roll-up spans)
and budgets (pricing a call before it is sent, warning when nothing is instrumented) need to know
what it set up. They read it here, in the core, so that no layer below ``instrumentation``
imports it: ``instrument()`` sets the pipeline, ``uninstrument()`` clears it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .pipeline import Pipeline

_pipeline: Optional[Pipeline] = None


def set_pipeline(pipeline: Optional[Pipeline]) -> None:
    """Called by ``instrument()`` (the new pipeline) and ``uninstrument()`` (None)."""
    global _pipeline
    _pipeline = pipeline


def pipeline() -> Optional[Pipeline]:
    """The pipeline in use, or None when tokentrace is not instrumented."""
    return _pipeline


def is_instrumented() -> bool:
    return _pipeline is not None
