"""Order identity checks shared by the forms: the order exists and is this shopper's.

An identified shopper (signed token) may only name their own orders; a guest names an
order and then the phone number on it. Three wrong phone numbers end the attempt.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.after_sales_plan import MAX_VERIFICATION_FAILURES
from actions.conversation import shopper_id
from actions.forms.facts import accessible_order, one_lookup_per_order
from actions.shop.models import Order

ORDER_ID_PATTERN = re.compile(r"^20\d{14,17}$")
PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")


class OrderIdentityValidation:
    """validate_order_id and validate_phone for any form that asks for them (a mixin), and one
    store read per order for the whole form run."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        with one_lookup_per_order():
            return await super().run(dispatcher, tracker, domain)

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is None:
            return {"order_id": None}  # cleared on purpose ("订单号说错了"): asked again, no complaint
        order_id = re.sub(r"\s+", "", str(value))
        if not ORDER_ID_PATTERN.match(order_id):
            dispatcher.utter_message(text="这个订单号格式好像不对，订单号是以20开头的16–19位数字，在“我的订单”里可以复制。")
            return {"order_id": None}
        order = await accessible_order(tracker, order_id)
        if order is None:
            dispatcher.utter_message(text=self._not_found_text(tracker, order_id))
            return {"order_id": None}
        reset: Dict[Text, Any] = {"order_id": order_id, "confirmed": None, "signed_check": None}
        if tracker.get_slot("verified_order_id") != order_id:
            reset["phone"] = None  # a guest proves each order with its own phone number
        if tracker.get_slot("item_sku") and order.item(tracker.get_slot("item_sku")) is None:
            reset["item_sku"] = None
        if len(order.items) == 1:
            reset["item_sku"] = order.items[0].sku
        return reset

    @staticmethod
    def _not_found_text(tracker: Tracker, order_id: str) -> str:
        if shopper_id(tracker):
            return f"在您的账号下没有找到订单{order_id}，麻烦核对一下，或者从订单列表里直接选。"
        return f"没有查到订单{order_id}，麻烦核对一下订单号（在“我的订单”里可以复制）。"

    async def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        phone = re.sub(r"[\s-]", "", str(value or ""))
        if not PHONE_PATTERN.match(phone):
            dispatcher.utter_message(text="手机号格式好像不对，请输入下单时填写的11位手机号。")
            return {"phone": None}
        order = await accessible_order(tracker, tracker.get_slot("order_id"))
        if order is None:
            return {"phone": phone}  # asked again with the order number first
        if order.phone != phone:
            return self._phone_mismatch(dispatcher, tracker)
        return {"phone": phone, "verified_order_id": order.order_id, "verification_failures": 0,
                **self.once_verified(tracker, order)}

    def once_verified(self, tracker: Tracker, order: Order) -> Dict[Text, Any]:
        """Slots a form fills from the order the moment a guest has proved it (none here)."""
        return {}

    @staticmethod
    def _phone_mismatch(dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        failures = int(tracker.get_slot("verification_failures") or 0) + 1
        if failures >= MAX_VERIFICATION_FAILURES:
            dispatcher.utter_message(text="抱歉，手机号多次核对不一致，为了保护订单信息安全，我没法继续在这里办理。")
        else:
            dispatcher.utter_message(text="这个手机号和订单上的不一致，麻烦再核对一下下单时填写的手机号。")
        return {"phone": None, "verification_failures": failures}
