"""The attribute, metric and status names where the core and the adapters import them.

Defined in :mod:`tokentrace.records.semconv` (the bottom layer, which the price catalog shares).
"""

from ..records.semconv import *  # noqa: F401,F403
