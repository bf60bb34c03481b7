"""GET paginated admin-API pages with a key read from the environment, and never repeat the key.

Admin keys read an organization's whole usage and cost: they come only from an environment
variable (never a command-line argument, which ``ps`` and shell history show), are sent only
in the request header, and are scrubbed from every error message this module raises, including
what the vendor's error body quotes back.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from .base import SourceError

MAX_PAGES = 10_000
Params = Mapping[str, Union[str, int, Sequence[str], None]]


def admin_key(*names: str) -> Tuple[str, str]:
    """(variable name, key) from the first of ``names`` that is set; a clear error otherwise."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return name, value
    raise SourceError(
        f"no admin key: set {' or '.join(names)} to an organization admin key "
        "(admin keys are read from the environment only, never from the command line)"
    )


class AdminClient:
    """A tiny JSON client for one vendor's admin API."""

    def __init__(self, base_url: str, headers: Mapping[str, str], secret: str, vendor: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._secret = secret
        self.vendor = vendor
        self.timeout = timeout
        self.requests = 0

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "[admin key]") if self._secret else text

    def get(self, path: str, params: Params) -> Dict[str, Any]:
        query: List[Tuple[str, str]] = []
        for key, value in params.items():
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                query += [(f"{key}[]", str(v)) for v in value]
            else:
                query.append((key, str(value)))
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(url, headers={**self._headers, "Accept": "application/json", "User-Agent": "tokentrace-reconcile"})
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            detail = self._scrub(exc.read().decode("utf-8", "replace")[:500])
            hint = " (check that the key is an *admin* key of this organization)" if exc.code in (401, 403) else ""
            raise SourceError(f"{self.vendor} admin API {path}: HTTP {exc.code}{hint}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceError(f"{self.vendor} admin API {self.base_url}{path} not reachable: {self._scrub(str(reason))}") from None
        try:
            data = json.loads(body)
        except ValueError:
            raise SourceError(f"{self.vendor} admin API {path}: the response is not JSON: {self._scrub(body[:200].decode('utf-8', 'replace'))!r}") from None
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise SourceError(f"{self.vendor} admin API {path}: unexpected response shape (no 'data' list)")
        return data

    def pages(self, path: str, params: Params) -> Iterator[Dict[str, Any]]:
        """Every page, following ``next_page`` while ``has_more``."""
        page: Optional[str] = None
        for _ in range(MAX_PAGES):
            data = self.get(path, {**params, "page": page})
            yield data
            page = data.get("next_page")
            if not data.get("has_more") or not page:
                return
        raise SourceError(f"{self.vendor} admin API {path}: more than {MAX_PAGES} pages; narrow --from/--to")
