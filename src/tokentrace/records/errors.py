"""The errors tokentrace raises on purpose, shared by every layer."""

from __future__ import annotations


class TokentraceError(Exception):
    """Base class of the errors tokentrace raises on purpose (bad config, budget exceeded)."""


class InstrumentationIntent(TokentraceError):
    """An error tokentrace means the application to see, such as a blocked call.

    :func:`~tokentrace.core.safety.guarded` lets these through; every other exception from
    tokentrace's code is swallowed.
    """


class ConfigError(TokentraceError, ValueError):
    """A configuration value tokentrace cannot use; the message says which and why."""
