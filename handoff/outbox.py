"""Outbox: what a person says to a shopper, kept per conversation in a Redis stream.

Agents' messages go into the conversation's stream; the chat page reads it from the last id it
has seen (`GET /api/chat/updates?after=…`, later pushed over its WebSocket), so a reconnect
neither loses nor doubles a message. Stream ids are the message ids.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Tuple

from redis.asyncio import Redis

from handoff import redis_keys

MAX_MESSAGES_KEPT = 1000
PAGE = 100


def _key(conversation_id: str) -> str:
    return redis_keys.OUTBOX.format(conversation_id=conversation_id)


def valid_stream_id(value: str) -> bool:
    head, _, tail = value.partition("-")
    return head.isdigit() and (tail == "" or tail.isdigit())


class Outbox:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def push(self, conversation_id: str, message: Dict[str, Any]) -> str:
        """Append a message for the shopper; its id (a Redis stream id, in order)."""
        entry = {"message": json.dumps({**message, "at": time.time()}, ensure_ascii=False)}
        message_id = await self._redis.xadd(_key(conversation_id), entry, maxlen=MAX_MESSAGES_KEPT, approximate=True)
        return message_id.decode() if isinstance(message_id, bytes) else message_id

    async def after(self, conversation_id: str, last_seen: str = "0-0") -> List[Tuple[str, Dict[str, Any]]]:
        """Messages after `last_seen` (exclusive), oldest first, at most PAGE."""
        entries = await self._redis.xrange(_key(conversation_id), min=f"({last_seen}", max="+", count=PAGE)
        return [(_text(entry_id), json.loads(_text(fields[b"message"]))) for entry_id, fields in entries]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value
