"""With Redis down, a turn fails instead of landing in the memory of one Rasa process."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core import agent as rasa_agent
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.strict_tracker_store import StrictTrackerStore, TrackerStoreUnavailable, install
from bot.tracker_store import ShouhouRedisTrackerStore


@pytest.fixture()
def store_without_redis() -> StrictTrackerStore:
    install()
    domain = Domain.empty()
    closed_port = ShouhouRedisTrackerStore(domain, host="127.0.0.1", port=1, db=0, socket_timeout=1)
    return rasa_agent.Agent._create_tracker_store(closed_port, domain)


def test_the_agent_wraps_stores_in_the_strict_wrapper_once_installed(store_without_redis):
    assert isinstance(rasa_agent.Agent._create_tracker_store(None, Domain.empty()), StrictTrackerStore)


def test_loading_fails_instead_of_starting_a_new_conversation(store_without_redis):
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(store_without_redis.get_or_create_tracker("u1"))


def test_saving_fails_and_nothing_is_kept_in_memory(store_without_redis):
    tracker = DialogueStateTracker.from_events("u1", [UserUttered("杯子碎了")])
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(store_without_redis.save(tracker))
    assert store_without_redis._fallback_tracker_store is None
    with pytest.raises(TrackerStoreUnavailable):
        _ = store_without_redis.fallback_tracker_store
