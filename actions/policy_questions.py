"""action_answer_policy: answer a rules question (ask_policy) from the policy file."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import deps
from actions.conversation import latest_text
from actions.policy.rules import detect_policy_topic, policy_answer_zh


def answer_policy_question(text: str) -> str | None:
    """The answer to the rules question in `text`, or None when no topic is recognised."""
    policy = deps.policy()
    topic = detect_policy_topic(text, policy)
    return policy_answer_zh(topic, policy) if topic else None


class ActionAnswerPolicy(Action):
    def name(self) -> Text:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        answer = answer_policy_question(latest_text(tracker))
        if answer:
            dispatcher.utter_message(text=answer)
        else:
            dispatcher.utter_message(response="utter_ask_policy")
        return []
