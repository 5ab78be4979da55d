"""Where is my refund: the shopper's cases with their state, next step and its expected time.

An identified shopper is answered from all their cases at once; a guest first gives the
order number and the phone number on it (refund_status_form), and sees that order's cases.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import deps
from actions.after_sales_plan import MAX_VERIFICATION_FAILURES
from actions.conversation import latest_entity, shopper_id
from actions.forms.facts import accessible_order, phone_verified
from actions.forms.identity import OrderIdentityValidation
from actions.policy.rules import case_next_step_zh, refund_arrival_zh
from actions.replies import case_line
from actions.shop.models import CaseStatus, Order, ReturnCase

REFUND_STATES = {CaseStatus.REFUNDING, CaseStatus.REFUNDED}
MAX_CASES_SHOWN = 5


class ValidateRefundStatusForm(OrderIdentityValidation, FormValidationAction):
    """Guests prove the order is theirs, exactly as in the after-sales form."""

    def name(self) -> Text:
        return "validate_refund_status_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if shopper_id(tracker):
            return []
        if int(tracker.get_slot("verification_failures") or 0) >= MAX_VERIFICATION_FAILURES:
            return []
        return ["order_id", "phone"]


async def cases_for(tracker: Tracker) -> Optional[List[ReturnCase]]:
    """The cases this shopper may see, or None when they have not proven who they are."""
    repository = deps.repository()
    shopper = shopper_id(tracker)
    order_id = latest_entity(tracker, "order_id") or tracker.get_slot("order_id")
    if shopper:
        cases = await repository.list_cases(shopper_id=shopper)
        if order_id and any(case.order_id == order_id for case in cases):
            cases = [case for case in cases if case.order_id == order_id]
        return cases
    order = await accessible_order(tracker, order_id)
    if order is None or not phone_verified(tracker, order):
        return None
    return await repository.list_cases(order_id=order.order_id)


class ActionRefundStatus(Action):
    def name(self) -> Text:
        return "action_refund_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        cases = await cases_for(tracker)
        if cases is None:
            dispatcher.utter_message(text="查询退款进度需要先核对订单信息，请告诉我订单号和下单手机号。")
        elif not cases:
            dispatcher.utter_message(text="没有查到您的售后申请记录。如果需要申请退款或退货，直接告诉我遇到的问题就可以。")
        else:
            dispatcher.utter_message(text=await self._report(cases))
        return []

    @staticmethod
    async def _report(cases: List[ReturnCase]) -> str:
        policy = deps.policy()
        orders: Dict[str, Optional[Order]] = {}
        lines = ["为您查到以下售后进度："]
        for case in cases[:MAX_CASES_SHOWN]:
            if case.order_id not in orders:
                orders[case.order_id] = await deps.repository().get_order(case.order_id)
            order = orders[case.order_id]
            next_step = case_next_step_zh(case.status, policy)
            if case.status in REFUND_STATES and order is not None:
                next_step += f"（{refund_arrival_zh(order.payment_method, policy)}）"
            lines.append(case_line(case, order, next_step))
        if len(cases) > MAX_CASES_SHOWN:
            lines.append(f"另外还有{len(cases) - MAX_CASES_SHOWN}个较早的售后单，需要的话告诉我订单号。")
        return "\n".join(lines)
