"""Applied events and copies brought up to date turn by turn are exactly Rasa's own, on every
rule and test story and on conversations that undo, restart and run forms again."""

from __future__ import annotations

import time
from typing import Any, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.incremental_tracker import IncrementalCopies, applied_events, clone, rasa_applied_events, rasa_copy
from tests.conftest import PROJECT_ROOT
from tests.test_bot.stories import story_trackers


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def user(text: str, intent: str) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, timestamp=time.time())


def undoing_conversation() -> List[Event]:
    """A form that runs several times, is interrupted, a rewind, a reverted action, a restart
    and a new session: what `applied_events` drops."""
    form = "after_sales_form"
    return [
        ActionExecuted("action_listen"), user("奶粉结块了", "quality_issue"),
        ActionExecuted(form), ActiveLoop(form), SlotSet("requested_slot", "order_id"), BotUttered("订单号是多少？"),
        ActionExecuted("action_listen"), user("SH001", "inform"), SlotSet("order_id", "SH001"),
        ActionExecuted(form), SlotSet("requested_slot", "phone"), BotUttered("手机号？"),
        ActionExecuted("action_listen"), user("退款多久到账", "ask_refund_status"),
        ActionExecuted(form), LoopInterrupted(True), ActionExecuted("action_refund_status"),
        ActionExecuted(form), LoopInterrupted(False), FollowupAction("action_listen"),
        ActionExecuted("action_listen"), user("搞错了", "deny"), UserUtteranceReverted(),
        ActionExecuted("action_listen"), user("13912870456", "inform"), SlotSet("phone", "13912870456"),
        ActionExecuted("utter_x"), ActionReverted(),
        ActionExecuted(form), ActiveLoop(None), SlotSet("requested_slot", None),
        ActionExecuted("action_listen"), user("重新开始", "restart"), Restarted(),
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        user("我的快递到哪了", "not_received"), ActionExecuted("action_track_parcel"), BotUttered("在路上"),
    ]


@pytest.fixture(scope="module")
def conversations(domain) -> List[List[Event]]:
    """Every rule and test story's events, and the undoing conversation."""
    generated = story_trackers(domain)
    assert len(generated) > 60
    return [list(tracker.events) for tracker in generated] + [undoing_conversation()]


def state(tracker: DialogueStateTracker, by_identity: bool = True) -> Any:
    """Everything a tracker holds that events decide, and the events themselves (the same
    objects, or equal ones when `by_identity` is False)."""
    return (
        [id(event) if by_identity else event.as_dict() for event in tracker.events],
        {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()},
        tracker._paused, tracker.followup_action, tracker.latest_action, tracker.latest_message,
        tracker.latest_bot_utterance, tracker.active_loop, tracker.model_id, tracker.assistant_id,
        tracker.sender_source, tracker.is_rule_tracker, tracker.sender_id, tracker._max_event_history,
        sorted(key for key in vars(tracker) if not key.startswith("_shouhou")),
        tracker.current_state(EventVerbosity.ALL),
    )


def live(domain: Domain, sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, domain.slots)
    tracker.model_id = "model-1"  # as the processor sets it on the trackers it works with
    return tracker


def test_applied_events_grow_with_each_event_exactly_as_rasa_computes_them(domain, conversations):
    compared = 0
    for number, events in enumerate(conversations):
        tracker = live(domain, f"c{number}")
        for event in events:
            tracker.update(event)
            assert applied_events(tracker) == rasa_applied_events(tracker)
            compared += 1
    assert compared > 1000


def test_copies_grow_with_each_action_exactly_as_rasa_makes_them(domain, conversations):
    copies = IncrementalCopies()
    for number, events in enumerate(conversations):
        tracker = live(domain, f"c{number}")
        for event in events:
            tracker.update(event)
            if isinstance(event, (ActionExecuted, UserUttered)):
                ours, rasas = copies.copy(tracker), rasa_copy(tracker)
                assert state(ours) == state(rasas), (number, event)


def test_a_copy_shares_nothing_a_caller_changes(domain):
    copies = IncrementalCopies()
    tracker = live(domain, "c")
    for event in undoing_conversation()[:12]:
        tracker.update(event)
    first = copies.copy(tracker)
    before = state(rasa_copy(tracker))
    first.update(LoopInterrupted(True))  # changes the active loop in place
    first.update(SlotSet("order_id", "SH999"))
    first.update(ActiveLoop("refund_status_form"))
    first.latest_action["action_name"] = "changed"
    assert state(rasa_copy(tracker)) == before
    assert state(copies.copy(tracker)) == before
    assert state(clone(tracker)) == state(tracker)


def test_a_conversation_that_changed_behind_the_copy_is_copied_from_the_start(domain):
    copies = IncrementalCopies()
    events = undoing_conversation()
    tracker = live(domain, "c")
    for event in events[:10]:
        tracker.update(event)
    copies.copy(tracker)
    other = live(domain, "c")  # the same conversation id, other events (another process wrote)
    for event in [ActionExecuted("action_listen"), user("你好", "greet"), SlotSet("order_id", "SH777")]:
        other.update(event)
    assert state(copies.copy(other)) == state(rasa_copy(other))


def test_a_tracker_whose_events_were_replaced_gets_rasas_applied_events(domain):
    tracker = live(domain, "c")
    for event in undoing_conversation()[:10]:
        tracker.update(event)
    applied_events(tracker)
    tracker.events = tracker._create_events(undoing_conversation()[:4])
    assert applied_events(tracker) == rasa_applied_events(tracker)
