"""The waiting queue as agents see it (HTTP route and console socket alike): phones masked,
and reading it counts as the agent's heartbeat."""

from __future__ import annotations

from typing import List

from pydantic import BaseModel

from handoff.console.masking import masked_ticket
from handoff.tickets.models import TicketOut
from handoff.tickets.service import TicketService


class Queue(BaseModel):
    tickets: List[TicketOut]
    agents_online: int


async def queue_snapshot(tickets: TicketService, agent_id: str) -> Queue:
    await tickets.mark_agent_online(agent_id)
    waiting = [masked_ticket(ticket) for ticket in await tickets.waiting()]  # nobody handles them yet
    return Queue(tickets=waiting, agents_online=await tickets.agents_online())
