"""When Rasa's `applied_events()` of a conversation can be extended instead of recomputed.

`DialogueStateTracker.applied_events()` walks every event of the conversation session: it
drops what a restart, a new session or a reverted action or utterance undid, and the earlier
turns of a loop (form) that runs again. Events appended to a conversation only add to its
applied events, unchanged, when none of them undoes anything, none is a loop's action and
no new loop appears; then the applied events of the longer conversation are those of the
shorter one followed by the new events. bot/policies.py (dialogue states) and
bot/incremental_tracker.py (the Rasa server's trackers) build on this.
"""

from __future__ import annotations

from typing import Iterable, List

from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)

UNDOING = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted)


def loop_names(events: Iterable[Event]) -> frozenset:
    return frozenset(event.name for event in events if isinstance(event, ActiveLoop) and event.name)


def only_adds(new_events: List[Event], known_loops: frozenset) -> bool:
    """The applied events after `new_events` are those before, followed by `new_events`."""
    if loop_names(new_events) - known_loops:
        return False
    return not any(
        isinstance(event, UNDOING) or (isinstance(event, ActionExecuted) and event.action_name in known_loops)
        for event in new_events
    )
