"""A budget store in Redis, shared by every process and machine that points at it.

Each counter is two Redis hashes: ``<key>`` (settled spend, fired thresholds, when the limit was
reached) and ``<key>:inflight`` (one field per admitted call still running). Reservation and
settlement are Lua scripts, so the check-then-reserve step is atomic across processes: two
processes can never both be admitted against the same last dollar unless both calls were
already in flight when it was spent.

The store must never hang the application: sockets time out after 0.25 s, the client does not
retry, and after a failure the store answers "unavailable" at once for a few seconds instead of
trying again on every call. It logs one warning when it becomes unreachable and one line when
it answers again.

Counters stay right when Redis fails:

* **Settlements are kept, not lost.** A call that completes while Redis is unreachable was
  really spent: its settlement waits in a bounded queue and is replayed, in order, as soon as
  the store answers again. Each settlement carries its reservation id and Redis remembers the
  ids it has counted (``<key>:settled``), so a replay after a lost reply never counts twice.
* **No counter goes backwards.** Every process remembers the highest total it has seen for each
  counter. A Redis that comes back from an older snapshot, or a replica promoted after a
  failover, holds less; the scripts raise such a counter to the caller's high-water mark before
  deciding or adding (a *maximum*, so several processes that repair the same counter never
  inflate it), then add the call. The thresholds that mark had passed were announced already:
  their lost flags are set again without a second alert. What no surviving process saw is lost
  with the data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from typing import Any, Deque, Optional, Sequence, Tuple
from urllib.parse import urlsplit, urlunsplit

from ..core.ratelog import RateLimitedLog
from .store import Admission, Amount, Limit, Settlement, StoreUnavailable

logger = logging.getLogger("tokentrace")

#: Socket connect and read timeout, seconds: an unreachable store costs a call at most this twice.
TIMEOUT_S = 0.25
#: After a failure, how long the store reports "unavailable" without trying Redis again.
COOL_DOWN_S = 2.0
#: Settlements kept for replay while Redis is unreachable (the oldest are dropped beyond it).
MAX_PENDING = 10_000
#: Counters whose high-water mark this process remembers.
MAX_SEEN = 10_000
#: How long Redis remembers a settled reservation id, for counters without a TTL of their own.
SETTLED_TTL_S = 86_400
#: Every key has a TTL: a ``window="total"`` counter lives this long after its last use (400
#: days), refreshed by every call, instead of forever.
TOTAL_TTL_S = 400 * 86_400

_RENEW = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local u, t = string.match(v, '^(%-?%d+) (%-?%d+) ')
if u == nil then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], u .. ' ' .. t .. ' ' .. ARGV[2])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return 1
"""

_RESERVE = """
local now = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'usd', 'tokens', 'exceeded_at')
local su, st = tonumber(s[1]) or 0, tonumber(s[2]) or 0
local hu, ht = tonumber(ARGV[10]) or 0, tonumber(ARGV[11]) or 0
if su < hu then su = hu; redis.call('HSET', KEYS[1], 'usd', string.format('%.0f', hu)) end
if st < ht then st = ht; redis.call('HSET', KEYS[1], 'tokens', string.format('%.0f', ht)) end
if redis.call('TTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[9]))
end
local fu, ft = 0, 0
local flying = redis.call('HGETALL', KEYS[2])
for i = 1, #flying, 2 do
  local u, t, d = string.match(flying[i + 1], '^(%-?%d+) (%-?%d+) (%d+)$')
  if d == nil or tonumber(d) < now then
    redis.call('HDEL', KEYS[2], flying[i])
  else
    fu, ft = fu + tonumber(u), ft + tonumber(t)
  end
end
local pu, pt = tonumber(ARGV[4]), tonumber(ARGV[5])
local check = ARGV[6] == '1'
local function reply(ok, unit, reason)
  return {ok, unit, reason, string.format('%.0f', su), string.format('%.0f', st),
          string.format('%.0f', fu), string.format('%.0f', ft), s[3] or ''}
end
if ARGV[2] ~= '' then
  local cap = tonumber(ARGV[2])
  if su >= cap then return reply(0, 'usd', 'spent') end
  if check and su + fu + pu > cap then return reply(0, 'usd', 'projected') end
end
if ARGV[3] ~= '' then
  local cap = tonumber(ARGV[3])
  if st >= cap then return reply(0, 'tokens', 'spent') end
  if check and st + ft + pt > cap then return reply(0, 'tokens', 'projected') end
end
redis.call('HSET', KEYS[2], ARGV[7], ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[8])
local ttl = tonumber(ARGV[9])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[2], ttl)
end
return reply(1, '', '')
"""

_SETTLE = """
redis.call('HDEL', KEYS[2], ARGV[1])
local cur = redis.call('HMGET', KEYS[1], 'usd', 'tokens')
local hu, ht = tonumber(ARGV[9]) or 0, tonumber(ARGV[10]) or 0
if (tonumber(cur[1]) or 0) < hu then redis.call('HSET', KEYS[1], 'usd', string.format('%.0f', hu)) end
if (tonumber(cur[2]) or 0) < ht then redis.call('HSET', KEYS[1], 'tokens', string.format('%.0f', ht)) end
local su, st
if redis.call('SADD', KEYS[3], ARGV[1]) == 1 then
  su = redis.call('HINCRBY', KEYS[1], 'usd', ARGV[2])
  st = redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[3])
else
  su = tonumber(redis.call('HGET', KEYS[1], 'usd')) or 0
  st = tonumber(redis.call('HGET', KEYS[1], 'tokens')) or 0
end
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[11]))
local used = 0
for i, cap in ipairs({ARGV[4], ARGV[5]}) do
  if cap ~= '' then
    local c = tonumber(cap)
    local spent = su
    if i == 2 then spent = st end
    local ratio = 1
    if c > 0 then ratio = spent / c end
    if ratio > used then used = ratio end
  end
end
local seen = 0
for i, cap in ipairs({ARGV[4], ARGV[5]}) do
  local c = tonumber(cap)
  if c ~= nil and c > 0 then
    local h = hu
    if i == 2 then h = ht end
    if h / c > seen then seen = h / c end
  end
end
local fired = {}
for t in string.gmatch(ARGV[8], '[^,]+') do
  if seen >= tonumber(t) then
    -- This process saw the counter past t already: the crossing was announced then, and a flag
    -- missing now was lost with the data (restore, failover). Set it without announcing again.
    redis.call('HSETNX', KEYS[1], 'fired:' .. t, ARGV[6])
  elseif used >= tonumber(t) and redis.call('HSETNX', KEYS[1], 'fired:' .. t, ARGV[6]) == 1 then
    table.insert(fired, t)
  end
end
if seen >= 1 or used >= 1 then
  redis.call('HSETNX', KEYS[1], 'exceeded_at', ARGV[6])
end
local ttl = tonumber(ARGV[7])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
end
return {su, st, fired, redis.call('HGET', KEYS[1], 'exceeded_at') or ''}
"""


def redact_url(url: str) -> str:
    """The URL without its password, for messages (also for a URL that does not parse)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


class RedisStore:
    """Budget counters in Redis (``redis://[:password@]host:port/db``)."""

    def __init__(self, url: str, *, prefix: str = "tokentrace:budget:", timeout_s: float = TIMEOUT_S) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.label = redact_url(url)
        self.prefix = prefix
        self._errors: Any = (redis.exceptions.RedisError, OSError)
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            health_check_interval=0,
        )
        self._reserve = self._client.register_script(_RESERVE)
        self._settle = self._client.register_script(_SETTLE)
        self._renew = self._client.register_script(_RENEW)
        self._down_until = 0.0
        self._down = False
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, Tuple[int, int]] = OrderedDict()
        self._pending: Deque[Tuple[Any, ...]] = deque()
        self._dropped_warned = False
        self._replaying = threading.Lock()
        #: A store that flaps (down, up, down ...) logs one line of each kind per interval.
        self._log = RateLimitedLog()

    # -- availability -----------------------------------------------------------------------------

    def _run(self, script: Any, keys: Sequence[str], args: Sequence[Any]) -> Any:
        if self._down and time.monotonic() < self._down_until:
            raise StoreUnavailable(f"{self.label} did not answer less than {COOL_DOWN_S:g} s ago")
        try:
            result = script(keys=list(keys), args=list(args))
        except self._errors as exc:
            self._mark_down(exc)
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from None
        if self._down:
            with self._lock:
                self._down = False
            self._log.warning(("store up", self.label), "tokentrace: the budget store %s answers again; budgets are enforced again.", self.label)
        return result

    def _mark_down(self, exc: BaseException) -> None:
        with self._lock:
            first = not self._down
            self._down = True
            self._down_until = time.monotonic() + COOL_DOWN_S
        if first:
            self._log.warning(
                ("store down", self.label),
                "tokentrace: the budget store %s is unreachable (%s: %s). Budgets with on_store_error='open' "
                "(the default) let calls through unchecked (their spend is kept and counted when the store "
                "answers again); budgets with on_store_error='closed' block calls; until the store answers again.",
                self.label,
                type(exc).__name__,
                exc,
            )

    # -- accounting -------------------------------------------------------------------------------

    def _keys(self, key: str) -> Sequence[str]:
        full = self.prefix + key
        return (full, full + ":inflight", full + ":settled")

    def _high_water(self, key: str) -> Tuple[int, int]:
        with self._lock:
            return self._seen.get(key, (0, 0))

    def _saw(self, key: str, nano_usd: int, tokens: int) -> None:
        with self._lock:
            old = self._seen.get(key)
            self._seen[key] = (max(nano_usd, old[0]), max(tokens, old[1])) if old else (nano_usd, tokens)
            self._seen.move_to_end(key)
            while len(self._seen) > MAX_SEEN:
                self._seen.popitem(last=False)

    def _keep_for_replay(self, settlement: Tuple[Any, ...]) -> None:
        with self._lock:
            self._pending.append(settlement)
            dropped = len(self._pending) > MAX_PENDING
            if dropped:
                self._pending.popleft()
        if dropped and not self._dropped_warned:
            self._dropped_warned = True
            logger.warning(
                "tokentrace: the budget store %s has been unreachable for %d settlements; the oldest are no longer "
                "kept for replay, so their spend will be missing from the shared budgets.",
                self.label,
                MAX_PENDING,
            )

    def _replay(self) -> None:
        """Send the settlements kept while Redis was unreachable, oldest first; stop at a failure."""
        if not self._pending or not self._replaying.acquire(blocking=False):
            return
        try:
            while self._pending:
                with self._lock:
                    settlement = self._pending[0]
                try:
                    self._send_settle(*settlement)
                except StoreUnavailable:
                    return
                with self._lock:
                    if self._pending and self._pending[0] is settlement:
                        self._pending.popleft()
        finally:
            self._replaying.release()

    def replay_pending(self) -> bool:
        """Try the kept settlements now; True when none is left (the lease keeper's retry)."""
        self._replay()
        return not self._pending

    @property
    def pending_settlements(self) -> int:
        """Settlements waiting for Redis to answer again."""
        return len(self._pending)

    def reserve(
        self, key: str, limit: Limit, projection: Amount, check_projection: bool, reservation: str, ttl_s: Optional[int]
    ) -> Admission:
        self._replay()
        now = int(time.time())
        from .store import RESERVATION_LEASE_S

        high_usd, high_tokens = self._high_water(key)
        reply = self._run(
            self._reserve,
            self._keys(key)[:2],
            (
                now,
                "" if limit.nano_usd is None else limit.nano_usd,
                "" if limit.tokens is None else limit.tokens,
                projection.nano_usd,
                projection.tokens,
                "1" if check_projection else "0",
                reservation,
                now + RESERVATION_LEASE_S,
                ttl_s or TOTAL_TTL_S,
                high_usd,
                high_tokens,
            ),
        )
        ok, unit, reason, su, st, fu, ft, exceeded = (_text(part) for part in reply)
        self._saw(key, int(float(su)), int(float(st)))
        return Admission(
            ok == "1",
            unit or None,
            reason or None,
            Amount(int(float(su)), int(float(st))),
            Amount(int(float(fu)), int(float(ft))),
            float(exceeded) if exceeded else None,
        )

    def settle(
        self, key: str, reservation: str, actual: Amount, limit: Limit, thresholds: Sequence[float], ttl_s: Optional[int]
    ) -> Settlement:
        """Count the call; while Redis is unreachable it is kept and replayed later (then re-raised)."""
        self._replay()
        settlement = (key, reservation, actual, limit, tuple(thresholds), ttl_s, time.time())
        try:
            return self._send_settle(*settlement)
        except StoreUnavailable:
            self._keep_for_replay(settlement)
            raise

    def _send_settle(
        self, key: str, reservation: str, actual: Amount, limit: Limit, thresholds: Sequence[float], ttl_s: Optional[int], when: float
    ) -> Settlement:
        high_usd, high_tokens = self._high_water(key)
        reply = self._run(
            self._settle,
            self._keys(key),
            (
                reservation,
                actual.nano_usd,
                actual.tokens,
                "" if limit.nano_usd is None else limit.nano_usd,
                "" if limit.tokens is None else limit.tokens,
                repr(when),
                ttl_s or TOTAL_TTL_S,
                ",".join(repr(float(t)) for t in thresholds),
                high_usd,
                high_tokens,
                ttl_s or SETTLED_TTL_S,
            ),
        )
        su, st, fired, exceeded = reply
        exceeded_text = _text(exceeded)
        self._saw(key, int(su), int(st))
        return Settlement(
            Amount(int(su), int(st)),
            tuple(float(_text(t)) for t in fired),
            float(exceeded_text) if exceeded_text else None,
        )

    def renew(self, key: str, reservation: str) -> bool:
        """Extend a live reservation's lease (a long call or stream); False when it is gone."""
        from .store import RESERVATION_LEASE_S

        now = int(time.time())
        reply = self._run(self._renew, self._keys(key)[1:2], (reservation, now + RESERVATION_LEASE_S, 2 * RESERVATION_LEASE_S))
        return bool(int(reply))

    def spent(self, key: str) -> Amount:
        try:
            usd, tokens = self._client.hmget(self._keys(key)[0], "usd", "tokens")
        except self._errors as exc:
            self._mark_down(exc)
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from None
        high_usd, high_tokens = self._high_water(key)
        return Amount(max(int(usd or 0), high_usd), max(int(tokens or 0), high_tokens))

    def claim(self, key: str, what: str, ttl_s: Optional[int]) -> bool:
        """True for the first process to claim ``what`` on counter ``key`` (SET NX, with a TTL)."""
        try:
            return bool(self._client.set(f"{self.prefix}{key}:claim:{what}", "1", nx=True, ex=ttl_s or 86_400))
        except self._errors as exc:
            self._mark_down(exc)
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:  # closing a client whose server is gone must not fail uninstrument()
            pass


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return str(value)
