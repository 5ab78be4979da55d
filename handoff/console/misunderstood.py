""""Bot misunderstood": an agent marks a shopper message the bot got wrong, with the right intent.

The marks go to a Redis stream the trainers' inbox reads (issue: trainer inbox); nothing of it
reaches the shopper. The right intent must be one of the domain's intents. Phone numbers are masked
before the mark is stored (as in the inbox), and marks are kept as long as inbox items
(inbox_retention_seconds): each new mark trims the older ones, and a stream nobody adds to expires.
"""

from __future__ import annotations

import json
import time
from typing import Optional

from pydantic import BaseModel, Field
from redis.asyncio import Redis

from handoff import redis_keys
from handoff.console.masking import mask_phones

MAX_MARKS_KEPT = 100_000


class MisunderstoodIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=2000)  # the shopper's message as the agent saw it
    right_intent: str = Field(..., min_length=1, max_length=64)
    predicted_intent: Optional[str] = Field(None, max_length=64)


async def mark(
    redis: Redis, conversation_id: str, agent_id: str, body: MisunderstoodIn, retention_seconds: int
) -> str:
    now = time.time()
    entry = {
        "conversation_id": conversation_id,
        "agent_id": agent_id,
        "text": mask_phones(body.text),
        "right_intent": body.right_intent,
        "predicted_intent": body.predicted_intent or "",
        "at": now,
    }
    oldest_kept = f"{int((now - retention_seconds) * 1000)}-0"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xadd(
            redis_keys.MISUNDERSTOOD, {"mark": json.dumps(entry, ensure_ascii=False)}, maxlen=MAX_MARKS_KEPT,
            approximate=True,
        )
        pipe.xtrim(redis_keys.MISUNDERSTOOD, minid=oldest_kept, approximate=False)  # marks are rare: exact
        pipe.expire(redis_keys.MISUNDERSTOOD, retention_seconds)
        message_id, _, _ = await pipe.execute()
    return message_id.decode() if isinstance(message_id, bytes) else message_id
