"""Reconcile tokentrace's spend with the vendor's bill: ``tokentrace reconcile``.

Vendor usage and cost (OpenAI's and Anthropic's admin APIs, AWS CUR 2.0, the Google Cloud
billing export, Azure cost exports, any FOCUS file) are parsed into the same
:class:`~tokentrace.ledger.row.SpendRow` rows the ledger holds, compared per day x model x
token type (and project / workspace / key where both sides have it), and every delta is
attributed to the causes that explain it. See :func:`reconcile`.
"""

from .engine import DEFAULT_TOLERANCE, reconcile
from .identity import ModelIdentity
from .result import Cause, Cell, Reconciliation

__all__ = ["DEFAULT_TOLERANCE", "Cause", "Cell", "ModelIdentity", "Reconciliation", "reconcile"]
