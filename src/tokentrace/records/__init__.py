"""The bottom layer: what one LLM call is, and the names and errors every layer above shares.

Pure data with no imports from the rest of tokentrace, so that the price catalog (which prices a
:class:`~tokentrace.records.call.CallRecord`) and the core (which turns records into telemetry and
compares models through the catalog) both stand on it without importing each other.
"""
