"""The conversation feed: everything said in one conversation, in order, in a Redis stream.

Every line a shopper reads or writes lands here once, in the order it happened: the shopper's
own messages (with the client's message id, so the page can match its pending bubble), the
bot's replies (buttons carry signed tokens, never Rasa payloads), what agents say, and the
system's notices. The chat page and the agents' console read it from the last id they have
seen (over their WebSockets, or `GET /api/chat/updates?after=…`), so a reconnect neither loses
nor doubles a line, and any gateway instance can serve any reader: the stream is the fan-out.
Stream ids are the message ids; the stream expires `retention` seconds after its last line.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from redis.asyncio import Redis

from handoff import redis_keys

MAX_MESSAGES_KEPT = 1000
PAGE = 100
FeedEntry = Tuple[str, Dict[str, Any]]  # (stream id, message)


def feed_key(conversation_id: str) -> str:
    return redis_keys.FEED.format(conversation_id=conversation_id)


STREAM_ID = re.compile(r"(\d+)(?:-(\d+))?", re.ASCII)  # ASCII digits: "¹".isdigit() is True


def valid_stream_id(value: str) -> bool:
    """A Redis stream id ("<ms>" or "<ms>-<seq>", each part a 64-bit unsigned number)."""
    match = STREAM_ID.fullmatch(value)
    return match is not None and all(int(part) < 2**64 for part in match.groups() if part is not None)


class ConversationFeed:
    def __init__(self, redis: Redis, retention_seconds: int) -> None:
        self._redis = redis
        self._retention_seconds = retention_seconds

    async def push(self, conversation_id: str, message: Dict[str, Any]) -> str:
        """Append one line; its id (a Redis stream id, in order)."""
        return (await self.push_many(conversation_id, [message]))[0]

    async def push_many(
        self, conversation_id: str, messages: Sequence[Dict[str, Any]], and_set: Optional[Tuple[str, str, int]] = None
    ) -> List[str]:
        """Append lines in one round trip (MULTI), in the given order; their ids. `and_set`
        (key, value, seconds) is written in the same transaction: both happen, or neither."""
        key = feed_key(conversation_id)
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            for message in messages:
                entry = {"message": json.dumps({**message, "at": now}, ensure_ascii=False)}
                pipe.xadd(key, entry, maxlen=MAX_MESSAGES_KEPT, approximate=True)
            pipe.expire(key, self._retention_seconds)
            if and_set:
                pipe.set(and_set[0], and_set[1], ex=and_set[2])
            results = await pipe.execute()
        return [_text(entry_id) for entry_id in results[: len(messages)]]

    async def after(self, conversation_id: str, last_seen: str = "0-0", count: int = PAGE) -> List[FeedEntry]:
        """Lines after `last_seen` (exclusive), oldest first, at most `count`."""
        entries = await self._redis.xrange(feed_key(conversation_id), min=f"({last_seen}", max="+", count=count)
        return [decode_entry(entry_id, fields) for entry_id, fields in entries]

    async def wait(self, cursors: Mapping[str, str], block_ms: int) -> List[Tuple[str, str, Dict[str, Any]]]:
        """Lines after each conversation's cursor, waiting up to `block_ms` when there are none:
        [(conversation_id, id, message)], per conversation oldest first."""
        if not cursors:
            return []
        streams = {feed_key(conversation_id): cursor for conversation_id, cursor in cursors.items()}
        by_key = {feed_key(conversation_id): conversation_id for conversation_id in cursors}
        answer = await self._redis.xread(streams, count=PAGE, block=block_ms)
        return [
            (by_key[_text(key)], *decode_entry(entry_id, fields))
            for key, entries in answer or []
            for entry_id, fields in entries
        ]


def decode_entry(entry_id: Any, fields: Dict[bytes, bytes]) -> FeedEntry:
    return _text(entry_id), json.loads(_text(fields[b"message"]))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value
