"""Inbound chat updates on Redis: one stream read by a consumer group, so every worker consumes,
an entry is acknowledged only after it was handled, and a dead worker's entries are claimed by
another after `claim_after_seconds`. Per-chat order: each update gets the chat's next sequence
number when pushed; a worker handles an entry only when it is the chat's next one (holding the
chat's lock), so order holds whichever worker reads which entry. Keys share one hash tag.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisError, ResponseError

from token_core.chat.inbound import Handler, InboundUpdate, Pushed
from token_core.vocabulary import Channel

logger = logging.getLogger(__name__)
GROUP = "workers"

# KEYS: stream, seq, done, seen, capped. ARGV: cap, seen ms, chat, channel, update id, payload,
# request id (of the webhook call that queued it, for the log lines of its handling).
_PUSH = """
if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[2]) then return {'duplicate', 0} end
local done = tonumber(redis.call('GET', KEYS[3]) or '0')
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
if seq - done >= tonumber(ARGV[1]) then
  if redis.call('SET', KEYS[5], '1', 'NX', 'PX', 86400000) then return {'over_cap_first', seq} end
  return {'over_cap', seq}
end
seq = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 604800000)
redis.call('XADD', KEYS[1], '*', 'chat', ARGV[3], 'channel', ARGV[4], 'seq', seq,
           'update', ARGV[5], 'payload', ARGV[6], 'rid', ARGV[7])
return {'queued', seq}
"""

# KEYS: lock, done, stream. ARGV: owner, lock ms, seq, group, entry id.
# 'go' (lock taken: handle it), 'gap' (an earlier update is still out), 'busy' (another worker
# holds the chat), or 'stale' (already handled: acknowledged and dropped here).
_CLAIM = """
local done = tonumber(redis.call('GET', KEYS[2]) or '0')
local seq = tonumber(ARGV[3])
if seq <= done then
  redis.call('XACK', KEYS[3], ARGV[4], ARGV[5])
  redis.call('XDEL', KEYS[3], ARGV[5])
  return 'stale'
end
if seq > done + 1 then return 'gap' end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'busy' end
return 'go'
"""

# KEYS: done, capped, seq, lock, stream. ARGV: seq, owner, group, entry id.
# The chat's entry `seq` is handled: mark it, acknowledge and drop it, release the chat.
_FINISH = """
local done = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > done then redis.call('SET', KEYS[1], ARGV[1], 'PX', 604800000) end
if tonumber(redis.call('GET', KEYS[3]) or '0') <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[2])
end
redis.call('XACK', KEYS[5], ARGV[3], ARGV[4])
redis.call('XDEL', KEYS[5], ARGV[4])
if redis.call('GET', KEYS[4]) == ARGV[2] then redis.call('DEL', KEYS[4]) end
return 1
"""


class RedisInbound:
    def __init__(
        self,
        client: Redis | RedisCluster,
        prefix: str,
        backlog_cap: int = 50,
        claim_after_seconds: float = 30.0,
        seen_seconds: float = 86400,
        consumer: str | None = None,
    ) -> None:
        self._redis = client
        self._tag = f"{prefix}{{inbound}}"
        self._stream = f"{self._tag}:stream"
        self._cap = backlog_cap
        self._claim_ms = max(int(claim_after_seconds * 1000), 1)
        self._seen_ms = int(seen_seconds * 1000)
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self._push = client.register_script(_PUSH)
        self._claim = client.register_script(_CLAIM)
        self._finish = client.register_script(_FINISH)

    def _chat_key(self, kind: str, chat: str) -> str:
        return f"{self._tag}:{kind}:{chat}"

    async def push(self, update: InboundUpdate) -> Pushed:
        chat = f"{update.channel.value}:{update.chat_id}"
        status, _seq = await self._push(
            keys=[
                self._stream,
                self._chat_key("seq", chat),
                self._chat_key("done", chat),
                self._chat_key("seen", f"{update.channel.value}:{update.update_id}"),
                self._chat_key("capped", chat),
            ],
            args=[
                self._cap,
                self._seen_ms,
                chat,
                update.channel.value,
                update.update_id,
                update.payload,
                update.request_id,
            ],
        )
        return Pushed(str(status))

    async def _ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, handle: Handler, stop: Callable[[], bool]) -> None:
        await self._ensure_group()
        slots = asyncio.Semaphore(256)
        chats: dict[str, asyncio.Task[None]] = {}
        pending: dict[str, list[tuple[str, dict[str, str]]]] = {}
        last_claim = 0.0
        loop = asyncio.get_running_loop()
        while not stop():
            try:
                entries = await self._read(block_ms=200)
                if loop.time() - last_claim > self._claim_ms / 2000:
                    last_claim = loop.time()
                    entries += await self._claim_stale()
            except RedisError:
                logger.warning("inbound stream unavailable; retrying", exc_info=True)
                await asyncio.sleep(1)
                continue
            for entry_id, fields in entries:
                chat = fields["chat"]
                pending.setdefault(chat, []).append((entry_id, fields))
                if chat not in chats or chats[chat].done():
                    chats[chat] = asyncio.create_task(self._drain(chat, pending, handle, slots))
        await asyncio.gather(*chats.values(), return_exceptions=True)

    async def _read(self, block_ms: int) -> list[tuple[str, dict[str, str]]]:
        answer: Any = await self._redis.xreadgroup(
            GROUP, self.consumer, {self._stream: ">"}, count=64, block=block_ms
        )
        return [(str(i), dict(f)) for _name, items in answer or [] for i, f in items]

    async def _claim_stale(self) -> list[tuple[str, dict[str, str]]]:
        """Entries another (dead or stuck) worker read long ago and never acknowledged."""
        answer: Any = await self._redis.xautoclaim(
            self._stream, GROUP, self.consumer, self._claim_ms, start_id="0-0", count=64
        )
        items = answer[1] if answer else []
        return [(str(i), dict(f)) for i, f in items if f]

    async def _drain(
        self,
        chat: str,
        pending: dict[str, list[tuple[str, dict[str, str]]]],
        handle: Handler,
        slots: asyncio.Semaphore,
    ) -> None:
        async with slots:
            while pending.get(chat):
                entries = sorted(pending[chat], key=lambda e: int(e[1]["seq"]))
                pending[chat] = []
                for entry_id, fields in entries:
                    if not await self._handle_entry(chat, entry_id, fields, handle):
                        # An earlier update of this chat is still with another worker: try
                        # again shortly (or claim it when that worker is gone).
                        await asyncio.sleep(0.2)
                        pending[chat].append((entry_id, fields))
            pending.pop(chat, None)

    async def _handle_entry(
        self, chat: str, entry_id: str, fields: dict[str, str], handle: Handler
    ) -> bool:
        """Handle the entry if it is the chat's next one; True once it is dealt with. Two
        round trips per update: one script to claim it, one to finish it.
        """
        seq = int(fields["seq"])
        lock = self._chat_key("lock", chat)
        verdict = await self._claim(
            keys=[lock, self._chat_key("done", chat), self._stream],
            args=[self.consumer, 60_000, seq, GROUP, entry_id],
        )
        if verdict == "stale":
            return True
        if verdict != "go":
            return False
        update = InboundUpdate(
            Channel(fields["channel"]),
            chat.split(":", 1)[1],
            fields["update"],
            fields["payload"],
            fields.get("rid", ""),
        )
        try:
            await handle(update)
        except asyncio.CancelledError:
            # Stopped mid-way (shutdown): not handled, so not acknowledged; another worker (or
            # this one, restarted) takes it over. Free the chat now rather than in a minute.
            with contextlib.suppress(RedisError):
                if await self._redis.get(lock) == self.consumer:
                    await self._redis.delete(lock)
            raise
        except Exception:
            logger.exception("inbound update %s of chat %s failed", entry_id, chat)
        await self._finish(
            keys=[
                self._chat_key("done", chat),
                self._chat_key("capped", chat),
                self._chat_key("seq", chat),
                lock,
                self._stream,
            ],
            args=[seq, self.consumer, GROUP, entry_id],
        )
        return True

    async def close(self) -> None:
        pass
