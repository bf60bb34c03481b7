"""Reading values out of provider requests and responses that may be malformed.

Providers (and the compatible servers that imitate them) send nulls, strings, negative or
fractional numbers where a count belongs; the SDKs often pass them through unvalidated. Every
adapter reads them through these helpers, so a bad value becomes "absent" the same way for every
provider instead of an exception or a negative cost.
"""

from __future__ import annotations

from collections.abc import Mapping  # isinstance checks: the ABC, not typing's slow alias
from dataclasses import dataclass
from typing import Any, Dict, Optional

from ..core import numbers

#: A token count; anything that is not a whole number in range reads as a *marked* 0.
#: See :func:`tokentrace.core.numbers.count`: the mark survives the adapter's arithmetic, and the
#: pipeline turns it into ``tokentrace.cost.status=invalid_usage`` instead of a silent $0. (The
#: function itself, not a wrapper: it runs about ten times per call.)
token_count = numbers.count


_ABSENT = object()
#: Per type: ``None`` when it is not a pydantic (v2) model, else the names its class defines
#: (properties, methods), learnt as they are asked for: see :func:`field`.
_PYDANTIC: Dict[type, Optional[Dict[str, bool]]] = {}


def _class_names(cls: type) -> Optional[Dict[str, bool]]:
    """A pydantic v2 model class (the openai and anthropic SDK types): its name cache. Its *real*
    type is asked, so a proxy (``wrapt.ObjectProxy``) around a model is not mistaken for one."""
    names: Optional[Dict[str, bool]] = {}
    if not (hasattr(cls, "__pydantic_fields__") and hasattr(cls, "__pydantic_extra__") and hasattr(cls, "model_fields")):
        names = None
    if len(_PYDANTIC) < 4096:
        _PYDANTIC[cls] = names
    return names


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for a mapping, ``obj.name`` for an SDK object, ``None`` when absent.

    SDK response types are pydantic models, and ``getattr`` of a field a response lacks
    (``usage.cost``, which only OpenRouter sends; DeepSeek's ``prompt_cache_hit_tokens``) goes
    through pydantic's ``__getattr__``, which raises and catches AttributeError: ~11 µs, more than
    the rest of reading a response. A model's fields and extras are read from its own dicts
    instead; names they lack go to ``getattr`` only when the class defines them (properties such
    as ``Response.output_text``).
    """
    if obj is None:
        return None
    if isinstance(obj, dict):  # the common cases first: plain dicts, then SDK objects
        return obj.get(name)
    cls = type(obj)
    names = _PYDANTIC[cls] if cls in _PYDANTIC else _class_names(cls)
    if names is not None:
        value = obj.__dict__.get(name, _ABSENT)
        if value is not _ABSENT:
            return value
        extra = obj.__pydantic_extra__
        if extra and name in extra:
            return extra[name]
        defined = names.get(name)
        if defined is None:
            defined = names[name] = hasattr(cls, name)
        if not defined:
            return None
    value = getattr(obj, name, None)
    if value is None and isinstance(obj, Mapping):
        return obj.get(name)
    return value


def request_number(value: Any) -> Optional[float]:
    """A finite numeric request parameter (temperature, top_p ...) as a float, or ``None``."""
    return numbers.finite_number(value)


def request_integer(value: Any) -> Optional[int]:
    """An integer request parameter (max_tokens, seed ...) that fits OTLP's int64, or ``None``."""
    return numbers.bounded_integer(value)


@dataclass(frozen=True)
class ClientTarget:
    """Where an SDK client sends its requests; computed once per client and cached on it."""

    provider: str
    address: Optional[str]
    port: Optional[int]
