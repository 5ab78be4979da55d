"""Case actions in the console: the agent who holds a ticket moves its return case on.

GET  /api/agent/tickets/{ticket_id}/case    {"case": ReturnCase, "actions": [{"status", "label", "allowed"}]}
POST /api/agent/tickets/{ticket_id}/case    {"status": "待寄回", "note": "…"} -> the same, after the move

Which moves: the shop's case state machine (actions/shop/case_states.py: approve = 待寄回 or
退款中 from 审核中, received = 已寄回, refund = 退款中/已退款, close = 已关闭). Who: the agent who holds
the ticket, or a supervisor; a refund of an item worth more than the policy's
`supervisor_refund_above_yuan` only a supervisor. The shopper is told in the chat (a bot line in
the feed and the Rasa tracker), so the transcript stays whole.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import List, Optional

from fastapi import APIRouter
from pydantic import BaseModel, Field

from actions import deps as shop_deps
from actions.shop.case_states import next_statuses
from actions.shop.models import CaseStatus, ReturnCase
from actions.shop.repository import CaseTransitionError, ShopError
from handoff.agents import Agent
from handoff.deps import CurrentAgent, FeedDep, RasaDep, TicketServiceDep
from handoff.errors import api_error
from handoff.rasa_client import RasaUnavailable
from handoff.tickets.models import TicketOut, TicketStatus, is_ticket_id

logger = logging.getLogger(__name__)

router = APIRouter(tags=["console"])

S = CaseStatus
LABELS_ZH = {
    S.AWAITING_RETURN: "审核通过，等顾客寄回",
    S.REFUNDING: "同意退款",
    S.REFUNDED: "退款已到账",
    S.RETURNED: "已收到退货",
    S.INSPECTING: "开始质检",
    S.EXCHANGED: "已换货",
    S.CLOSED: "关闭售后单",
}
REFUND_STATUSES = frozenset({S.REFUNDING, S.REFUNDED})
SHOPPER_NOTICE_ZH = {
    S.AWAITING_RETURN: "您的售后单{case_id}已审核通过，请按退货地址寄回商品，寄出后把运单号发给我们就可以。",
    S.REFUNDING: "您的售后单{case_id}已同意退款，款项会原路退回，请留意到账通知。",
    S.REFUNDED: "售后单{case_id}的退款已经退回您的原支付账户，请查收。",
    S.RETURNED: "我们已收到您寄回的商品（售后单{case_id}），会尽快为您质检处理。",
    S.INSPECTING: "售后单{case_id}的商品正在质检，结果出来后马上告诉您。",
    S.EXCHANGED: "售后单{case_id}的换货已处理好，新商品会尽快寄出。",
    S.CLOSED: "售后单{case_id}已关闭，之后有任何问题随时找我们。",
}


class CaseAction(BaseModel):
    status: CaseStatus
    label: str
    allowed: bool  # False: above this agent's role (a supervisor's refund)


class CaseView(BaseModel):
    case: ReturnCase
    actions: List[CaseAction]


class CaseMove(BaseModel):
    status: CaseStatus
    note: str = Field("", max_length=500)


@router.get("/api/agent/tickets/{ticket_id}/case", response_model=CaseView)
async def read_case(ticket_id: str, agent: CurrentAgent, tickets: TicketServiceDep) -> CaseView:
    ticket = await _held_ticket(tickets, ticket_id, agent)
    case = await _case_of(ticket)
    return await _view(case, agent)


@router.post("/api/agent/tickets/{ticket_id}/case", response_model=CaseView)
async def move_case(
    ticket_id: str, move: CaseMove, agent: CurrentAgent, tickets: TicketServiceDep, rasa: RasaDep, feed: FeedDep
) -> CaseView:
    ticket = await _held_ticket(tickets, ticket_id, agent)
    case = await _case_of(ticket)
    if move.status in REFUND_STATUSES and not agent.is_supervisor and await _above_agent_limit(case):
        raise api_error(403, "supervisor_required", "这件商品金额较高，退款需要主管操作")
    note = f"{agent.display_name}：{move.note.strip()}" if move.note.strip() else agent.display_name
    try:
        moved = await shop_deps.repository().advance_case(case.case_id, move.status, note)
    except CaseTransitionError as error:
        raise api_error(409, "case_transition", f"售后单当前为【{case.status.value}】，不能改为【{move.status.value}】") from error
    except ShopError as error:
        logger.error("case %s not moved: %s", case.case_id, error)
        raise api_error(503, "shop_unavailable", "售后系统暂时无法更新，请稍后重试") from error
    await _tell_shopper(ticket.ticket.conversation_id, moved, agent, rasa, feed)
    return await _view(moved, agent)


async def _held_ticket(tickets: TicketServiceDep, ticket_id: str, agent: Agent) -> TicketOut:
    ticket = await tickets.get(ticket_id) if is_ticket_id(ticket_id) else None
    if ticket is None:
        raise api_error(404, "ticket_not_found", "找不到这个工单")
    if not agent.is_supervisor and (ticket.status != TicketStatus.claimed or ticket.agent_id != agent.agent_id):
        raise api_error(403, "not_your_conversation", "这个会话不在您名下，请先接手工单")
    return ticket


async def _case_of(ticket: TicketOut) -> ReturnCase:
    case_id = (ticket.ticket.case or {}).get("case_id") or ticket.ticket.slots.get("case_id")
    case = await shop_deps.repository().get_case(str(case_id)) if case_id else None
    if case is None:
        raise api_error(404, "case_not_found", "这个会话还没有售后单")
    return case


async def _view(case: ReturnCase, agent: Agent) -> CaseView:
    above = await _above_agent_limit(case)
    actions = [
        CaseAction(status=status, label=LABELS_ZH[status], allowed=agent.is_supervisor or not (status in REFUND_STATUSES and above))
        for status in sorted(next_statuses(case.status), key=lambda s: list(CaseStatus).index(s))
    ]
    return CaseView(case=case, actions=actions)


async def _above_agent_limit(case: ReturnCase) -> bool:
    order = await shop_deps.repository().get_order(case.order_id)
    item = order.item(case.sku) if order else None
    value: Optional[Decimal] = item.unit_price * item.quantity if item else None
    limit = shop_deps.policy().human_review.supervisor_refund_above_yuan
    return value is None or value > Decimal(str(limit))


async def _tell_shopper(conversation_id: str, case: ReturnCase, agent: Agent, rasa: RasaDep, feed: FeedDep) -> None:
    text = SHOPPER_NOTICE_ZH[case.status].format(case_id=case.case_id)
    metadata = {"agent_id": agent.agent_id, "agent_name": agent.display_name, "case_status": case.status.value}
    try:
        await rasa.record(conversation_id, [{"event": "bot", "text": text, "metadata": metadata}])
    except RasaUnavailable as error:  # the case moved; the transcript misses the notice
        logger.error("case notice for %s not recorded in Rasa: %s", conversation_id, error)
    await feed.push(conversation_id, {"from": "agent", "text": text, **{k: metadata[k] for k in ("agent_id", "agent_name")}})
