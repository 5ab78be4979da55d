"""The Rasa server's tracker work that walked the whole conversation on every turn, done for the
new events only.

Three things Rasa 3.6 does in every turn cost time in proportion to the length of the
conversation session (bench/conversation.py: turn 50 against turn 5):

- `DialogueStateTracker.applied_events()` (the session check at the start of each message
  calls it twice) walks every event. Here a tracker remembers its applied events and extends
  them when the events since only add to them (bot/applied_events.py); anything else (a
  restart, a reverted turn, a form running again) is Rasa's walk.
- `DialogueStateTracker.copy()` (before each action the processor runs, two or three per
  message) replays every event into a new tracker. Here the replayed copy of each
  conversation is kept and brought up to date with the new events (the same `update` calls
  Rasa's copy makes, in the same order), and each caller gets a clone of it.
- Loading a conversation replays its session (`recreate_from_dialogue`); bot/tracker_store.py
  keeps the replayed tracker with its cached session and uses `clone` and `only_adds` from
  here to bring it up to date.

A clone is a new tracker with the same state: its own event list (the same event objects,
as Rasa's copy has), its own slots and its own dictionaries. Only the exact
`DialogueStateTracker` class is handled; a subclass (training's trackers) goes to Rasa.
tests/test_bot/test_incremental_tracker.py compares every result with Rasa's own on every
rule and test story, turn by turn.

`install()` puts these in Rasa's place; bot/rasa_server.py calls it before Rasa starts.
"""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from dataclasses import dataclass
from itertools import islice
from typing import Hashable, List, Optional

from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.applied_events import loop_names, only_adds
from bot.policies import begins_with

CONVERSATIONS_KEPT = 2000
APPLIED_MEMO = "_shouhou_applied"

rasa_applied_events = DialogueStateTracker.applied_events
rasa_copy = DialogueStateTracker.copy


def clone(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A new tracker in the same state, sharing nothing that an event or a caller changes."""
    new = copy.copy(tracker)
    new.events = tracker._create_events(list(tracker.events))
    memo: Optional[AppliedMemo] = tracker.__dict__.get(APPLIED_MEMO)
    if memo is not None:  # the same events in the new list: the applied ones so far hold
        new.__dict__[APPLIED_MEMO] = AppliedMemo(new.events, memo.seen, memo.last_seen, memo.loops, list(memo.applied))
    new.slots = type(tracker.slots)((name, copy.copy(slot)) for name, slot in tracker.slots.items())
    new.latest_action = dict(tracker.latest_action) if tracker.latest_action is not None else None
    new.active_loop = copy.copy(tracker.active_loop)  # a dataclass LoopInterrupted changes in place
    return new


# ---- applied events ---------------------------------------------------------------------------


@dataclass
class AppliedMemo:
    events_list: object  # the tracker's deque these were computed from
    seen: int
    last_seen: Event
    loops: frozenset
    applied: List[Event]


def applied_events(tracker: DialogueStateTracker) -> List[Event]:
    events = tracker.events
    if type(tracker) is not DialogueStateTracker or events.maxlen is not None:
        return rasa_applied_events(tracker)
    count = len(events)
    memo: Optional[AppliedMemo] = tracker.__dict__.get(APPLIED_MEMO)
    if memo is not None and memo.events_list is events and 0 < memo.seen <= count and events[memo.seen - 1] is memo.last_seen:
        new = list(islice(events, memo.seen, None))
        if only_adds(new, memo.loops):
            memo.applied.extend(new)
            memo.seen, memo.last_seen = count, events[-1]
            return list(memo.applied)
    applied = rasa_applied_events(tracker)
    if count:
        tracker.__dict__[APPLIED_MEMO] = AppliedMemo(events, count, events[-1], loop_names(events), list(applied))
    return applied


# ---- copies -----------------------------------------------------------------------------------


@dataclass
class Replayed:
    """Rasa's copy of a conversation after `events`: `init_copy()`, then `update` with each."""

    slots_signature: Hashable
    events: List[Event]
    tracker: DialogueStateTracker


class IncrementalCopies:
    def __init__(self, conversations_kept: int = CONVERSATIONS_KEPT) -> None:
        self.replayed: "OrderedDict[Hashable, Replayed]" = OrderedDict()
        self.conversations_kept = conversations_kept

    def copy(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        if type(tracker) is not DialogueStateTracker or tracker.events.maxlen is not None:
            return rasa_copy(tracker)
        events = list(tracker.events)
        if not all(event.timestamp <= math.inf for event in events):
            return rasa_copy(tracker)  # Rasa's copy stops at such an event (a NaN time)
        key = (tracker.sender_id, tracker.is_rule_tracker)
        signature = slots_signature(tracker)
        known = self.replayed.get(key)
        if known is None or known.slots_signature != signature or not begins_with(events, known.events):
            known = Replayed(signature, [], tracker.init_copy())
        for event in events[len(known.events):]:
            known.tracker.update(event)
        known.events = events
        self.replayed[key] = known
        self.replayed.move_to_end(key)
        while len(self.replayed) > self.conversations_kept:
            self.replayed.popitem(last=False)
        return clone(known.tracker)


def slots_signature(tracker: DialogueStateTracker) -> Hashable:
    """What `init_copy` takes from the tracker besides its id: the slots' kinds and first values."""
    return tracker._max_event_history, tuple(
        (name, type(slot), repr(slot.initial_value)) for name, slot in tracker.slots.items()
    )


copies = IncrementalCopies()


def copy_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    return copies.copy(tracker)


def install() -> None:
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
    DialogueStateTracker.copy = copy_tracker  # type: ignore[method-assign]
