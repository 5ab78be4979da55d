"""The agents' side: the queue, claiming a ticket, and talking to the shopper.

POST /api/agent/session                               sign in (sets the session cookie); DELETE signs out
GET  /api/agent/tickets                               the waiting queue (also the agent's heartbeat)
GET  /api/agent/tickets/{ticket_id}                   one ticket with its context
POST /api/agent/tickets/{ticket_id}/claim             take a ticket: exactly one agent wins
POST /api/agent/tickets/{ticket_id}/return            give the conversation back to the bot, with a note
POST /api/agent/tickets/{ticket_id}/transfer          hand the ticket to another agent
GET/POST /api/agent/tickets/{ticket_id}/notes         private notes agents leave each other
POST /api/agent/conversations/{conversation_id}/misunderstood
                                                      the bot got a message wrong: the right intent, for trainers
POST /api/agent/conversations/{conversation_id}/messages
                                                      say something to the shopper (owner agent only)
GET  /api/agent/agents, /api/agent/intents            colleagues to transfer to; intents to name

Every message an agent sends is written into the Rasa tracker as a bot event with the agent's
id in its metadata, so the transcript stays one whole, and into the conversation's feed (the chat page and the console read it).
"""

from __future__ import annotations

import logging
from typing import List

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from handoff.agent_sessions import issue_session
from handoff.agents import Agent
from handoff.console import misunderstood
from handoff.console.masking import masked_ticket
from handoff.console.misunderstood import MisunderstoodIn
from handoff.console.queue import Queue, queue_snapshot
from handoff.deps import (
    AgentStoreDep,
    CurrentAgent,
    FeedDep,
    GatewayDep,
    RasaDep,
    RedisDep,
    ReviewInboxDep,
    SettingsDep,
    TicketServiceDep,
)
from handoff.domain import domain_intents
from handoff.errors import api_error
from handoff.ownership import Owner, get_ownership
from handoff.rasa_client import RasaUnavailable
from handoff.rate_limit import AGENT_MESSAGE_ZH, RateLimited, count_message
from handoff.review.inbox import Reason as ReviewReason
from handoff.tickets.models import TicketOut, is_ticket_id
from handoff.tickets.notes import Note, TicketNotes
from handoff.tickets.service import ClaimOutcome, HandOverOutcome
from handoff.turns import TurnTimeout

logger = logging.getLogger(__name__)

router = APIRouter(tags=["console"])


class SignIn(BaseModel):
    agent_id: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=256)


class SignedIn(BaseModel):
    agent: Agent
    session: str  # also set as an HttpOnly cookie; the bearer form is for API clients


@router.post("/api/agent/session", response_model=SignedIn)
async def sign_in(credentials: SignIn, response: Response, agents: AgentStoreDep, settings: SettingsDep) -> SignedIn:
    agent = await agents.authenticate(credentials.agent_id, credentials.password)
    if agent is None:
        raise api_error(401, "wrong_credentials", "账号或密码不正确")
    ttl = settings.agent_session_ttl_seconds
    session = issue_session(agent, settings.agent_session_secret.get_secret_value(), ttl)
    response.set_cookie(
        settings.agent_cookie_name, session, max_age=ttl, httponly=True, samesite="strict", secure=settings.env == "prod"
    )
    return SignedIn(agent=agent, session=session)


@router.delete("/api/agent/session", status_code=204)
async def sign_out(response: Response, settings: SettingsDep) -> Response:
    response.delete_cookie(settings.agent_cookie_name)
    response.status_code = 204
    return response


class AgentMessageIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=2000)


class Sent(BaseModel):
    message_id: str


@router.get("/api/agent/tickets", response_model=Queue)
async def waiting_tickets(agent: CurrentAgent, tickets: TicketServiceDep) -> Queue:
    return await queue_snapshot(tickets, agent.agent_id)


@router.get("/api/agent/tickets/{ticket_id}", response_model=TicketOut)
async def read_ticket(ticket_id: str, agent: CurrentAgent, tickets: TicketServiceDep) -> TicketOut:
    """A ticket with its whole context: phone numbers whole only for the agent who has it."""
    ticket = await _existing_ticket(tickets, ticket_id)
    return ticket if ticket.agent_id == agent.agent_id else masked_ticket(ticket)


@router.post("/api/agent/tickets/{ticket_id}/claim", response_model=TicketOut)
async def claim(ticket_id: str, agent: CurrentAgent, tickets: TicketServiceDep, agents: AgentStoreDep) -> TicketOut:
    if not is_ticket_id(ticket_id):
        raise api_error(404, "ticket_not_found", "找不到这个工单")
    if not agent.takes_conversations:
        raise api_error(403, "agent_required", "训练师账号不能接手会话")
    result = await tickets.claim(ticket_id, agent.agent_id)
    if result.outcome == ClaimOutcome.not_found:
        raise api_error(404, "ticket_not_found", "找不到这个工单")
    if result.outcome == ClaimOutcome.already_claimed and result.agent_id != agent.agent_id:
        winner = await agents.get(result.agent_id or "")
        raise api_error(409, "already_claimed", f"该会话已被{winner.display_name if winner else '其他客服'}接手")
    if result.outcome == ClaimOutcome.not_waiting:
        raise api_error(409, "not_waiting", "这个工单已经结束或已交回机器人")
    ticket = await tickets.get(ticket_id)
    if ticket is None:
        raise api_error(404, "ticket_not_found", "找不到这个工单")
    return ticket


@router.post("/api/agent/conversations/{conversation_id}/messages", response_model=Sent, status_code=201)
async def send_to_shopper(
    conversation_id: str, message: AgentMessageIn, agent: CurrentAgent, redis: RedisDep, rasa: RasaDep, feed: FeedDep,
    settings: SettingsDep, gateway: GatewayDep,
) -> Sent:
    ownership = await get_ownership(redis, conversation_id)
    if ownership.owner != Owner.agent or ownership.agent_id != agent.agent_id:
        raise api_error(403, "not_your_conversation", "这个会话不在您名下，请先接手工单")
    try:
        await count_message(redis, f"agent:{agent.agent_id}", settings.agent_messages_per_minute, AGENT_MESSAGE_ZH)
    except RateLimited as error:
        raise api_error(429, "too_many_messages", error.message_zh,
                        headers={"Retry-After": str(error.retry_after_seconds)}) from error
    text = message.text.strip()
    if not text:
        raise api_error(422, "empty_message", "消息内容为空")
    metadata = {"agent_id": agent.agent_id, "agent_name": agent.display_name}
    # In the conversation's turn: a shopper message being handled holds Rasa's conversation lock,
    # which a second writer would wait on for a whole second.
    try:
        async with gateway.turns.turn(conversation_id):
            await rasa.record(conversation_id, [{"event": "bot", "text": text, "metadata": metadata}])
            message_id = await feed.push(conversation_id, {"from": "agent", "text": text, **metadata})
    except (RasaUnavailable, TurnTimeout) as error:
        logger.error("agent message for %s not recorded: %s", conversation_id, error)
        raise api_error(503, "bot_unavailable", "消息没有发出：对话记录暂时无法写入，请稍后重试") from error
    return Sent(message_id=message_id)


class ReturnIn(BaseModel):
    note: str = Field("", max_length=500)  # for the record: what the agent did


BACK_TO_BOT_ZH = "人工客服这边已经为您处理好了，接下来由我继续为您服务，还有其他问题随时告诉我。"
HAND_OVER_REFUSALS = {
    HandOverOutcome.not_found: (404, "ticket_not_found", "找不到这个工单"),
    HandOverOutcome.not_claimed: (409, "not_claimed", "这个工单没有在处理中"),
    HandOverOutcome.not_yours: (403, "not_your_conversation", "这个会话不在您名下，请先接手工单"),
}


@router.post("/api/agent/tickets/{ticket_id}/return", status_code=200)
async def return_to_bot(
    ticket_id: str, body: ReturnIn, agent: CurrentAgent, tickets: TicketServiceDep, rasa: RasaDep, feed: FeedDep
) -> dict:
    """The bot takes over again: it greets the shopper back and forgets the open ticket; the slots
    the agent's conversation set stay (the bot knows what was agreed)."""
    ticket = await tickets.get(ticket_id) if is_ticket_id(ticket_id) else None
    if ticket is None:
        raise api_error(*HAND_OVER_REFUSALS[HandOverOutcome.not_found])
    outcome, _ = await tickets.return_to_bot(ticket_id, agent.agent_id, body.note.strip())
    if outcome != HandOverOutcome.done:
        raise api_error(*HAND_OVER_REFUSALS[outcome])
    conversation_id = ticket.ticket.conversation_id
    events = [
        {"event": "slot", "name": "handoff_ticket_id", "value": None},
        {"event": "bot", "text": BACK_TO_BOT_ZH, "metadata": {"returned_by": agent.agent_id}},
        {"event": "action", "name": "action_listen"},
    ]
    try:
        await rasa.record(conversation_id, events)
    except RasaUnavailable as error:  # the bot owns it again either way; the greeting is what is missing
        logger.error("return of %s to the bot not recorded in Rasa: %s", conversation_id, error)
    await feed.push(conversation_id, {"from": "bot", "text": BACK_TO_BOT_ZH})
    return {"status": "returned", "conversation_id": conversation_id}


class TransferIn(BaseModel):
    to_agent_id: str = Field(..., min_length=1, max_length=64)


@router.post("/api/agent/tickets/{ticket_id}/transfer", response_model=TicketOut)
async def transfer(
    ticket_id: str, body: TransferIn, agent: CurrentAgent, tickets: TicketServiceDep, agents: AgentStoreDep
) -> TicketOut:
    if not is_ticket_id(ticket_id):
        raise api_error(*HAND_OVER_REFUSALS[HandOverOutcome.not_found])
    colleague = await agents.get(body.to_agent_id)
    if colleague is None or colleague.agent_id == agent.agent_id:
        raise api_error(422, "unknown_agent", "请选择另一位客服")
    outcome, _ = await tickets.transfer(ticket_id, agent.agent_id, colleague.agent_id)
    if outcome != HandOverOutcome.done:
        raise api_error(*HAND_OVER_REFUSALS[outcome])
    return masked_ticket(await tickets.get(ticket_id))  # no longer this agent's case


class NoteIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=1000)


class Notes(BaseModel):
    notes: List[Note]


@router.get("/api/agent/tickets/{ticket_id}/notes", response_model=Notes)
async def notes(ticket_id: str, agent: CurrentAgent, tickets: TicketServiceDep, redis: RedisDep) -> Notes:
    await _existing_ticket(tickets, ticket_id)
    return Notes(notes=await TicketNotes(redis).all(ticket_id))


@router.post("/api/agent/tickets/{ticket_id}/notes", response_model=Note, status_code=201)
async def add_note(ticket_id: str, body: NoteIn, agent: CurrentAgent, tickets: TicketServiceDep, redis: RedisDep) -> Note:
    await _existing_ticket(tickets, ticket_id)
    text = body.text.strip()
    if not text:
        raise api_error(422, "empty_note", "备注内容为空")
    return await TicketNotes(redis).add(ticket_id, agent.agent_id, agent.display_name, text)


async def _existing_ticket(tickets: TicketServiceDep, ticket_id: str) -> TicketOut:
    ticket = await tickets.get(ticket_id) if is_ticket_id(ticket_id) else None
    if ticket is None:
        raise api_error(404, "ticket_not_found", "找不到这个工单")
    return ticket


@router.post("/api/agent/conversations/{conversation_id}/misunderstood", status_code=201)
async def bot_misunderstood(
    conversation_id: str, body: MisunderstoodIn, agent: CurrentAgent, redis: RedisDep, inbox: ReviewInboxDep,
    settings: SettingsDep,
) -> dict:
    """The mark is kept as made (a stream, phones masked) and counted in the trainers' review inbox."""
    if body.right_intent not in domain_intents():
        raise api_error(422, "unknown_intent", "请选择一个已有的意图")
    mark_id = await misunderstood.mark(redis, conversation_id, agent.agent_id, body, settings.inbox_retention_seconds)
    await inbox.observe(body.text, ReviewReason.misunderstood, conversation_id, body.predicted_intent,
                        right_intent=body.right_intent)
    return {"mark_id": mark_id}


class Colleague(BaseModel):
    agent_id: str
    display_name: str
    role: str


class Colleagues(BaseModel):
    agents: List[Colleague]


@router.get("/api/agent/agents", response_model=Colleagues)
async def colleagues(agent: CurrentAgent, agents: AgentStoreDep) -> Colleagues:
    """Everyone a ticket can be transferred to (not the asking agent)."""
    others = [a for a in await agents.list() if a.agent_id != agent.agent_id]
    return Colleagues(agents=[Colleague(agent_id=a.agent_id, display_name=a.display_name, role=a.role.value) for a in others])


class Intents(BaseModel):
    intents: List[str]


@router.get("/api/agent/intents", response_model=Intents)
async def intents(agent: CurrentAgent) -> Intents:
    """The intents an agent may name when the bot misunderstood a message."""
    return Intents(intents=sorted(domain_intents()))
