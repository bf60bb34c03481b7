"""Test support that ships with tokentrace: a local provider server and in-memory telemetry.

Users can drive their own code against :class:`ProviderServer` in their tests, exactly as
tokentrace's own suite does.
"""

from .server import ProviderServer, ReceivedRequest, ResponsePlan
from .wire.openai import openai_usage

__all__ = ["ProviderServer", "ReceivedRequest", "ResponsePlan", "openai_usage"]
