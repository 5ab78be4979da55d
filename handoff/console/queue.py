"""The queue as an agent sees it (HTTP route and console socket alike): the waiting tickets with
phones masked (nobody handles them yet), the tickets the agent holds in full; reading it counts
as the agent's heartbeat."""

from __future__ import annotations

from typing import List

from pydantic import BaseModel

from handoff.console.masking import masked_ticket
from handoff.tickets.models import TicketOut
from handoff.tickets.service import TicketService


class Queue(BaseModel):
    tickets: List[TicketOut]  # waiting, next to serve first
    agents_online: int
    mine: List[TicketOut] = []  # held by this agent (claimed, or transferred to them)


async def queue_snapshot(tickets: TicketService, agent_id: str) -> Queue:
    await tickets.mark_agent_online(agent_id)
    waiting = [masked_ticket(ticket) for ticket in await tickets.waiting()]
    return Queue(tickets=waiting, agents_online=await tickets.agents_online(), mine=await tickets.held_by(agent_id))
