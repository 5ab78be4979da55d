"""ShouhouRedisTrackerStore: Rasa's Redis tracker store without its per-event class search.

Rasa 3.6 turns each stored event back into an object with `Event.resolve_by_type`, which
walks every subclass of `Event` for every event, and the Redis store does it twice a turn
(on retrieve, and on save to merge with the stored copy). With a 100-turn conversation
that was 28 % of the Rasa server's CPU (py-spy, bench/conversation.py). This store
resolves event types through a table built once; everything else is Rasa's own.
Configured in endpoints.yml (`tracker_store: type: bot.tracker_store.ShouhouRedisTrackerStore`).

Loaded by the Rasa server at run time, never by training: bot/fingerprint.py leaves it
out of the model fingerprint.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Type, Union

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def event_classes() -> Dict[Text, Type[Event]]:
    """Event type name → class, first match winning as in `Event.resolve_by_type`."""
    classes: Dict[Text, Type[Event]] = {}
    for cls in all_subclasses(Event):
        classes.setdefault(cls.type_name, cls)
    return classes


def deserialise_events(serialised: List[Dict[Text, Any]]) -> List[Event]:
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


class ShouhouRedisTrackerStore(RedisTrackerStore):
    def deserialise_tracker(
        self, sender_id: Text, serialised_tracker: Union[Text, bytes]
    ) -> Optional[DialogueStateTracker]:
        tracker = self.init_tracker(sender_id)
        stored = json.loads(serialised_tracker)
        tracker.recreate_from_dialogue(Dialogue(stored.get("name"), deserialise_events(stored.get("events", []))))
        return tracker
