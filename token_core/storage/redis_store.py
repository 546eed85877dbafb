"""Redis ephemeral store: production. Validation is one Lua script, so it is atomic across
every worker. Comparing digests inside Lua is not constant-time, but the values compared are
HMACs under a server-side key, which an attacker can neither choose nor learn from timing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from token_core.codes.single_use import (
    AttemptOutcome,
    AttemptPolicy,
    AttemptStatus,
    Candidate,
    Scope,
    spent_marker,
)
from token_core.storage.keys import Keys
from token_core.storage.redis_inbound import RedisInbound

# KEYS: lock, guide failures, beneficiary failures (the calling client's), then (code, known,
#       used) per candidate.
# ARGV: candidates, max failures, lock ms, beneficiary max, beneficiary window ms, memory ms,
#       the guide, the spent marker ("guide\nattempt"), then the digest of each candidate.
_ATTEMPT = """
local lock_ttl = redis.call('PTTL', KEYS[1])
if lock_ttl > 0 then return {'guide_locked', lock_ttl, 0} end
local bfail = tonumber(redis.call('GET', KEYS[3]) or '0')
if bfail >= tonumber(ARGV[4]) then return {'beneficiary_limit', redis.call('PTTL', KEYS[3]), 0} end
local n = tonumber(ARGV[1])
for i = 1, n do
  local k = 3 + (i - 1) * 3
  local digest = ARGV[8 + i]
  if redis.call('GET', KEYS[k + 1]) == digest then
    local remaining = redis.call('PTTL', KEYS[k + 1])
    redis.call('DEL', KEYS[k + 1], KEYS[k + 2])
    redis.call('SET', KEYS[k + 3], ARGV[8], 'PX', ARGV[6])
    return {'valid', remaining, i}
  end
end
for i = 1, n do
  local used_key = KEYS[3 + (i - 1) * 3 + 3]
  local marker = redis.call('GET', used_key)
  if marker then
    local nl = string.find(marker, '\\n', 1, true)
    if nl and string.sub(marker, 1, nl - 1) == ARGV[7] then
      redis.call('SET', used_key, ARGV[8], 'KEEPTTL')
      return {'resumed', 0, i}
    end
    return {'used', 0, i}
  end
end
for i = 1, n do
  if redis.call('EXISTS', KEYS[3 + (i - 1) * 3 + 2]) == 1 then return {'expired', 0, i} end
end
local f = redis.call('INCR', KEYS[2])
if f == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
local b = redis.call('INCR', KEYS[3])
if b == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[5]) end
if f >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return {'guide_locked', tonumber(ARGV[3]), -1}
end
return {'invalid', tonumber(ARGV[2]) - f, 0}
"""

# KEYS: code key, known key of the new digest. ARGV: digest, ttl ms, memory ms, known prefix.
_PUT_CODE = """
local previous = redis.call('GET', KEYS[1])
if previous then redis.call('DEL', ARGV[4] .. previous) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return 1
"""

# KEYS: code key. ARGV: known prefix, digest to match ("" = any).
_REVOKE = """
local previous = redis.call('GET', KEYS[1])
if not previous then return 0 end
if ARGV[2] ~= '' and previous ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], ARGV[1] .. previous)
return 1
"""

# KEYS: code key, known key, used key. ARGV: digest, ttl ms, memory ms, spent marker.
_RESTORE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('GET', KEYS[3]) ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
redis.call('DEL', KEYS[3])
return 1
"""

# KEYS: key. ARGV: value, ttl ms. 1 when set now or already holding this very value.
_SET_IF_ABSENT = """
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then return 1 end
return 0
"""

# KEYS: schedule. ARGV: now, limit. Removes and returns the members due by now.
_TAKE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
"""

# KEYS: guide lock, guide failures. 1 when the guide was locked.
_UNLOCK = """
local existed = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
return existed
"""

# KEYS: counter. The count and its time to live in ms, read together.
_COUNT_TTL = """
return {redis.call('GET', KEYS[1]) or '0', redis.call('PTTL', KEYS[1])}
"""

# KEYS: key. ARGV: expected value.
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: counter. Takes back one count of `_HIT`, never below zero, keeping the expiry.
_REFUND = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('SET', KEYS[1], n - 1, 'KEEPTTL') end
return n
"""

# KEYS: counter. ARGV: limit, window ms. Returns 0 when allowed, else ms until allowed.
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return math.max(redis.call('PTTL', KEYS[1]), 1) end
return 0
"""


CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")


def _cluster_client(url: str, max_connections: int, timeout_seconds: float) -> RedisCluster:
    """A Redis Cluster client for `redis+cluster://host:port` (any node; the others are found).
    Every key of one beneficiary, and every key of the inbound queue, shares a hash tag, so each
    script touches a single slot.
    """
    plain = "redis" + url.split("+cluster", 1)[1]
    return RedisCluster.from_url(
        plain,
        decode_responses=True,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        max_connections=max_connections,
        retry=Retry(
            ExponentialWithJitterBackoff(base=0.05, cap=0.5),
            3,
            supported_errors=(RedisConnectionError,),
        ),
    )


def _numsub_total(answer: Any) -> int:
    """Subscribers counted by a PUBSUB NUMSUB answer ([(channel, n), …] or a flat list)."""
    items = list(answer or [])
    if items and isinstance(items[0], (list, tuple)):
        return sum(int(n) for _channel, n in items)
    return sum(int(n) for n in items[1::2])


def _ms(seconds: float) -> int:
    return max(int(seconds * 1000), 1)


class RedisStore:
    """Keys live under `prefix`; every key odontoken writes has an expiry."""

    def __init__(self, client: Redis | RedisCluster, prefix: str) -> None:
        self._redis = client
        self.prefix = prefix
        self._keys = Keys(prefix)
        self._attempt = client.register_script(_ATTEMPT)
        self._put = client.register_script(_PUT_CODE)
        self._revoke = client.register_script(_REVOKE)
        self._restore = client.register_script(_RESTORE)
        self._delete_if = client.register_script(_DELETE_IF)
        self._set_if_absent = client.register_script(_SET_IF_ABSENT)
        self._take_due = client.register_script(_TAKE_DUE)
        self._unlock = client.register_script(_UNLOCK)
        self._count_ttl = client.register_script(_COUNT_TTL)
        self._hit = client.register_script(_HIT)
        self._refund = client.register_script(_REFUND)

    @classmethod
    def from_url(
        cls,
        url: str,
        prefix: str,
        max_connections: int = 200,
        wait_seconds: float = 5.0,
        timeout_seconds: float = 3.0,
    ) -> RedisStore:
        """A client that survives a Redis restart and never resends a command that timed out.

        - A burst waits for a free pooled connection instead of failing.
        - Idle pooled connections are health-checked (PING) before use, and a command that
          meets a closed connection (Redis restarted) is sent again on a new one: a reset or
          refused connection means the command did not run on the new server. Every script
          here is safe to run twice (a spend resumes, a counter counts one more, a nonce or
          lock holding our own value counts as ours).
        - A command with no answer within `timeout_seconds` (Redis paused or overloaded) is
          NOT sent again: it may still run. The caller sees an outage (503) and retries the
          whole request, which the single-use rule makes safe.
        """
        if url.startswith(CLUSTER_SCHEMES):
            return cls(_cluster_client(url, max_connections, timeout_seconds), prefix)
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=wait_seconds,
            decode_responses=True,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            health_check_interval=2,
            retry=Retry(
                ExponentialWithJitterBackoff(base=0.05, cap=0.5),
                3,
                supported_errors=(RedisConnectionError,),  # never TimeoutError: see above
            ),
        )
        return cls(Redis.from_pool(pool), prefix)  # the client owns (and closes) the pool

    async def persists(self) -> bool:
        """Whether Redis writes every change to its append-only file (`appendonly yes`); on a
        cluster, whether every node does.
        """
        info: dict[str, Any] = await self._redis.info("persistence")
        nodes = [v for v in info.values() if isinstance(v, dict)] or [info]
        return all(int(node.get("aof_enabled", 0)) for node in nodes)

    async def ping(self) -> None:
        await self._redis.ping()

    def _known_prefix(self, beneficiary: str) -> str:
        return self._keys.known(beneficiary, "")

    async def put_code(self, scope: Scope, digest: str, ttl: float, memory: float) -> None:
        await self._put(
            keys=[self._keys.code(scope), self._keys.known(scope.beneficiary, digest)],
            args=[digest, _ms(ttl), _ms(memory), self._known_prefix(scope.beneficiary)],
        )

    async def revoke_code(self, scope: Scope, digest: str | None = None) -> bool:
        result = await self._revoke(
            keys=[self._keys.code(scope)],
            args=[self._known_prefix(scope.beneficiary), digest or ""],
        )
        return bool(result)

    async def restore_code(
        self, scope: Scope, digest: str, ttl: float, memory: float, spent_by: str
    ) -> bool:
        result = await self._restore(
            keys=[
                self._keys.code(scope),
                self._keys.known(scope.beneficiary, digest),
                self._keys.used(scope.beneficiary, digest),
            ],
            args=[digest, _ms(ttl), _ms(memory), spent_by],
        )
        return bool(result)

    async def attempt(
        self,
        guide: str,
        candidates: list[Candidate],
        policy: AttemptPolicy,
        attempt_id: str = "",
        client: str = "",
    ) -> AttemptOutcome:
        beneficiary = candidates[0].scope.beneficiary
        keys = [
            self._keys.guide_lock(beneficiary, guide),
            self._keys.guide_failures(beneficiary, guide),
            self._keys.beneficiary_failures(beneficiary, client),
        ]
        for cand in candidates:
            keys += [
                self._keys.code(cand.scope),
                self._keys.known(beneficiary, cand.digest),
                self._keys.used(beneficiary, cand.digest),
            ]
        args: list[str | int] = [
            len(candidates),
            policy.guide_max_failures,
            _ms(policy.guide_lock_seconds),
            policy.beneficiary_max_failures,
            _ms(policy.beneficiary_window_seconds),
            _ms(policy.memory_seconds),
            guide,
            spent_marker(guide, attempt_id),
            *(cand.digest for cand in candidates),
        ]
        status_name, number, index = await self._attempt(keys=keys, args=args)
        status = AttemptStatus(status_name)
        number, index = int(number), int(index)
        matched = candidates[index - 1].scope if index > 0 else None
        if status is AttemptStatus.INVALID:
            return AttemptOutcome(status, failures_left=number)
        if status in (AttemptStatus.GUIDE_LOCKED, AttemptStatus.BENEFICIARY_LIMIT):
            locked_now = index == -1
            return AttemptOutcome(
                status,
                retry_after=number / 1000,
                failures_left=0 if locked_now else None,
                locked_now=locked_now,
            )
        return AttemptOutcome(
            status,
            matched=matched,
            remaining_ttl=number / 1000 if status is AttemptStatus.VALID else None,
        )

    async def unlock_guide(self, beneficiary: str, guide: str) -> bool:
        lock = self._keys.guide_lock(beneficiary, guide)
        failures = self._keys.guide_failures(beneficiary, guide)
        return bool(await self._unlock(keys=[lock, failures]))

    async def hit(self, key: str, limit: int, window: float) -> float | None:
        wait_ms = int(
            await self._hit(keys=[self._keys.plain(f"rate:{key}")], args=[limit, _ms(window)])
        )
        return wait_ms / 1000 if wait_ms else None

    async def refund(self, key: str) -> None:
        await self._refund(keys=[self._keys.plain(f"rate:{key}")])

    async def blocked(self, key: str, limit: int) -> float | None:
        full = self._keys.plain(f"rate:{key}")
        count, ttl_ms = await self._count_ttl(keys=[full])
        if int(count or 0) >= limit:
            return max(int(ttl_ms), 1) / 1000
        return None

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        result = await self._set_if_absent(keys=[self._keys.plain(key)], args=[value, _ms(ttl)])
        return bool(result)

    async def publish(self, topic: str, message: str) -> None:
        await self._redis.publish(self._keys.plain(f"topic:{topic}"), message)

    async def has_subscribers(self, channel: str) -> bool:
        """Whether some client listens on `channel` (on a cluster, on any node)."""
        if isinstance(self._redis, RedisCluster):
            for node in self._redis.get_nodes():
                answer = await self._redis.pubsub_numsub(channel, target_nodes=node)
                if _numsub_total(answer) > 0:
                    return True
            return False
        return _numsub_total(await self._redis.pubsub_numsub(channel)) > 0

    async def subscribe(self, topic: str) -> AsyncIterator[str]:
        async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(self._keys.plain(f"topic:{topic}"))
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    yield str(item["data"])

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._keys.plain(key))
        return value if value is None else str(value)

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self._redis.set(self._keys.plain(key), value, px=_ms(ttl))

    async def delete_if(self, key: str, value: str) -> bool:
        return bool(await self._delete_if(keys=[self._keys.plain(key)], args=[value]))

    async def delete(self, key: str) -> bool:
        return bool(await self._redis.delete(self._keys.plain(key)))

    async def schedule(self, kind: str, member: str, due: float) -> None:
        await self._redis.zadd(self._keys.plain(f"schedule:{kind}"), {member: due})

    async def take_due(self, kind: str, now: float, limit: int = 100) -> list[str]:
        taken = await self._take_due(keys=[self._keys.plain(f"schedule:{kind}")], args=[now, limit])
        return [str(m) for m in taken]

    async def forget(self, *names: str) -> int:
        gone = 0
        for glob in [glob for name in names if name for glob in self._keys.about(name)]:
            async for key in self._redis.scan_iter(match=glob, count=500):
                gone += int(await self._redis.delete(key))  # one by one: keys of many slots
        return gone

    def inbound(self, backlog_cap: int, claim_after_seconds: float) -> RedisInbound:
        return RedisInbound(self._redis, self.prefix, backlog_cap, claim_after_seconds)

    async def close(self) -> None:
        await self._redis.aclose()
