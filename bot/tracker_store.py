"""ShouhouRedisTrackerStore: a conversation in Redis as an append-only list of events.

Rasa 3.6's RedisTrackerStore keeps a conversation as one JSON document. Every turn it reads
and decodes the whole document twice (to load the tracker, then again on save to merge it
with the stored copy, replaying every event), and writes the whole document back: the cost
of a turn grows with the length of the conversation, and a message in the 50th turn paid
for the 49 before it (bench/conversation.py). Here:

- `{prefix}:events:{sender}` is a Redis list with one JSON event per element; a turn appends
  only its new events (RPUSH), so a save costs what the turn added, and two writers can
  never overwrite each other's events;
- `{prefix}:meta:{sender}` holds the list index where the latest conversation session
  starts, so loading a conversation decodes that session only (what Rasa's `retrieve` gives),
  and how often the list was rewritten;
- each process keeps the decoded latest session of recent conversations and, on the next
  load, fetches and decodes only the events appended since (by any process), checked in one
  Redis transaction: a turn no longer pays for decoding the turns before it;
- with it, the tracker replayed from those events: when the new events only add to the
  applied ones (bot/applied_events.py), a load applies them to a clone of the kept replay
  instead of replaying the whole session (bot/incremental_tracker.py);
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
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Text, Type

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from bot.applied_events import loop_names, only_adds
from bot.incremental_tracker import clone

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
            # The type and time only: the parameters hold what the shopper wrote (phones, addresses).
            logger.warning("unable to parse a %r event of %s while deserialising a tracker",
                           parameters.get("event"), parameters.get("timestamp"))
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


def decode(lines: List[Text]) -> List[Event]:
    return deserialise_events(json.loads("[" + ",".join(lines) + "]")) if lines else []


@dataclass
class CachedSession:
    """The decoded events of a conversation's latest session, as this process last saw them."""

    rewrites: int  # the conversation's rewrite count then: a rewrite invalidates every copy
    start: int  # list index of the session's first event
    events: List[Event]
    # `events` replayed into a tracker (Rasa's `recreate_from_dialogue`) for `domain`, kept
    # private: a load hands out a clone, brought up to date with the events appended since.
    replayed: Optional[DialogueStateTracker] = None
    domain: Any = None
    loops: frozenset = frozenset()  # the session's loop (form) names, for `only_adds`

    @property
    def count(self) -> int:
        return self.start + len(self.events)


class ShouhouRedisTrackerStore(RedisTrackerStore):
    def __init__(
        self,
        *args: Any,
        record_exp: Optional[Any] = None,
        cached_conversations: Any = 2000,
        socket_timeout: Optional[float] = None,
        **kwargs: Any,
    ) -> None:
        # endpoints.yml substitutes ${VARS} as text; an empty value means "keep forever".
        retention = int(record_exp) if record_exp not in (None, "", "0", 0) else None
        super().__init__(*args, record_exp=retention, **kwargs)
        if socket_timeout:  # Rasa's store waits for ever on a Redis that does not answer
            self.red.connection_pool.connection_kwargs.update(
                socket_timeout=float(socket_timeout), socket_connect_timeout=float(socket_timeout)
            )
        # Decoded sessions of recent conversations. Every load checks them against Redis in the
        # same transaction that fetches the events appended since (by any process), so a copy
        # is never stale; it only spares decoding what this process has decoded before.
        self.cache: "OrderedDict[Text, CachedSession]" = OrderedDict()
        self.cache_size = int(cached_conversations)

    def events_key(self, sender_id: Text) -> Text:
        return f"{self.key_prefix}events:{sender_id}"

    def meta_key(self, sender_id: Text) -> Text:
        """Hash: `session_start` (list index of the latest session), `rewrites` (count)."""
        return f"{self.key_prefix}meta:{sender_id}"

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest conversation session, as Rasa's `retrieve` returns it."""
        cached = self.cache.get(sender_id)
        if cached is not None:
            pipe = self.red.pipeline()  # MULTI/EXEC: meta and tail from one moment
            pipe.hmget(self.meta_key(sender_id), "session_start", "rewrites")
            pipe.lrange(self.events_key(sender_id), cached.count, -1)
            pipe.llen(self.events_key(sender_id))
            (start, rewrites), tail, length = pipe.execute()
            start, rewrites = int(start or 0), int(rewrites or 0)
            unchanged_before = rewrites == cached.rewrites and length == cached.count + len(tail)
            if unchanged_before and cached.start <= start <= length:
                new_events = decode(tail)
                if start == cached.start and self._replay_is_current(cached, new_events):
                    return self._tracker_from_replayed(sender_id, cached, new_events)
                events = (cached.events + new_events)[start - cached.start :]
                return self._tracker(sender_id, rewrites, start, events)
        pipe = self.red.pipeline()
        pipe.hmget(self.meta_key(sender_id), "session_start", "rewrites")
        pipe.lrange(self.events_key(sender_id), 0, -1)
        (start, rewrites), stored = pipe.execute()
        if not stored:
            self.cache.pop(sender_id, None)
            return None
        start = int(start or 0)
        return self._tracker(sender_id, int(rewrites or 0), start, decode(stored[start:]))

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        stored = self.red.lrange(self.events_key(sender_id), 0, -1)
        if not stored:
            return None
        tracker = self.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue(sender_id, decode(stored)))
        return tracker  # unmarked: saving it merges and rewrites, as Rasa's store would

    def _tracker(self, sender_id: Text, rewrites: int, start: int, events: List[Event]) -> DialogueStateTracker:
        tracker = self.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue(sender_id, events))
        self._remember(sender_id, CachedSession(rewrites, start, list(events), clone(tracker), self.domain, loop_names(events)))
        setattr(tracker, STORED_MARK, (sender_id, start, start + len(events)))
        return tracker

    def _replay_is_current(self, cached: CachedSession, new_events: List[Event]) -> bool:
        """The kept replay can be brought up to date by applying the new events after it."""
        return cached.replayed is not None and cached.domain is self.domain and only_adds(new_events, cached.loops)

    def _tracker_from_replayed(self, sender_id: Text, cached: CachedSession, new_events: List[Event]) -> DialogueStateTracker:
        """What `_tracker` builds, without replaying the events replayed before: the new events
        only add to the applied ones, so replaying all equals the kept replay plus these."""
        self._bring_up_to_date(sender_id, cached, new_events)
        tracker = clone(cached.replayed)
        setattr(tracker, STORED_MARK, (sender_id, cached.start, cached.count))
        return tracker

    def _bring_up_to_date(self, sender_id: Text, cached: CachedSession, new_events: List[Event]) -> None:
        """The kept session and its replay, with the new events appended (and applied)."""
        for event in new_events:
            cached.replayed.events.append(event)  # type: ignore[union-attr]
            event.apply_to(cached.replayed)
        cached.events.extend(new_events)
        self._remember(sender_id, cached)

    def _remember(self, sender_id: Text, session: CachedSession) -> None:
        self.cache[sender_id] = session
        self.cache.move_to_end(sender_id)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)

    async def save(self, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
        await self.stream_events(tracker)
        seconds = timeout or self.record_exp
        mark = getattr(tracker, STORED_MARK, None)
        if mark and mark[0] == tracker.sender_id:
            self._append(tracker, start=mark[1], stored_count=mark[2], expire_seconds=seconds)
        else:
            self._rewrite(tracker, expire_seconds=seconds)

    def _append(self, tracker: DialogueStateTracker, start: int, stored_count: int, expire_seconds: Optional[float]) -> None:
        """Push the events added since the tracker was loaded (or last saved); remember where
        a new conversation session began; renew the expiry (one round trip to Redis)."""
        new_events = list(tracker.events)[stored_count - start :]
        sender_id = tracker.sender_id
        pipe = self.red.pipeline()
        if not new_events:
            self._add_expiry(pipe, sender_id, expire_seconds)
            pipe.execute()
            return
        offsets = session_start_offsets(new_events)
        pipe.rpush(self.events_key(sender_id), *[encode(event) for event in new_events])
        if offsets:
            pipe.hset(self.meta_key(sender_id), "session_start", stored_count + offsets[-1])
        self._add_expiry(pipe, sender_id, expire_seconds)
        length = pipe.execute()[0]
        setattr(tracker, STORED_MARK, (sender_id, start, stored_count + len(new_events)))
        self._extend_cached(sender_id, stored_count, new_events, length, offsets)

    def _extend_cached(
        self, sender_id: Text, stored_count: int, new_events: List[Event], length: int, offsets: List[int]
    ) -> None:
        """Keep this process's copy in step with what it just wrote, when nobody wrote between."""
        cached = self.cache.get(sender_id)
        if cached is None or cached.count != stored_count or length != stored_count + len(new_events):
            self.cache.pop(sender_id, None)
            return
        if not offsets and self._replay_is_current(cached, new_events):
            self._bring_up_to_date(sender_id, cached, new_events)
            return
        events = cached.events + new_events
        start = stored_count + offsets[-1] if offsets else cached.start
        self._remember(sender_id, CachedSession(cached.rewrites, start, events[start - cached.start :]))

    def _rewrite(self, tracker: DialogueStateTracker, expire_seconds: Optional[float]) -> None:
        """A tracker this store did not load: merge with what is stored (as Rasa does) and
        write the whole list again in one transaction."""
        given = tracker
        stored = self.red.lrange(self.events_key(tracker.sender_id), 0, -1)
        if stored:
            prior = self.init_tracker(tracker.sender_id)
            prior.recreate_from_dialogue(Dialogue(tracker.sender_id, decode(stored)))
            tracker = self._merge_trackers(prior, tracker)
        events = list(tracker.events)
        offsets = session_start_offsets(events)
        pipe = self.red.pipeline()  # MULTI/EXEC: readers see the old list or the new one
        pipe.delete(self.events_key(tracker.sender_id))
        if events:
            pipe.rpush(self.events_key(tracker.sender_id), *[encode(event) for event in events])
        pipe.hset(self.meta_key(tracker.sender_id), "session_start", offsets[-1] if offsets else 0)
        pipe.hincrby(self.meta_key(tracker.sender_id), "rewrites", 1)
        self._add_expiry(pipe, tracker.sender_id, expire_seconds)
        pipe.execute()
        self.cache.pop(tracker.sender_id, None)
        if tracker is given:  # a new conversation, written as it is: its next save appends
            setattr(given, STORED_MARK, (given.sender_id, 0, len(events)))

    def _add_expiry(self, pipe: Any, sender_id: Text, seconds: Optional[float]) -> None:
        if seconds:
            pipe.expire(self.events_key(sender_id), int(seconds))
            pipe.expire(self.meta_key(sender_id), int(seconds))

    async def exists(self, conversation_id: Text) -> bool:
        return bool(self.red.exists(self.events_key(conversation_id)))

    async def keys(self) -> Iterable[Text]:
        """Conversation ids (a SCAN, for Rasa's listing endpoints; never in a message's path)."""
        prefix = self.events_key("")
        return [key[len(prefix) :] for key in self.red.scan_iter(match=prefix + "*", count=1000)]
