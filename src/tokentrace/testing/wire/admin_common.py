"""What the fake admin APIs share: time buckets, group-by aggregation and page cursors.

Both vendors' usage and cost reports read the same query (``bucket_width``, ``group_by[]``,
``limit``, ``page``) and answer buckets of grouped results; only the field names, the wording of
a 400 and the page envelope differ, so those stay in each vendor's module.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..billing import BilledCall

WIDTHS = {"1m": 60, "1h": 3600, "1d": 86400}
#: (default limit, max limit) per bucket width, as both vendors document them.
LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}


class BadRequest(Exception):
    """A query the real API rejects with HTTP 400; the message is the vendor's kind of message."""


def values(query: Dict[str, List[str]], name: str) -> List[str]:
    """Array parameters arrive as ``name[]=a&name[]=b`` (or ``name=a&name=b``)."""
    return list(query.get(f"{name}[]", [])) + list(query.get(name, []))


def one(query: Dict[str, List[str]], name: str) -> Optional[str]:
    found = query.get(name)
    return found[-1] if found else None


def encode_cursor(index: int) -> str:
    return "page_" + base64.urlsafe_b64encode(f"bucket:{index}".encode()).decode().rstrip("=")


def decode_cursor(cursor: Optional[str]) -> int:
    if not cursor:
        return 0
    try:
        raw = cursor.removeprefix("page_")
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        return int(text.split(":", 1)[1])
    except (ValueError, IndexError):
        raise BadRequest(f"Invalid page cursor: {cursor!r}") from None


def bucket_starts(start: int, end: int, width: int) -> List[int]:
    first = start - start % width
    return list(range(first, end, width))


def limit_for(query: Dict[str, List[str]], width_name: str, limits: Tuple[int, int]) -> int:
    text = one(query, "limit")
    if text is None:
        return limits[0]
    try:
        limit = int(text)
    except ValueError:
        raise BadRequest(f"Invalid limit {text!r}: must be an integer") from None
    if not 1 <= limit <= limits[1]:
        raise BadRequest(f"Invalid limit {limit}: for bucket_width {width_name} it must be between 1 and {limits[1]}")
    return limit


def group(
    calls: Iterable[BilledCall], group_by: Sequence[str], field_of: Callable[[BilledCall, str], Any]
) -> Dict[Tuple[Any, ...], List[BilledCall]]:
    groups: Dict[Tuple[Any, ...], List[BilledCall]] = {}
    for call in calls:
        key = tuple(field_of(call, name) for name in group_by)
        groups.setdefault(key, []).append(call)
    return groups


def page(starts: List[int], cursor: Optional[str], limit: int) -> Tuple[List[int], Optional[str]]:
    """The bucket starts of this page and the cursor of the next one (``None`` on the last)."""
    index = decode_cursor(cursor)
    chosen = starts[index : index + limit]
    following = index + limit
    return chosen, (encode_cursor(following) if following < len(starts) else None)


@dataclass(frozen=True)
class Buckets:
    """One page of a report's query: bucket width (seconds), the ``group_by[]`` asked, bucket starts."""

    width: int
    group_by: List[str]
    starts: List[int]
    next_page: Optional[str]

    def inside(self, calls: Iterable[BilledCall], bucket_start: int) -> List[BilledCall]:
        return [c for c in calls if bucket_start <= c.at < bucket_start + self.width]

    def fields(self, key: Tuple[Any, ...], names: Sequence[str]) -> Dict[str, Any]:
        """The group fields of one result: the key's value where grouped by, ``null`` elsewhere."""
        return {name: key[self.group_by.index(name)] if name in self.group_by else None for name in names}


def buckets(
    query: Dict[str, List[str]],
    start: int,
    end: int,
    groups: Sequence[str],
    limits: Mapping[str, Tuple[int, int]],
    bad_width: str,
    bad_groups: str,
) -> Buckets:
    """Validate a report's query as the vendor does; ``limits`` has a key per width the endpoint
    accepts; ``bad_width`` / ``bad_groups`` are the vendor's 400 messages (``{width}``, ``{names}``)."""
    width_name = one(query, "bucket_width") or "1d"
    if width_name not in limits:
        raise BadRequest(bad_width.format(width=width_name))
    group_by = values(query, "group_by")
    unknown = [g for g in group_by if g not in groups]
    if unknown:
        raise BadRequest(bad_groups.format(names=", ".join(unknown)))
    limit = limit_for(query, width_name, limits[width_name])
    width = WIDTHS[width_name]
    starts, next_page = page(bucket_starts(start, end, width), one(query, "page"), limit)
    return Buckets(width, group_by, starts, next_page)


def filtered(calls: List[BilledCall], query: Dict[str, List[str]], filters: Sequence[Tuple[str, str]]) -> List[BilledCall]:
    """The calls every ``(field, plural parameter)`` filter that was given keeps."""
    for name, plural in filters:
        wanted = set(values(query, plural))
        if wanted:
            calls = [c for c in calls if getattr(c, name) in wanted]
    return calls
