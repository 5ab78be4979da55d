"""Custom action calls carry the state and the latest events, and the whole session to the
actions that read it, as endpoints.yml says."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import List

import pytest
import yaml
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from bot import action_calls
from bot.action_calls import recent_events
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def endpoint() -> EndpointConfig:
    """The action endpoint exactly as endpoints.yml configures it (its URL aside)."""
    configured = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8"))["action_endpoint"]
    return EndpointConfig.from_dict({**configured, "url": "http://127.0.0.1:5055/webhook"})


def conversation(turns: int) -> List[Event]:
    events: List[Event] = [ActionExecuted("action_listen")]
    for number in range(turns):
        events += [
            UserUttered(f"第{number}句话", {"name": "ask_policy", "confidence": 0.9}, timestamp=time.time()),
            ActionExecuted("action_answer_policy"), BotUttered(f"回答{number}"), SlotSet("order_id", f"SH{number}"),
            ActionExecuted("action_listen"),
        ]
    return events


def tracker_of(domain: Domain, events: List[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("shopper-1", events, domain.slots)


def test_recent_events_start_at_the_nth_last_user_message():
    events = conversation(15)
    recent = recent_events(events, 10)
    assert [e.text for e in recent if isinstance(e, UserUttered)] == [f"第{n}句话" for n in range(5, 15)]
    assert recent[0] is events[1 + 5 * 5] and recent[-1] is events[-1]
    assert recent_events(events, 20) == events  # fewer messages than asked: the whole session
    assert recent_events([], 3) == []


def test_an_ordinary_action_gets_the_full_state_and_its_recent_events(domain, endpoint):
    tracker = tracker_of(domain, conversation(15))
    action_calls.install()
    body = RemoteAction("action_answer_policy", endpoint)._action_call_format(tracker, domain)
    full = tracker.current_state(EventVerbosity.ALL)
    assert {k: v for k, v in body["tracker"].items() if k != "events"} == {k: v for k, v in full.items() if k != "events"}
    texts = [e["text"] for e in body["tracker"]["events"] if e["event"] == "user"]
    assert texts == [f"第{n}句话" for n in range(5, 15)]
    assert body["tracker"]["events"] == full["events"][-len(body["tracker"]["events"]):]
    assert body["next_action"] == "action_answer_policy" and body["sender_id"] == "shopper-1"


@pytest.mark.parametrize("name", ["action_human_handoff", "action_submit_after_sales"])
def test_the_actions_that_read_the_history_get_the_whole_session(domain, endpoint, name):
    tracker = tracker_of(domain, conversation(15))
    action_calls.install()
    body = RemoteAction(name, endpoint)._action_call_format(tracker, domain)
    assert body["tracker"] == tracker.current_state(EventVerbosity.ALL)


def test_without_the_setting_every_action_gets_the_whole_session(domain):
    tracker = tracker_of(domain, conversation(15))
    action_calls.install()
    body = RemoteAction("action_answer_policy", EndpointConfig("http://x"))._action_call_format(tracker, domain)
    assert body["tracker"] == tracker.current_state(EventVerbosity.ALL)


def test_a_setting_below_one_is_refused_clearly(domain):
    endpoint = EndpointConfig("http://x", recent_user_turns=0)
    with pytest.raises(ValueError, match="recent_user_turns must be 1 or more"):
        action_calls.action_call_format(RemoteAction("action_x", endpoint), tracker_of(domain, conversation(2)), domain)


def test_every_action_module_that_reads_the_event_history_is_served_by_a_listed_action(endpoint):
    """A tripwire: code reading `tracker.events` needs its action in full_history_actions."""
    readers = sorted(
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "actions").rglob("*.py")
        if re.search(r"\btracker\.events\b|\.events_after_latest_restart\(|\.applied_events\(", path.read_text(encoding="utf-8"))
    )
    # handoff_packet.py builds action_human_handoff's ticket; after_sales.py's `_description`
    # serves action_submit_after_sales.
    assert readers == ["actions/after_sales.py", "actions/handoff_packet.py"], (
        "a new reader of the event history: add its action to full_history_actions in endpoints.yml"
    )
    assert set(endpoint.kwargs["full_history_actions"]) == {"action_human_handoff", "action_submit_after_sales"}
    assert "_description(tracker)" in Path(PROJECT_ROOT / "actions/after_sales.py").read_text(encoding="utf-8")
