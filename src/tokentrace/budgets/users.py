"""A user id in a budget's or a policy's ``match`` is compared, named and stored as its hash.

The attribution a call carries holds the *keyed hash* of its user id (``tokentrace.user``), never
the id itself (:mod:`tokentrace.attribution.users`). A budget declared with
``match={"user": "bob@example.com"}`` names the id in clear; compared as written it would never
match (so never block), and its default name ``user=bob@example.com/day`` would put the id in
clear into every alert, ``BudgetExceeded`` message, metric label and Redis key once it did.

So each budget and policy that matches on ``user`` is rewritten once, before any call sees it:
the id becomes its hash in the match and wherever the name spells it. The hash function is the
one attribution uses (same key, ``TOKENTRACE_USER_HASH_KEY`` or the process key), handed in by
``instrument()``: the budgets layer does not reach into attribution.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple, TypeVar

if TYPE_CHECKING:  # types only: policy.py builds a HashedMatches itself
    from .policy import ModelPolicy
    from .spec import BudgetSpec

HashUser = Callable[[str], str]
T = TypeVar("T", "BudgetSpec", "ModelPolicy")


def hash_user_match(item: T, hash_user: Optional[HashUser]) -> T:
    """``item`` with its ``match`` user id replaced by its hash (and the name too); else ``item``."""
    raw = item.match.get("user") if hash_user is not None else None
    if not raw or hash_user is None:
        return item
    hashed = hash_user(raw)
    if hashed == raw:
        return item
    return dataclasses.replace(item, match={**item.match, "user": hashed}, name=item.name.replace(raw, hashed))


class HashedMatches:
    """The hashed twin of each budget or policy declared in code (``tokentrace.budget(match=...)``,
    ``model_policy(match=...)``), made the first time a call sees it; bounded."""

    MAX_ITEMS = 1024

    def __init__(self, hash_user: Optional[HashUser]) -> None:
        self._hash_user = hash_user
        self._lock = threading.Lock()
        #: id(item) -> (item, its hashed twin); the item is kept so its id is not reused meanwhile.
        self._memo: OrderedDict[int, Tuple[Any, Any]] = OrderedDict()

    def of(self, item: T) -> T:
        if self._hash_user is None or "user" not in item.match:
            return item
        found = self._memo.get(id(item))
        if found is not None and found[0] is item:
            return found[1]  # type: ignore[no-any-return]
        hashed = hash_user_match(item, self._hash_user)
        with self._lock:
            self._memo[id(item)] = (item, hashed)
            while len(self._memo) > self.MAX_ITEMS:
                self._memo.popitem(last=False)
        return hashed
