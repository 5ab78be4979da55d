"""action_session_start: who the shopper is, and an offer to go on with an unfinished request.

The store's app sends a signed shopper token in the metadata of the session start and of
each message; a valid one sets `shopper_id`, an invalid or expired one is refused with a
Chinese explanation and the shopper continues as a guest. Slots are carried over from
the previous session (domain: carry_over_slots_to_new_session), so a shopper who went
silent mid-request and comes back is asked whether to go on with it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import check_shopper_token
from actions.replies import REASON_ZH
from actions.shop.models import Reason
from handoff.shopper_tokens import GUEST_CODE, InvalidShopperToken

# Carried over only if still true; who the shopper is gets re-checked every session.
NOT_CARRIED_OVER = {"session_started_metadata", "requested_slot", "shopper_id", "resume_offered"}


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        events += [SlotSet(key, value) for key, value in self._carried_over(tracker).items()]
        events.append(SlotSet("shopper_id", self._identify(dispatcher, tracker)))
        if self._unfinished_request(tracker):
            events.append(SlotSet("resume_offered", True))
            self._offer_resume(dispatcher, tracker)
        events.append(ActionExecuted("action_listen"))
        return events

    @staticmethod
    def _carried_over(tracker: Tracker) -> Dict[Text, Any]:
        return {key: value for key, value in tracker.slots.items() if key not in NOT_CARRIED_OVER and value is not None}

    @staticmethod
    def _identify(dispatcher: CollectingDispatcher, tracker: Tracker) -> Any:
        try:
            return check_shopper_token(tracker)
        except InvalidShopperToken as error:
            if error.code != GUEST_CODE:  # a guest of the chat page is welcome as one; a bad token is said
                dispatcher.utter_message(text=f"{error.message_zh}。现在以访客身份为您服务，查询订单时需要核对下单手机号。")
            return None

    @staticmethod
    def _unfinished_request(tracker: Tracker) -> bool:
        return bool(tracker.get_slot("reason")) and not tracker.get_slot("case_id")

    @staticmethod
    def _offer_resume(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        reason = REASON_ZH[Reason(tracker.get_slot("reason"))]
        order_id = tracker.get_slot("order_id")
        about = f"订单{order_id}“{reason}”" if order_id else f"“{reason}”"
        dispatcher.utter_message(
            text=f"欢迎回来！上次我们在处理{about}的售后申请，还没有提交，要接着办理吗？",
            buttons=[{"title": "继续办理", "payload": "/affirm"}, {"title": "不用了", "payload": "/deny"}],
        )
