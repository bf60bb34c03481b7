"""The call record where the core and the adapters import it; defined in :mod:`tokentrace.records.call`."""

from ..records.call import USAGE_SOURCE_ESTIMATE, USAGE_SOURCE_PROVIDER, CallRecord, Usage

__all__ = ["USAGE_SOURCE_ESTIMATE", "USAGE_SOURCE_PROVIDER", "CallRecord", "Usage"]
