"""Private notes on a ticket: what agents tell each other, never shown to the shopper.

Notes live as long as their ticket: none expire while it is open; returning it to the bot sets
the expiry of both (handoff/tickets/service.py), and a note added later takes the ticket's."""

from __future__ import annotations

import json
import time
from typing import List

from pydantic import BaseModel
from redis.asyncio import Redis

from handoff import redis_keys

MAX_NOTES = 200


class Note(BaseModel):
    agent_id: str
    agent_name: str
    text: str
    at: float


class TicketNotes:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def add(self, ticket_id: str, agent_id: str, agent_name: str, text: str) -> Note:
        note = Note(agent_id=agent_id, agent_name=agent_name, text=text, at=time.time())
        key = redis_keys.TICKET_NOTES.format(ticket_id=ticket_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, note.json(ensure_ascii=False))
            pipe.ltrim(key, -MAX_NOTES, -1)
            pipe.pttl(redis_keys.TICKET.format(ticket_id=ticket_id))
            _, _, ticket_ttl_ms = await pipe.execute()
        if ticket_ttl_ms > 0:  # the ticket has ended and expires: its notes with it
            await self._redis.pexpire(key, ticket_ttl_ms)
        return note

    async def all(self, ticket_id: str) -> List[Note]:
        rows = await self._redis.lrange(redis_keys.TICKET_NOTES.format(ticket_id=ticket_id), 0, -1)
        return [Note.parse_obj(json.loads(row)) for row in rows]
