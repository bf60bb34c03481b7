"""The attribution settings in force: from ``instrument()``'s config, else from the environment.

The attribution API works without ``instrument()`` (it then only sets context and opens spans on
the global tracer), so there is always a :class:`Settings` object: ``setup()`` installs one built
from the config and ``close()`` (on ``uninstrument()``) goes back to one built from the
environment. Snapshots cached on scopes remember the settings they were computed with, so a
change of settings invalidates every cache at once, without a walk over live scopes.
"""

from __future__ import annotations

import threading
from typing import Optional, Tuple

from ..core.config import Config, build_config
from .limits import ValueLimiter
from .users import UserHasher


class Settings:
    """Immutable for its lifetime; replaced as a whole when the configuration changes."""

    __slots__ = ("metric_keys", "limiter", "hasher", "propagate_baggage", "trust_inbound", "strict")

    def __init__(self, config: Config) -> None:
        self.metric_keys: Tuple[str, ...] = tuple(config.metric_attributes)
        self.limiter = ValueLimiter(config.metric_value_limit)
        self.hasher = UserHasher(config.user_hash_key)
        self.propagate_baggage = bool(config.propagate_baggage)
        self.trust_inbound = bool(config.trust_inbound_baggage)
        self.strict = bool(config.strict)


_lock = threading.Lock()
_current: Optional[Settings] = None


def current() -> Settings:
    settings = _current
    if settings is None:
        settings = _from_environment()
    return settings


def install(settings: Optional[Settings]) -> None:
    """Put ``settings`` in force (None: go back to the environment's)."""
    global _current
    with _lock:
        _current = settings


def _from_environment() -> Settings:
    global _current
    with _lock:
        if _current is None:
            _current = Settings(build_config({}))
        return _current
