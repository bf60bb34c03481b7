"""The spend ledger: completed calls aggregated into :class:`SpendRow` rows (see ``row``)."""

from .row import TOKEN_TYPES, SpendRow

__all__ = ["SpendRow", "TOKEN_TYPES"]
