"""Handoff ticket routes for internal callers (service token): the action server hands off here.

POST /internal/tickets                               TicketIn -> 201 TicketOut (queued) or 200 (the open one)
GET  /internal/tickets/{ticket_id}                   TicketOut with its place in the queue while waiting
GET  /internal/conversations/{conversation_id}/owner who answers the conversation

The queue itself lives in handoff/tickets/service.py, the ownership rules in handoff/ownership.py.
"""

from __future__ import annotations

import logging
from typing import Optional

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel

from handoff.deps import RedisDep, ServiceCaller, TicketServiceDep
from handoff.errors import api_error
from handoff.ownership import Owner, get_ownership
from handoff.tickets.models import TicketIn, TicketOut

logger = logging.getLogger(__name__)

router = APIRouter(tags=["tickets"])


class ConversationOwnerOut(BaseModel):
    owner: Owner
    agent_id: Optional[str] = None
    ticket_id: Optional[str] = None


@router.post("/internal/tickets", status_code=201, response_model=TicketOut)
async def open_ticket(
    ticket_in: TicketIn, response: Response, _: ServiceCaller, service: TicketServiceDep
) -> TicketOut:
    ticket, created = await service.enqueue(ticket_in)
    if not created:
        response.status_code = 200
        logger.info("conversation %s already has ticket %s", ticket_in.conversation_id, ticket.ticket_id)
    return await service.with_position(ticket)


@router.get("/internal/tickets/{ticket_id}", response_model=TicketOut)
async def read_ticket(ticket_id: str, _: ServiceCaller, service: TicketServiceDep) -> TicketOut:
    ticket = await service.get(ticket_id)
    if ticket is None:
        raise _ticket_not_found()
    return await service.with_position(ticket)


@router.get("/internal/conversations/{conversation_id}/owner", response_model=ConversationOwnerOut)
async def conversation_owner(conversation_id: str, _: ServiceCaller, redis: RedisDep) -> ConversationOwnerOut:
    ownership = await get_ownership(redis, conversation_id)
    return ConversationOwnerOut(owner=ownership.owner, agent_id=ownership.agent_id, ticket_id=ownership.ticket_id)


def _ticket_not_found() -> HTTPException:
    return api_error(404, "ticket_not_found", "工单不存在")
