"""What the Rasa server sends a custom action: the tracker's state with the events of the
shopper's latest messages, not the whole conversation session.

Rasa 3.6 sends every event of the session with each custom action call (two or three per
shopper message), and the action server decodes them all: on turn 50 that was about 120 KB
per call and most of why turn 50 cost more than turn 5 (bench/conversation.py). The actions
need the state (slots, latest message, active form, latest action: all still sent in full)
and the latest events (rasa-sdk's form validation reads the slot events at the end); only a
few read further back. So, as with Rasa's `enable_selective_domain`, the action endpoint in
endpoints.yml says what each call gets:

    action_endpoint:
      recent_user_turns: 10            # events from the 10th-last shopper message on
      full_history_actions: [...]      # these get the whole session, as Rasa sends it

Without `recent_user_turns` every action gets the whole session. The handoff packet's
transcript (action_human_handoff) and the words that opened a return case
(action_submit_after_sales) read the whole session, so they are listed there;
tests/test_bot/test_action_calls.py checks that every action reading `tracker.events` is.

`install()` puts this in Rasa's place; bot/rasa_server.py calls it before Rasa starts.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Text

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

rasa_action_call_format = RemoteAction._action_call_format


def recent_events(events: Sequence[Event], user_turns: int) -> List[Event]:
    """The events from the `user_turns`-th last user message to the end (all when fewer)."""
    picked: List[Event] = []
    seen = 0
    for event in reversed(events):  # a tracker's deque: from the end, without copying it
        picked.append(event)
        if isinstance(event, UserUttered):
            seen += 1
            if seen >= user_turns:
                break
    picked.reverse()
    return picked


class RecentEventsView:
    """The tracker as `_action_call_format` reads it, its full state holding recent events only."""

    def __init__(self, tracker: DialogueStateTracker, user_turns: int) -> None:
        self._tracker = tracker
        self._user_turns = user_turns

    def current_state(self, event_verbosity: EventVerbosity = EventVerbosity.NONE) -> Dict[Text, Any]:
        if event_verbosity is not EventVerbosity.ALL:
            return self._tracker.current_state(event_verbosity)
        state = self._tracker.current_state(EventVerbosity.NONE)
        state["events"] = [event.as_dict() for event in recent_events(self._tracker.events, self._user_turns)]
        return state

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracker, name)


def recent_user_turns(action: RemoteAction) -> Optional[int]:
    """How many of the shopper's latest messages this action's call carries (None: all)."""
    settings = action.action_endpoint.kwargs if action.action_endpoint else {}
    turns = settings.get("recent_user_turns")
    if turns in (None, "") or action.name() in (settings.get("full_history_actions") or []):
        return None
    turns = int(turns)
    if turns < 1:
        raise ValueError(f"action_endpoint.recent_user_turns must be 1 or more, not {turns}")
    return turns


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> Dict[Text, Any]:
    turns = recent_user_turns(self)
    if turns is None:
        return rasa_action_call_format(self, tracker, domain)
    return rasa_action_call_format(self, RecentEventsView(tracker, turns), domain)  # type: ignore[arg-type]


def install() -> None:
    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]
