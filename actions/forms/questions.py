"""The forms' questions that depend on the shopper's own data (action_ask_<slot>).

An identified shopper picks an order from buttons of their own orders instead of typing
a number; an order with several lines shows them as buttons; the resolutions offered
are those the policy allows for the reason; the confirmation restates the request.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import deps
from actions.after_sales_plan import allowed_resolutions
from actions.conversation import shopper_id
from actions.forms.facts import current_reason, load_facts
from actions.replies import (
    confirm_buttons,
    item_buttons,
    minute,
    order_buttons,
    pick,
    resolution_buttons,
    restatement,
)
from actions.shop.models import Order, OrderStatus, Reason

# Orders worth offering for after-sales, by reason (an unpaid or cancelled order never is).
OFFERED_STATUSES = {
    Reason.NOT_RECEIVED: {OrderStatus.TO_SHIP, OrderStatus.IN_TRANSIT, OrderStatus.SIGNED},
    Reason.CHANGED_MIND: {OrderStatus.TO_SHIP, OrderStatus.IN_TRANSIT, OrderStatus.SIGNED},
}
DEFAULT_OFFERED = {OrderStatus.SIGNED}


def offered_orders(orders: List[Order], reason: Reason) -> List[Order]:
    statuses = OFFERED_STATUSES.get(reason, DEFAULT_OFFERED)
    return [order for order in orders if order.status in statuses]


class ActionAskOrderId(Action):
    def name(self) -> Text:
        return "action_ask_order_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        shopper = shopper_id(tracker)
        if shopper:
            orders = offered_orders(await deps.repository().list_orders(shopper), _reason(tracker))
            if orders:
                dispatcher.utter_message(text="是哪一笔订单呢？点选一下就好：", buttons=order_buttons(orders))
                return []
        dispatcher.utter_message(
            text=pick(
                "请告诉我订单号（在“我的订单”里可以复制，以20开头的一串数字）。",
                "麻烦发一下订单号，我马上帮您查。",
            )
        )
        return []


def _reason(tracker: Tracker) -> Reason:
    # The refund-status form asks for an order too; any order with a case is signed or shipped.
    return current_reason(tracker) if tracker.get_slot("reason") else Reason.QUALITY


class ActionAskItemSku(Action):
    def name(self) -> Text:
        return "action_ask_item_sku"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        facts = await load_facts(tracker)
        if facts.order is None:
            return []
        dispatcher.utter_message(text="这笔订单里有几件商品，是哪一件有问题呢？", buttons=item_buttons(facts.order.items))
        return []


class ActionAskSignedCheck(Action):
    def name(self) -> Text:
        return "action_ask_signed_check"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        facts = await load_facts(tracker)
        if facts.order is None:
            return []
        order = facts.order
        who = f"，签收人显示为“{order.signed_by}”" if order.signed_by else ""
        dispatcher.utter_message(
            text=(
                f"物流显示这个包裹已经在{minute(order.signed_at)}签收了{who}。您先别急，有时快递会放在快递柜、驿站、"
                "门卫或前台，也可能是家人或同事代收了。麻烦先问问家人、看看这些地方，找过了吗？"
            ),
            buttons=[
                {"title": "找到了", "payload": "/affirm"},
                {"title": "都找过了，没有", "payload": "/deny"},
            ],
        )
        return []


class ActionAskResolution(Action):
    def name(self) -> Text:
        return "action_ask_resolution"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        allowed = allowed_resolutions(await load_facts(tracker), deps.policy())
        dispatcher.utter_message(text="您希望怎么处理呢？", buttons=resolution_buttons(allowed))
        return []


class ActionAskConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        facts = await load_facts(tracker)
        if facts.order is None:
            return []
        text = restatement(facts.order, facts.item, facts.reason, facts.resolution)
        dispatcher.utter_message(text=text, buttons=confirm_buttons())
        return []
