"""ShouhouRedisTrackerStore: a conversation in Redis as an append-only list of events.

Rasa 3.6's RedisTrackerStore keeps a conversation as one JSON document. Every turn it reads
and decodes the whole document twice (to load the tracker, then again on save to merge it
with the stored copy, replaying every event), and writes the whole document back: the cost
of a turn grows with the length of the conversation, and a message in the 50th turn paid
for the 49 before it (bench/conversation.py). Here:

- `{prefix}:events:{sender}` is a Redis list with one JSON event per element; a turn appends
  only its new events (RPUSH), so a save costs what the turn added, and two writers can
  never overwrite each other's events;
- `{prefix}:session:{sender}` holds the list index where the latest conversation session
  starts, so loading a conversation decodes that session only (what Rasa's `retrieve` gives);
- both keys expire `record_exp` seconds after the last turn (the retention setting);
- event types are resolved through a table built once (Rasa walks every `Event` subclass
  for every event: 28 % of the Rasa server's CPU on long conversations, py-spy).

A tracker this store loaded remembers how many events were stored when it was loaded; a
tracker from anywhere else (Rasa's `PUT /conversations/{id}/tracker/events`, a fresh one)
is merged with the stored events as Rasa does and the list rewritten.

Configured in endpoints.yml (`tracker_store: type: bot.tracker_store.ShouhouRedisTrackerStore`).
Loaded by the Rasa server at run time, never by training: bot/fingerprint.py leaves it out
of the model fingerprint.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Text, Type

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

logger = logging.getLogger(__name__)

# Set on a tracker this store loaded: (sender id, list index of its first event, events in Redis).
STORED_MARK = "_shouhou_stored"


@lru_cache(maxsize=1)
def event_classes() -> Dict[Text, Type[Event]]:
    """Event type name → class, first match winning as in `Event.resolve_by_type`."""
    classes: Dict[Text, Type[Event]] = {}
    for cls in all_subclasses(Event):
        classes.setdefault(cls.type_name, cls)
    return classes


def deserialise_events(serialised: Iterable[Dict[Text, Any]]) -> List[Event]:
    """Same result as `rasa.shared.core.events.deserialise_events`, without the class search."""
    classes = event_classes()
    events: List[Event] = []
    for parameters in serialised:
        if "event" not in parameters:
            continue
        cls = classes.get(parameters["event"])
        event = cls._from_parameters(parameters) if cls else Event.from_parameters(parameters)
        if event:
            events.append(event)
        else:
            logger.warning("unable to parse event %s while deserialising a tracker", parameters)
    return events


def encode(event: Event) -> Text:
    return json.dumps(event.as_dict(), ensure_ascii=False)


def session_start_offsets(events: List[Event]) -> List[int]:
    """Where each conversation session starts: at each `action_session_start`, which Rasa's own
    split (`get_trackers_for_conversation_sessions`) keeps as the new session's first event."""
    return [
        index
        for index, event in enumerate(events)
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME
    ]


class ShouhouRedisTrackerStore(RedisTrackerStore):
    def __init__(self, *args: Any, record_exp: Optional[Any] = None, **kwargs: Any) -> None:
        # endpoints.yml substitutes ${VARS} as text; an empty value means "keep forever".
        retention = int(record_exp) if record_exp not in (None, "", "0", 0) else None
        super().__init__(*args, record_exp=retention, **kwargs)

    def events_key(self, sender_id: Text) -> Text:
        return f"{self.key_prefix}events:{sender_id}"

    def session_key(self, sender_id: Text) -> Text:
        return f"{self.key_prefix}session:{sender_id}"

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest conversation session, as Rasa's `retrieve` returns it."""
        start = self.red.get(self.session_key(sender_id))
        return self._load(sender_id, int(start) if start else 0)

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return self._load(sender_id, 0)

    def _load(self, sender_id: Text, start: int) -> Optional[DialogueStateTracker]:
        stored = self.red.lrange(self.events_key(sender_id), start, -1)
        if not stored and start == 0:
            return None
        tracker = self.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue(sender_id, deserialise_events(json.loads(line) for line in stored)))
        setattr(tracker, STORED_MARK, (sender_id, start, start + len(stored)))
        return tracker

    async def save(self, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
        await self.stream_events(tracker)
        mark = getattr(tracker, STORED_MARK, None)
        if mark and mark[0] == tracker.sender_id:
            self._append(tracker, start=mark[1], stored_count=mark[2])
        else:
            self._rewrite(tracker)
        self._expire(tracker.sender_id, timeout or self.record_exp)

    def _append(self, tracker: DialogueStateTracker, start: int, stored_count: int) -> None:
        """Push the events added since the tracker was loaded (or last saved); remember where
        a new conversation session began."""
        new_events = list(tracker.events)[stored_count - start:]
        if not new_events:
            return
        pipe = self.red.pipeline()
        pipe.rpush(self.events_key(tracker.sender_id), *[encode(event) for event in new_events])
        offsets = session_start_offsets(new_events)
        if offsets:
            pipe.set(self.session_key(tracker.sender_id), stored_count + offsets[-1])
        pipe.execute()
        setattr(tracker, STORED_MARK, (tracker.sender_id, start, stored_count + len(new_events)))

    def _rewrite(self, tracker: DialogueStateTracker) -> None:
        """A tracker this store did not load: merge with what is stored (as Rasa does) and
        write the whole list again in one transaction."""
        stored = self._load(tracker.sender_id, 0)
        if stored is not None:
            tracker = self._merge_trackers(stored, tracker)
        events = list(tracker.events)
        offsets = session_start_offsets(events)
        pipe = self.red.pipeline()  # MULTI/EXEC: readers see the old list or the new one
        pipe.delete(self.events_key(tracker.sender_id), self.session_key(tracker.sender_id))
        if events:
            pipe.rpush(self.events_key(tracker.sender_id), *[encode(event) for event in events])
        if offsets:
            pipe.set(self.session_key(tracker.sender_id), offsets[-1])
        pipe.execute()

    def _expire(self, sender_id: Text, seconds: Optional[float]) -> None:
        if not seconds:
            return
        pipe = self.red.pipeline(transaction=False)
        pipe.expire(self.events_key(sender_id), int(seconds))
        pipe.expire(self.session_key(sender_id), int(seconds))
        pipe.execute()

    async def exists(self, conversation_id: Text) -> bool:
        return bool(self.red.exists(self.events_key(conversation_id)))

    async def keys(self) -> Iterable[Text]:
        """Conversation ids (a SCAN, for Rasa's listing endpoints; never in a message's path)."""
        prefix = self.events_key("")
        return [key[len(prefix):] for key in self.red.scan_iter(match=prefix + "*", count=1000)]
