"""Vendor sources: each turns one vendor's usage/cost data into spend rows.

``openai`` and ``anthropic`` read the vendors' admin APIs (keys from the environment); ``cur``,
``gcp``, ``azure`` and ``focus`` read export files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, FrozenSet, Optional

from . import anthropic_admin, azure, cur, focus, gcp, openai_admin
from .base import SourceError, VendorData

API_SOURCES: Dict[str, Callable[..., VendorData]] = {"openai": openai_admin.fetch, "anthropic": anthropic_admin.fetch}
FILE_SOURCES: Dict[str, Callable[[Path], VendorData]] = {"cur": cur.read, "gcp": gcp.read, "azure": azure.read, "focus": focus.read}
#: The provider families of tokentrace's rows each source is compared with (``None``: whatever the file holds).
PROVIDERS: Dict[str, Optional[FrozenSet[str]]] = {
    "openai": frozenset({"openai"}),
    "anthropic": frozenset({"anthropic"}),
    "cur": frozenset({"aws.bedrock"}),
    "gcp": frozenset({"gcp"}),
    "azure": frozenset({"azure.ai.openai"}),
    "focus": None,
}
SOURCES = tuple(API_SOURCES) + tuple(FILE_SOURCES)

__all__ = ["API_SOURCES", "FILE_SOURCES", "PROVIDERS", "SOURCES", "SourceError", "VendorData", "load"]


def load(source: str, *, path: Optional[Path] = None, start: int = 0, end: int = 0, base_url: Optional[str] = None, bucket_width: str = "1d") -> VendorData:
    """Read one vendor source; raises :class:`SourceError` with a message a user can act on."""
    if source in API_SOURCES:
        return API_SOURCES[source](start, end, base_url=base_url, bucket_width=bucket_width)
    if source in FILE_SOURCES:
        if path is None:
            raise SourceError(f"--vendor {source} needs the export file: --vendor {source} FILE")
        try:
            return FILE_SOURCES[source](Path(path))
        except SourceError as exc:
            message = str(exc)
            raise SourceError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    raise SourceError(f"unknown vendor source {source!r}: expected one of {', '.join(SOURCES)}")
