"""validate_after_sales_form: checks every answer of the after-sales form against the store.

`required_slots` asks only what is still unknown (see actions/after_sales_plan.py).
Each `validate_<slot>` returns the slot's value, or None with a Chinese explanation so
the question is asked again; each `extract_<slot>` reads what the NLU cannot: the item
the shopper described, photo ids from the message metadata, yes/no to a question.
An extract method returns {} when the message did not answer its question, so that a
question in the middle of the form is left to the interruption rules.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import deps
from actions.after_sales_plan import allowed_resolutions, required_slots
from actions.conversation import latest_entity, latest_intent, latest_text, photo_ids_from_metadata
from actions.forms.facts import accessible_order, load_facts
from actions.forms.identity import OrderIdentityValidation
from actions.forms.photos import check_photos
from actions.item_matching import item_label, pick_item
from actions.replies import RESOLUTION_ZH, pick
from actions.shop.models import Order, Resolution

WRONG_ORDER = re.compile(r"(订单号|单号|订单).{0,4}(错|不对)|(换|是)另一个订单|不是这个订单|不是这单")
PHOTOS_LATER = re.compile(r"稍后|等会|等一会|晚点|没拍|拍不了|没法拍|没有照片|没照片|没图|回头")
FOUND = re.compile(r"找到了|收到了|拿到了|在.{0,4}(那|里)")
NOT_FOUND = re.compile(r"没有|都没|没找到|找不到|不在|没人签")


def _requested(tracker: Tracker, slot: str) -> bool:
    return tracker.get_slot("requested_slot") == slot


class ValidateAfterSalesForm(OrderIdentityValidation, FormValidationAction):
    def name(self) -> Text:
        return "validate_after_sales_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return required_slots(await load_facts(tracker), deps.policy())

    # --- the order ---------------------------------------------------------------

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """"订单号说错了" without the right number: forget the order and ask for it again."""
        if latest_entity(tracker, "order_id") or not WRONG_ORDER.search(latest_text(tracker)):
            return {}
        dispatcher.utter_message(text="好的，没关系，请把正确的订单号发给我。")
        return {"order_id": None, "item_sku": None, "confirmed": None, "signed_check": None}

    def once_verified(self, tracker: Tracker, order: Order) -> Dict[Text, Any]:
        """A guest's order is readable only once the phone matches: the item they named before
        (奶粉结块了) is picked from it then, instead of asking which one it was."""
        earlier = tracker.get_slot("product")
        if tracker.get_slot("item_sku") or len(order.items) < 2 or not earlier:
            return {}
        item = pick_item(earlier, order.items)
        return {"item_sku": item.sku, "product": item_label(item)} if item else {}

    # --- the item ------------------------------------------------------------------

    async def extract_item_sku(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        mention = self._item_mention(tracker)
        if tracker.get_slot("item_sku") and not mention:
            return {}
        order = await accessible_order(tracker, tracker.get_slot("order_id"))
        if order is None or len(order.items) < 2:
            return {}
        if mention:
            item = pick_item(mention, order.items)
            if item is not None:
                return {} if item.sku == tracker.get_slot("item_sku") else {"item_sku": item.sku}
            if _requested(tracker, "item_sku"):
                dispatcher.utter_message(text=f"订单里有好几件商品，没能确定您说的“{mention}”是哪一件，请点选一下：")
                return {"item_sku": None}
        earlier = tracker.get_slot("product")  # 奶粉结块了 said before the order was known
        item = pick_item(earlier, order.items) if earlier else None
        return {"item_sku": item.sku} if item else {}

    @staticmethod
    def _item_mention(tracker: Tracker) -> str | None:
        mention = latest_entity(tracker, "product")
        if mention is None and _requested(tracker, "item_sku") and latest_intent(tracker) == "inform":
            mention = latest_text(tracker)
        return mention

    async def validate_item_sku(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        order = await accessible_order(tracker, tracker.get_slot("order_id"))
        item = order.item(str(value)) if order and value else None
        if item is None:
            return {"item_sku": None}
        return {"item_sku": item.sku, "product": item_label(item), "confirmed": None}

    # --- the resolution --------------------------------------------------------------

    async def validate_resolution(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        try:
            resolution = Resolution(value)
        except ValueError:
            return {"resolution": None}
        allowed = allowed_resolutions(await load_facts(tracker), deps.policy())
        if allowed and resolution not in allowed:
            options = "、".join(RESOLUTION_ZH[r] for r in allowed)
            dispatcher.utter_message(text=f"这种情况没法办理{RESOLUTION_ZH[resolution]}，可以为您办理：{options}。")
            return {"resolution": None}
        return {"resolution": resolution.value, "confirmed": None}

    # --- photos ----------------------------------------------------------------------

    async def extract_photo_ids(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        ids = photo_ids_from_metadata(tracker)
        if ids is not None:
            return {"photo_ids": ids}
        if not _requested(tracker, "photo_ids"):
            return {}
        if latest_intent(tracker) == "deny" or PHOTOS_LATER.search(latest_text(tracker)):
            dispatcher.utter_message(response="utter_photos_later")
            return {"photo_ids": []}
        if latest_intent(tracker) in ("inform", "affirm"):
            dispatcher.utter_message(text="还没有收到照片哦。")
            return {"photo_ids": None}
        return {}

    async def validate_photo_ids(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == []:
            return {"photo_ids": []}  # the shopper will upload later; a person reviews the case
        problem = await check_photos(list(value or []), tracker)
        if problem:
            dispatcher.utter_message(text=problem)
            return {"photo_ids": None}
        dispatcher.utter_message(text=pick("照片收到了，谢谢您。", "收到照片了，我看一下。"))
        return {"photo_ids": list(value), "confirmed": None}

    # --- parcel marked signed --------------------------------------------------------

    async def extract_signed_check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not _requested(tracker, "signed_check"):
            return {}
        text, intent = latest_text(tracker), latest_intent(tracker)
        if intent == "deny" or NOT_FOUND.search(text):
            return {"signed_check": "not_found"}
        if intent == "affirm" or FOUND.search(text):
            return {"signed_check": "found"}
        return {}

    # --- confirmation ----------------------------------------------------------------

    async def extract_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if not _requested(tracker, "confirmed"):
            return {}
        intent = latest_intent(tracker)
        if intent == "affirm":
            return {"confirmed": True}
        if intent == "deny":
            return {"confirmed": False}
        return {}

    async def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value is True:
            return {"confirmed": True}
        if self._corrected_in_same_message(tracker):
            return {"confirmed": None}
        dispatcher.utter_message(text="好的，那我们改一下。订单号或商品不对的话直接发给我正确的；先确认一下您希望怎么处理：")
        return {"confirmed": None, "resolution": None}

    @staticmethod
    def _corrected_in_same_message(tracker: Tracker) -> bool:
        return any(latest_entity(tracker, name) for name in ("order_id", "product", "resolution"))

