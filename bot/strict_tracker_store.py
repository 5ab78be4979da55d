"""StrictTrackerStore: a tracker store failure fails the turn; nothing is kept in process memory.

Rasa 3.6's Agent wraps every tracker store in a FailSafeTrackerStore. When Redis is down it
answers a load with "no such conversation" (the shopper is greeted as a stranger, slots and
form gone) and keeps the saved turn in an InMemoryTrackerStore of that one process, which
is never written back: after Redis returns, the conversation silently misses that turn, and
another Rasa process never saw it. Here the error goes up instead: the turn fails, nothing
lands in memory, the gateway tells the shopper in Chinese to try again (handoff/gateway.py),
and after Redis returns the conversation resumes from what Redis has.

`install()` makes the agent use this wrapper; bot/rasa_server.py calls it before Rasa starts.
"""

from __future__ import annotations

import logging
from typing import Iterable, Optional, Text

import rasa.core.agent
from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)


class TrackerStoreUnavailable(RuntimeError):
    """The conversation store failed; the turn must not go on (or be kept elsewhere)."""


class StrictTrackerStore(FailSafeTrackerStore):
    """Same constructor as Rasa's wrapper (which the agent calls), no fallback store."""

    @property
    def fallback_tracker_store(self) -> TrackerStore:
        raise TrackerStoreUnavailable("no fallback: a turn is never kept in process memory")

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._fail_loudly("load", sender_id, self._tracker_store.retrieve(sender_id))

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._fail_loudly("load", sender_id, self._tracker_store.retrieve_full_tracker(sender_id))

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self._fail_loudly("save", tracker.sender_id, self._tracker_store.save(tracker))

    async def keys(self) -> Iterable[Text]:
        return await self._fail_loudly("list", "*", self._tracker_store.keys())

    async def _fail_loudly(self, what: str, sender_id: Text, call):  # type: ignore[no-untyped-def]
        try:
            return await call
        except Exception as error:
            logger.error("could not %s conversation %s in %s: %r", what, sender_id, type(self._tracker_store).__name__, error)
            raise TrackerStoreUnavailable(f"could not {what} conversation {sender_id}") from error


def install() -> None:
    """Rasa's agent builds its wrapper by this module-level name (rasa/core/agent.py)."""
    rasa.core.agent.FailSafeTrackerStore = StrictTrackerStore  # type: ignore[misc]
