"""action_handoff_to_human: queue the conversation for a person, with everything the bot learned.

Triggered by rules (a request for a person, a complaint: data/rules/handoff.yml), by the
gateway (anger), and from action_submit_after_sales when the policy says a person must decide
(`hand_off` with the new case). The reason decides the ticket's priority; the ticket carries the five
elements, the order, the case, the photos, the transcript and what the bot promised
(actions/handoff_packet.py). The shopper hears what happens next and their place in the
queue; if the handoff service cannot be reached they are told so plainly, never silence.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import deps
from actions.clients.handoff_client import HandoffServiceError
from actions.conversation import latest_intent, latest_message_anger
from actions.handoff_packet import build_ticket
from actions.shop.models import Order
from handoff.tickets.models import INTENT_REASONS, KEEP_WRITING_ZH, OPENING_ZH, HandoffReason

logger = logging.getLogger(__name__)

UNAVAILABLE_ZH = "抱歉，人工客服系统暂时连接不上。您的问题我已经记下，请稍后再发一次“人工”，或留下您的问题，我们会尽快联系您。"


def handoff_reason(tracker: Tracker) -> HandoffReason:
    """Why now: what the gateway said (anger, stuck), else the message's intent, else its anger,
    else the policy's or the bot's own limits."""
    told = tracker.get_slot("handoff_reason")
    if told in {reason.value for reason in HandoffReason}:
        return HandoffReason(told)
    reason = INTENT_REASONS.get(latest_intent(tracker) or "")
    if reason:
        return reason
    if latest_message_anger(tracker)[1]:
        return HandoffReason.anger
    if tracker.get_slot("case_id") and tracker.get_slot("confirmed"):
        return HandoffReason.policy
    return HandoffReason.stuck


class ActionHandoffToHuman(Action):
    def name(self) -> Text:
        return "action_handoff_to_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return await hand_off(dispatcher, tracker, handoff_reason(tracker))


async def hand_off(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: HandoffReason, case: Optional[Dict[str, Any]] = None
) -> List[EventType]:
    """Queue the conversation for a person and tell the shopper what happens next. `case`: the
    case just opened in this turn (not in the tracker's slots yet)."""
    score, angry = latest_message_anger(tracker)
    case = case or await case_facts(tracker)
    ticket = build_ticket(tracker, reason, angry, score, await order_facts(tracker), case)
    try:
        opened = await deps.handoff_client().open_ticket(ticket)
    except HandoffServiceError as error:
        logger.error("handoff of %s failed: %s", tracker.sender_id, error)
        dispatcher.utter_message(text=UNAVAILABLE_ZH)
        return [SlotSet("handoff_reason", None)]
    dispatcher.utter_message(text=OPENING_ZH[reason])
    if opened.position is not None:
        dispatcher.utter_message(text=opened.position.message_zh())
    dispatcher.utter_message(text=KEEP_WRITING_ZH)
    return [SlotSet("handoff_ticket_id", opened.ticket_id), SlotSet("handoff_reason", None)]


async def order_facts(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The order the conversation is about, as the agent reads it (items, status, tracking)."""
    order_id = tracker.get_slot("order_id") or tracker.get_slot("verified_order_id")
    if not order_id:
        return None
    order: Optional[Order] = await deps.repository().get_order(str(order_id))
    if order is None:
        return None
    facts = json.loads(order.json())
    facts.pop("phone", None)  # the console shows the phone masked, from the shop, to the agent on the case
    return facts


async def case_facts(tracker: Tracker) -> Optional[Dict[str, Any]]:
    case_id = tracker.get_slot("case_id")
    if not case_id:
        return None
    case = await deps.repository().get_case(str(case_id))
    return json.loads(case.json()) if case else None
