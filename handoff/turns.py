"""ConversationTurns: one message at a time per conversation, across every gateway instance.

Two locks, nested:
- in this process, an asyncio lock per conversation: a second message waits, in order, only
  until the first is answered (no polling);
- across processes, a Redis lock (SET NX PX with this turn's token, renewed while the turn
  runs, released only by its holder in a Lua script): another gateway instance serving the
  same conversation (a shopper's second tab, an agent on another instance, a reconnect that
  landed elsewhere) waits for it. A holder killed in its turn stops renewing, and its lock
  expires after `lease_seconds`.

Rasa's own lock store orders what reaches Rasa; this one also orders what the gateway does
around it (the feed lines, the handoff decision) and lets a turn find out that a message
was left half-done by an instance that died (handoff/gateway.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator, Dict, Tuple

from redis.asyncio import Redis

from handoff import redis_keys

# KEYS[1] turn key. ARGV[1] token, ARGV[2] lease ms. Extends the lease only for its holder.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# KEYS[1] turn key. ARGV[1] token. Deletes the lock only for its holder.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
POLL_SECONDS = 0.01


class TurnTimeout(Exception):
    """The conversation stayed busy longer than a shopper should wait."""


class ConversationTurns:
    def __init__(self, redis: Redis, lease_seconds: float = 6.0, wait_seconds: float = 30.0) -> None:
        self._redis = redis
        self._lease_ms = int(lease_seconds * 1000)
        self._wait_seconds = wait_seconds
        self._renew = redis.register_script(RENEW)
        self._release = redis.register_script(RELEASE)
        self._locks: Dict[str, Tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, conversation_id: str) -> AsyncIterator[None]:
        async with self._local(conversation_id):
            key = redis_keys.CONVERSATION_TURN.format(conversation_id=conversation_id)
            token = uuid.uuid4().hex
            await self._acquire(key, token)
            done = asyncio.Event()
            renewing = asyncio.create_task(self._keep_renewing(key, token, done))
            try:
                yield
            finally:
                # Told to stop, not cancelled: redis-py can swallow a cancellation that arrives
                # while it checks a pooled connection (async_timeout(0)), and a renewer that
                # missed it kept the lease, and the conversation, forever.
                done.set()
                await renewing
                await self._release(keys=[key], args=[token])

    async def _acquire(self, key: str, token: str) -> None:
        deadline = time.monotonic() + self._wait_seconds
        while not await self._redis.set(key, token, nx=True, px=self._lease_ms):
            if time.monotonic() > deadline:
                raise TurnTimeout(f"{key} stayed busy for {self._wait_seconds} s")
            await asyncio.sleep(POLL_SECONDS)

    async def _keep_renewing(self, key: str, token: str, done: asyncio.Event) -> None:
        """Extend the lease every third of it until the turn is done."""
        while not done.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), self._lease_ms / 3000)
            if done.is_set():
                return
            with contextlib.suppress(Exception):  # a missed renewal only shortens the lease
                await self._renew(keys=[key], args=[token, self._lease_ms])

    @asynccontextmanager
    async def _local(self, conversation_id: str) -> AsyncIterator[None]:
        lock, waiting = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._locks[conversation_id]
            if waiting == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, waiting - 1)

    def __len__(self) -> int:
        return len(self._locks)
