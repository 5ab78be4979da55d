"""The after-sales request around its form: start it, submit it, resume or drop it.

- action_start_after_sales: the reason from the intent; a fresh request (the problem's
  details of an earlier one are forgotten, the verified identity is kept); the order
  filled in when the shopper has exactly one order it can be about; a rules question in
  the same message answered at once.
- action_submit_after_sales: the policy decides; a case is opened (idempotently) and
  the shopper is told what happens next, in the same turn.
- action_resume_after_sales / action_drop_after_sales: after coming back to an
  unfinished request.
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
from actions.after_sales_plan import MAX_VERIFICATION_FAILURES, Facts, item_decision, parcel_state
from actions.case_messages import approved_text, needs_human_text, photos_later_text, refused_text
from actions.conversation import latest_entity, latest_intent, latest_text, photo_ids_from_metadata, shopper_id
from actions.forms.facts import load_facts
from actions.forms.photos import check_photos
from actions.forms.questions import offered_orders
from actions.human_handoff import hand_off
from actions.item_matching import match_items
from actions.policy.enums import DeliveryState, Outcome
from actions.policy.rules import Decision, expected_delivery_date
from actions.policy_questions import answer_policy_question
from actions.replies import day, minute, pick
from actions.shop.models import CaseRequest, CaseStatus, Reason, Resolution
from actions.shop.repository import ShopError
from handoff.tickets.models import HandoffReason

logger = logging.getLogger(__name__)

REASON_BY_INTENT = {
    "report_broken": Reason.QUALITY,
    "report_wrong_item": Reason.WRONG_ITEM,
    "report_not_received": Reason.NOT_RECEIVED,
    "changed_mind": Reason.CHANGED_MIND,
}
# The details of one request; the shopper's identity and verified order stay.
REQUEST_SLOTS = ("reason", "item_sku", "resolution", "photo_ids", "signed_check", "confirmed", "case_id")
SHOP_DOWN = "抱歉，售后系统暂时有点忙，您的信息我都记下了，请稍等一两分钟再把刚才的消息发一次。"


def clear_request() -> List[EventType]:
    return [SlotSet(slot, None) for slot in REQUEST_SLOTS]


class ActionStartAfterSales(Action):
    def name(self) -> Text:
        return "action_start_after_sales"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reason = REASON_BY_INTENT.get(latest_intent(tracker) or "", Reason.QUALITY)
        events = clear_request() + [SlotSet("reason", reason.value), SlotSet("resume_offered", False)]
        resolution = latest_entity(tracker, "resolution")
        if resolution in {r.value for r in Resolution}:
            events.append(SlotSet("resolution", resolution))
        events += await self._photos(dispatcher, tracker)
        events.append(SlotSet("order_id", await self._order_id(tracker, reason)))
        answer = answer_policy_question(latest_text(tracker))
        if answer:
            dispatcher.utter_message(text=f"先回答您的问题：{answer}")
        return events

    @staticmethod
    async def _photos(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Photos sent with the first message are checked now, like any others."""
        photos = photo_ids_from_metadata(tracker)
        if photos is None:
            return []
        problem = await check_photos(photos, tracker)
        if problem:
            dispatcher.utter_message(text=problem)
            return []
        return [SlotSet("photo_ids", photos)]

    @staticmethod
    async def _order_id(tracker: Tracker, reason: Reason) -> Optional[str]:
        """The order named in this message; else the only order this shopper's request can be about."""
        named = latest_entity(tracker, "order_id")
        if named:
            return named
        shopper = shopper_id(tracker)
        if not shopper:
            return tracker.get_slot("verified_order_id")
        try:
            orders = offered_orders(await deps.repository().list_orders(shopper), reason)
        except ShopError:
            return None
        if len(orders) > 1:  # 奶粉结块了: the one order with milk powder on it
            mention = latest_entity(tracker, "product")
            orders = [order for order in orders if mention and match_items(mention, order.items)] or orders
        return orders[0].order_id if len(orders) == 1 else None


class ActionSubmitAfterSales(Action):
    def name(self) -> Text:
        return "action_submit_after_sales"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        facts = await load_facts(tracker)
        if facts.verification_failures >= MAX_VERIFICATION_FAILURES:
            dispatcher.utter_message(text="为了您的订单安全，我请人工客服同事来核实身份。")
            handed = await hand_off(dispatcher, tracker, HandoffReason.policy)
            return clear_request() + [SlotSet("verification_failures", 0)] + handed
        if facts.order is None or (facts.guest and not facts.phone_verified):
            dispatcher.utter_message(text="还没能确认是哪一笔订单，我们重新开始吧：请告诉我遇到的问题和订单号。")
            return clear_request()
        try:
            if facts.reason == Reason.NOT_RECEIVED:
                return await self._not_received(dispatcher, tracker, facts)
            return await self._return(dispatcher, tracker, facts)
        except ShopError as error:
            logger.error("shop system failed for %s: %s", tracker.sender_id, error)
            dispatcher.utter_message(text=SHOP_DOWN)
            return []

    async def _return(self, dispatcher: CollectingDispatcher, tracker: Tracker, facts: Facts) -> List[EventType]:
        item = facts.item
        if item is None:  # refused before an item was chosen: the rule is the same for every line
            decision = item_decision(facts, facts.order.items[0], deps.policy(), photo_count=1)
            dispatcher.utter_message(text=refused_text(decision))
            return clear_request()
        decision = item_decision(facts, item, deps.policy())
        if decision.outcome == Outcome.REFUSED:
            dispatcher.utter_message(text=refused_text(decision))
            return clear_request()
        return await self._open_case(dispatcher, tracker, facts, decision, item.sku)

    async def _not_received(self, dispatcher: CollectingDispatcher, tracker: Tracker, facts: Facts) -> List[EventType]:
        order, policy = facts.order, deps.policy()
        state = parcel_state(order, facts.now, policy)
        if state == DeliveryState.SIGNED and facts.signed_check == "found":
            dispatcher.utter_message(text="找到了就好！如果商品有任何问题，随时告诉我。")
            return clear_request()
        if state in (DeliveryState.IN_TRANSIT, DeliveryState.NOT_SHIPPED):
            dispatcher.utter_message(text=self._where_is_it(facts, state), buttons=_wait_or_escalate())
            return clear_request()
        decision = item_decision(facts, order.items[0], policy)
        return await self._open_case(dispatcher, tracker, facts, decision, order.items[0].sku)

    @staticmethod
    def _where_is_it(facts: Facts, state: DeliveryState) -> str:
        order = facts.order
        if state == DeliveryState.NOT_SHIPPED:
            return "订单还没有发货，仓库会尽快安排。如果您不想等了，可以直接取消订单，货款全额原路退回。"
        last = max(order.tracking, key=lambda event: event.time, default=None)
        where = f"最新物流：{minute(last.time)} {last.location} {last.description}。" if last else ""
        expected = expected_delivery_date(order.shipped_at or order.placed_at, deps.policy())
        return (
            f"包裹正在运输中（{order.carrier or '快递'} {order.tracking_number or ''}）。{where}"
            f"预计{day(expected)}前送达。您可以再等等；如果物流一直不更新，我们马上为您补发或退款。"
        )

    async def _open_case(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, facts: Facts, decision: Decision, sku: str
    ) -> List[EventType]:
        order, policy = facts.order, deps.policy()
        resolution = facts.resolution or (decision.alternatives[0] if decision.alternatives else Resolution.REFUND)
        needs_review = decision.outcome != Outcome.APPROVED
        case = await deps.repository().create_case(
            CaseRequest(
                order_id=order.order_id,
                sku=sku,
                shopper_id=order.shopper_id,
                reason=facts.reason,
                resolution=resolution,
                description=_description(tracker),
                photo_ids=list(tracker.get_slot("photo_ids") or []),
                needs_review=needs_review,
            )
        )
        if decision.outcome == Outcome.APPROVED:
            case = await self._advance_approved(case, decision)
            text = approved_text(decision, case, order, order.item(sku), policy)
        elif decision.outcome == Outcome.NEEDS_PHOTOS:
            text = photos_later_text(case, policy)
        else:
            text = needs_human_text(decision, case, policy)
        dispatcher.utter_message(text=text)
        events = clear_request() + [SlotSet("case_id", case.case_id)]
        if decision.outcome == Outcome.NEEDS_HUMAN:  # a person decides: the case goes to the human queue now
            events += await hand_off(dispatcher, tracker, HandoffReason.policy, case=json.loads(case.json()))
        return events

    @staticmethod
    async def _advance_approved(case, decision: Decision):
        """An approved case skips review: it waits for the parcel, or goes straight to the refund."""
        if case.status != CaseStatus.REVIEWING:
            return case  # the same request again: the case is already under way
        if decision.postage_payer is not None:
            return await deps.repository().advance_case(case.case_id, CaseStatus.AWAITING_RETURN, "自动审核通过")
        if case.resolution in (Resolution.REFUND, Resolution.PARTIAL_REFUND):
            return await deps.repository().advance_case(case.case_id, CaseStatus.REFUNDING, "自动审核通过，无需寄回")
        return case


def _description(tracker: Tracker) -> str:
    """The shopper's own words that opened the request (for the agent and the case record)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and (event.get("parse_data") or {}).get("intent", {}).get("name") in REASON_BY_INTENT:
            return event.get("text") or ""
    return ""


def _wait_or_escalate() -> List[Dict[str, str]]:
    return [{"title": "好的，我再等等", "payload": "/affirm"}, {"title": "转人工", "payload": "/request_human"}]


class ActionResumeAfterSales(Action):
    def name(self) -> Text:
        return "action_resume_after_sales"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=pick("好的，我们接着来。", "好的，继续为您办理。"))
        return [SlotSet("resume_offered", False), SlotSet("confirmed", None)]


class ActionDropAfterSales(Action):
    def name(self) -> Text:
        return "action_drop_after_sales"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text="好的，那这个申请先不办了。还有其他可以帮您的吗？")
        return clear_request() + [SlotSet("resume_offered", False)]
