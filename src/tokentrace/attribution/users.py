"""User ids become keyed hashes before they reach any attribute, metric or log.

A plain hash of a user id can be reversed by hashing candidate ids, so tokentrace uses
HMAC-SHA256 with a secret key (``TOKENTRACE_USER_HASH_KEY`` or ``instrument(user_hash_key=...)``).
Every process that shares the key produces the same hash for the same user, which is what
dashboards need. Without a key tokentrace draws a random one per process and says so once:
hashes are then private but not comparable across processes or restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from typing import Dict, Optional

logger = logging.getLogger("tokentrace")

#: Hex digits kept from the digest: 128 bits, plenty against collisions, short on a span.
HASH_HEX_LENGTH = 32


class UserHasher:
    """Turns user ids into stable keyed hashes; one per configuration."""

    def __init__(self, key: Optional[str]) -> None:
        self._key = key.encode() if key else None
        self._lock = threading.Lock()
        self._memo: Dict[str, str] = {}

    @property
    def stable(self) -> bool:
        """True when hashes are comparable across processes (a key was configured)."""
        return self._key is not None

    def hash(self, user_id: str) -> str:
        memo = self._memo.get(user_id)
        if memo is not None:
            return memo
        digest = hmac.new(self._get_key(), user_id.encode(), hashlib.sha256).hexdigest()[:HASH_HEX_LENGTH]
        with self._lock:
            if len(self._memo) < 10_000:
                self._memo[user_id] = digest
        return digest

    def _get_key(self) -> bytes:
        if self._key is not None:
            return self._key
        return _process_key()


_process_key_value: Optional[bytes] = None
_process_key_lock = threading.Lock()


def _process_key() -> bytes:
    global _process_key_value
    with _process_key_lock:
        if _process_key_value is None:
            _process_key_value = secrets.token_bytes(32)
            logger.warning(
                "tokentrace: no TOKENTRACE_USER_HASH_KEY is set, so user ids are hashed with a random key "
                "drawn for this process: the tokentrace.user hashes are not stable across processes or "
                "restarts. Set TOKENTRACE_USER_HASH_KEY (the same secret in every service) for stable hashes."
            )
        return _process_key_value
