"""The review inbox in Redis: shopper messages worth a trainer's look, grouped by their text.

A message lands here when the live bot parsed it with low confidence, fell back on it, handed
the conversation off right after it, or an agent marked it "bot misunderstood" (with the right
intent). Messages that read the same once normalised, punctuation, spaces, emoji and case are
gone count as one item: its count, first and last seen, the latest predicted intent and
confidence, why it landed here, and the latest conversation it came from. Phone numbers are
masked before anything is stored. Everything is in Redis (AOF in `make run`), so a restart
loses nothing; an item expires `retention` seconds after it was last seen.

Keys (handoff/redis_keys.py): one hash per item, a sorted set of the open items by count, and a
hash of observations per day (the page's chart).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Dict, List, Optional, Sequence, Union

from redis.asyncio import Redis

from bot.text_normalization import normalize
from handoff import redis_keys
from handoff.console.masking import mask_phones

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
MAX_TEXT_CHARS = 500
STORE_TIMEZONE = timezone(timedelta(hours=8), "CST")


class Reason(str, Enum):
    low_confidence = "low_confidence"
    fallback = "fallback"
    before_handoff = "before_handoff"
    misunderstood = "misunderstood"  # an agent said so, with the right intent


class Status(str, Enum):
    open = "open"
    labelled = "labelled"
    ignored = "ignored"


@dataclass
class InboxItem:
    key: str
    text: str
    count: int
    first_seen: float
    last_seen: float
    reasons: List[str]
    status: str
    predicted_intent: Optional[str] = None
    confidence: Optional[float] = None
    conversation_id: Optional[str] = None
    right_intent: Optional[str] = None  # what an agent said it meant
    labelled_intent: Optional[str] = None
    labelled_by: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)


def grouping_text(text: str) -> str:
    """What makes two messages the same item: the normalised text without punctuation, spaces,
    emoji and case."""
    return _NOT_WORD.sub("", normalize(text).text).lower()


def item_key(text: str) -> str:
    return hashlib.sha1(grouping_text(text).encode()).hexdigest()[:16]


# KEYS: 1 item hash, 2 open by count, 3 daily counts.
# ARGV: 1 key, 2 text, 3 now, 4 reason, 5 predicted intent, 6 confidence, 7 conversation id,
# 8 right intent, 9 day, 10 retention seconds.
OBSERVE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'text', ARGV[2], 'first_seen', ARGV[3], 'status', 'open', 'reasons', '', 'count', 0)
end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last_seen', ARGV[3], 'conversation_id', ARGV[7])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'predicted_intent', ARGV[5], 'confidence', ARGV[6]) end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'right_intent', ARGV[8]) end
local reasons = redis.call('HGET', KEYS[1], 'reasons')
if not string.find(',' .. reasons .. ',', ',' .. ARGV[4] .. ',', 1, true) then
  if reasons == '' then reasons = ARGV[4] else reasons = reasons .. ',' .. ARGV[4] end
  redis.call('HSET', KEYS[1], 'reasons', reasons)
end
if redis.call('HGET', KEYS[1], 'status') == 'open' then redis.call('ZADD', KEYS[2], count, ARGV[1]) end
redis.call('HINCRBY', KEYS[3], ARGV[9], 1)
redis.call('EXPIRE', KEYS[1], ARGV[10])
return count
"""


class ReviewInbox:
    def __init__(self, redis: Redis, retention_seconds: int) -> None:
        self._redis = redis
        self._retention_seconds = retention_seconds
        self._observe = redis.register_script(OBSERVE_SCRIPT)

    async def observe(
        self,
        text: str,
        reason: Reason,
        conversation_id: str,
        predicted_intent: Optional[str] = None,
        confidence: Optional[float] = None,
        right_intent: Optional[str] = None,
        now: Optional[float] = None,
    ) -> str:
        """Count one message; the item's key."""
        now = time.time() if now is None else now
        shown = mask_phones(text.strip())[:MAX_TEXT_CHARS]
        key = item_key(shown)
        keys = [_item(key), redis_keys.INBOX_OPEN, redis_keys.INBOX_DAILY]
        args = [
            key, shown, repr(now), reason.value, predicted_intent or "",
            "" if confidence is None else repr(float(confidence)), conversation_id, right_intent or "",
            _day(now), self._retention_seconds,
        ]
        await self._observe(keys=keys, args=args)
        return key

    async def get(self, key: str) -> Optional[InboxItem]:
        fields = await self._redis.hgetall(_item(key))
        return _parse(key, fields) if fields else None

    async def open_items(self, limit: int = 50, offset: int = 0, intent: Optional[str] = None,
                         since: Optional[float] = None, until: Optional[float] = None) -> List[InboxItem]:
        """Open items, the most frequent first, filtered by predicted intent and last-seen time."""
        keys = [_text(k) for k in await self._redis.zrevrange(redis_keys.INBOX_OPEN, 0, -1)]
        items = await self._items(keys)
        chosen = [
            item for item in items
            if (intent is None or item.predicted_intent == intent or item.right_intent == intent)
            and (since is None or item.last_seen >= since)
            and (until is None or item.last_seen < until)
        ]
        return chosen[offset: offset + limit]

    async def close(self, key: str, status: Status, by: str, labelled_intent: Optional[str] = None) -> bool:
        """Take an item out of the open list (labelled or ignored); False when there is no such item."""
        if not await self._redis.exists(_item(key)):
            return False
        fields = {"status": status.value, "labelled_by": by, "closed_at": repr(time.time())}
        if labelled_intent:
            fields["labelled_intent"] = labelled_intent
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(_item(key), mapping=fields)
            pipe.zrem(redis_keys.INBOX_OPEN, key)
            await pipe.execute()
        return True

    async def daily_counts(self, days: int = 30, now: Optional[float] = None) -> Dict[str, int]:
        now = time.time() if now is None else now
        wanted = [_day(now - 86400 * back) for back in range(days - 1, -1, -1)]
        counts = await self._redis.hmget(redis_keys.INBOX_DAILY, wanted)
        return {day: int(count or 0) for day, count in zip(wanted, counts, strict=True)}

    async def _items(self, keys: Sequence[str]) -> List[InboxItem]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(_item(key))
            rows = await pipe.execute()
        gone = [key for key, fields in zip(keys, rows, strict=True) if not fields]
        if gone:  # expired items: forget them in the open list too
            await self._redis.zrem(redis_keys.INBOX_OPEN, *gone)
        return [_parse(key, fields) for key, fields in zip(keys, rows, strict=True) if fields]


def _item(key: str) -> str:
    return redis_keys.INBOX_ITEM.format(key=key)


def _day(unix_seconds: float) -> str:
    """The store's calendar day (China Standard Time), as trainers count days."""
    return datetime.fromtimestamp(unix_seconds, tz=STORE_TIMEZONE).strftime("%Y-%m-%d")


def _parse(key: str, raw: Dict[Union[bytes, str], Union[bytes, str]]) -> InboxItem:
    values = {_text(k): _text(v) for k, v in raw.items()}
    confidence = values.get("confidence")
    return InboxItem(
        key=key,
        text=values.get("text", ""),
        count=int(values.get("count") or 0),
        first_seen=float(values.get("first_seen") or 0),
        last_seen=float(values.get("last_seen") or 0),
        reasons=[r for r in (values.get("reasons") or "").split(",") if r],
        status=values.get("status") or Status.open.value,
        predicted_intent=values.get("predicted_intent") or None,
        confidence=float(confidence) if confidence else None,
        conversation_id=values.get("conversation_id") or None,
        right_intent=values.get("right_intent") or None,
        labelled_intent=values.get("labelled_intent") or None,
        labelled_by=values.get("labelled_by") or None,
    )


def _text(value: Union[bytes, str]) -> str:
    return value.decode() if isinstance(value, bytes) else value
