"""Rate limits per sender in Redis (a fixed one-minute window per sender, shared by every instance).

A sender is "shopper:<subject>" or "agent:<agent_id>". Counting is one INCR (and an EXPIRE on
the window's first message), so a limit costs one round trip and keeps no state in a process.
"""

from __future__ import annotations

import time
from typing import Optional

from redis.asyncio import Redis

from handoff import redis_keys

WINDOW_SECONDS = 60
SHOPPER_MESSAGE_ZH = "您发送得太快了，请稍等一会儿再发，我们都收到了。"
AGENT_MESSAGE_ZH = "发送过于频繁，请稍后再试。"


class RateLimited(Exception):
    def __init__(self, message_zh: str, retry_after_seconds: int) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.retry_after_seconds = retry_after_seconds


async def count_message(redis: Redis, sender: str, per_minute: int, message_zh: str, now: Optional[float] = None) -> None:
    """Count one message of `sender`; RateLimited when it is above `per_minute` in this window."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = redis_keys.RATE.format(sender=sender, window=window)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS * 2)
        count, _ = await pipe.execute()
    if count > per_minute:
        raise RateLimited(message_zh, retry_after_seconds=int((window + 1) * WINDOW_SECONDS - now) + 1)
