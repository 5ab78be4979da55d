"""The queue as an agent sees it (HTTP route and console socket alike): the waiting tickets with
phones masked (nobody handles them yet), the tickets the agent holds in full; reading it counts
as the agent's heartbeat.

The console socket sends the waiting tickets as slim rows (what a queue row shows, no transcript)
built once per queue change for every socket of the process (`SharedQueue`): fifty agents woken by
one ticket event read Redis and mask once, not fifty times.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, List, Optional, Tuple

from pydantic import BaseModel

from handoff.console.masking import mask_phones, masked_ticket
from handoff.tickets.models import TicketOut
from handoff.tickets.service import TicketService

ROW_FIELDS = ("conversation_id", "angry", "anger_score")
# A snapshot this young is reused even without a newer event id (waiting times come from created_at).
MAX_AGE_SECONDS = 1.0


class Queue(BaseModel):
    tickets: List[TicketOut]  # waiting, next to serve first
    agents_online: int
    mine: List[TicketOut] = []  # held by this agent (claimed, or transferred to them)


async def queue_snapshot(tickets: TicketService, agent_id: str) -> Queue:
    await tickets.mark_agent_online(agent_id)
    waiting = [masked_ticket(ticket) for ticket in await tickets.waiting()]
    return Queue(tickets=waiting, agents_online=await tickets.agents_online(), mine=await tickets.held_by(agent_id))


def queue_row(ticket: TicketOut) -> Dict[str, Any]:
    """One waiting ticket as a queue row: reason, anger, summary (phones masked), waiting since."""
    inner = ticket.ticket
    row = {field: getattr(inner, field) for field in ROW_FIELDS}
    row["reason"] = inner.reason.value
    row["summary_zh"] = mask_phones(inner.summary_zh)
    return {
        "ticket_id": ticket.ticket_id,
        "status": ticket.status.value,
        "priority": ticket.priority,
        "created_at": ticket.created_at,
        "ticket": row,
    }


def _stream_id(value: str) -> Tuple[int, int]:
    head, _, tail = value.partition("-")
    return int(head or 0), int(tail or 0)


class SharedQueue:
    """The waiting queue's rows, built once for all the console sockets of this process: rebuilt
    when a socket has seen a newer ticket event than the snapshot, or when it is older than
    MAX_AGE_SECONDS."""

    def __init__(self, tickets: TicketService) -> None:
        self._tickets = tickets
        self._lock = asyncio.Lock()
        self._rows: List[Dict[str, Any]] = []
        self._event_id: Optional[Tuple[int, int]] = None
        self._built_at = 0.0

    async def rows(self, event_id: str) -> List[Dict[str, Any]]:
        seen = _stream_id(event_id)
        async with self._lock:
            fresh = time.monotonic() - self._built_at < MAX_AGE_SECONDS
            if self._event_id is None or seen > self._event_id or not fresh:
                self._rows = [queue_row(ticket) for ticket in await self._tickets.waiting()]
                self._event_id, self._built_at = max(seen, self._event_id or seen), time.monotonic()
            return self._rows
