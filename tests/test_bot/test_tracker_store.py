"""The event-list tracker store against a real Redis, checked against Rasa's own Redis store."""

from __future__ import annotations

import asyncio
from typing import List
from urllib.parse import urlparse

import pytest
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import ShouhouRedisTrackerStore
from tests.conftest import PROJECT_ROOT
from tests.test_bot.test_incremental_tracker import state, undoing_conversation


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def store_kwargs(redis_url: str) -> dict:
    parsed = urlparse(redis_url)
    return {"host": parsed.hostname, "port": parsed.port, "db": int(parsed.path.lstrip("/")), "key_prefix": "shouhou"}


@pytest.fixture()
def store(domain, redis_url, redis_client) -> ShouhouRedisTrackerStore:
    return ShouhouRedisTrackerStore(domain, **store_kwargs(redis_url))


def run(coroutine):
    return asyncio.run(coroutine)


def session(start: float) -> List[Event]:
    return [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=start),
        SessionStarted(timestamp=start + 1),
        ActionExecuted(ACTION_LISTEN_NAME, timestamp=start + 2),
    ]


def turn(text: str, at: float) -> List[Event]:
    return [
        UserUttered(text, {"name": "report_broken", "confidence": 0.9}, timestamp=at),
        SlotSet("order_id", "2025041812345678", timestamp=at + 0.1),
        BotUttered("很抱歉给您添麻烦了", timestamp=at + 0.2),
        ActionExecuted(ACTION_LISTEN_NAME, timestamp=at + 0.3),
    ]


def as_dicts(tracker: DialogueStateTracker) -> List[dict]:
    return [event.as_dict() for event in tracker.events]


def test_a_new_conversation_round_trips(store):
    tracker = DialogueStateTracker.from_events("shopper-1", session(1) + turn("奶粉结块了", 10))
    run(store.save(tracker))
    loaded = run(store.retrieve("shopper-1"))
    assert as_dicts(loaded) == as_dicts(tracker)
    assert loaded.get_slot("order_id") == "2025041812345678"
    assert run(store.exists("shopper-1")) and not run(store.exists("nobody"))
    assert run(store.retrieve("nobody")) is None


def test_a_turn_appends_only_its_own_events(store, redis_client):
    run(store.save(DialogueStateTracker.from_events("shopper-1", session(1) + turn("奶粉结块了", 10))))
    before = redis_client.lrange(store.events_key("shopper-1"), 0, -1)
    tracker = run(store.retrieve("shopper-1"))
    tracker.update_with_events(turn("订单号是多少来着", 20), None, override_timestamp=False)
    run(store.save(tracker))
    after = redis_client.lrange(store.events_key("shopper-1"), 0, -1)
    assert after[: len(before)] == before
    assert len(after) == len(before) + 4
    # Saving the same tracker again adds nothing.
    run(store.save(tracker))
    assert redis_client.llen(store.events_key("shopper-1")) == len(after)


def test_loading_gives_the_latest_session_as_rasas_store_does(domain, redis_url, redis_client, store):
    events = session(1) + turn("奶粉结块了", 10) + session(5000) + turn("我又来了", 5010)
    rasa_store = RedisTrackerStore(domain, **store_kwargs(redis_url))
    for target in (store, rasa_store):
        first = DialogueStateTracker.from_events("shopper-2", events[:7])
        run(target.save(first))
        loaded = run(target.retrieve("shopper-2"))
        loaded.update_with_events(events[7:], None, override_timestamp=False)
        run(target.save(loaded))
    ours, theirs = run(store.retrieve("shopper-2")), run(rasa_store.retrieve("shopper-2"))
    assert as_dicts(ours) == as_dicts(theirs) == [e.as_dict() for e in events[7:]]
    assert as_dicts(run(store.retrieve_full_tracker("shopper-2"))) == [e.as_dict() for e in events]


def test_a_tracker_from_elsewhere_is_merged_without_doubling_events(store):
    run(store.save(DialogueStateTracker.from_events("shopper-3", session(1) + turn("奶粉结块了", 10))))
    replacement = DialogueStateTracker.from_events("shopper-3", session(1) + turn("奶粉结块了", 10) + turn("人工", 30))
    run(store.save(replacement))
    assert as_dicts(run(store.retrieve_full_tracker("shopper-3"))) == as_dicts(replacement)


def test_two_writers_on_one_conversation_lose_nothing(domain, redis_url, store):
    """Two Rasa processes that both loaded the conversation: Rasa's store keeps the last
    writer's document; appending keeps both turns."""
    run(store.save(DialogueStateTracker.from_events("shopper-4", session(1))))
    other_process = ShouhouRedisTrackerStore(domain, **store_kwargs(redis_url))
    mine, theirs = run(store.retrieve("shopper-4")), run(other_process.retrieve("shopper-4"))
    mine.update_with_events(turn("第一条", 10), None, override_timestamp=False)
    theirs.update_with_events(turn("第二条", 20), None, override_timestamp=False)
    run(store.save(mine))
    run(other_process.save(theirs))
    texts = [e.text for e in run(store.retrieve("shopper-4")).events if isinstance(e, UserUttered)]
    assert texts == ["第一条", "第二条"]


def test_conversations_expire_after_the_retention_time(domain, redis_url, redis_client):
    store = ShouhouRedisTrackerStore(domain, record_exp="3600", **store_kwargs(redis_url))
    run(store.save(DialogueStateTracker.from_events("shopper-5", session(1000) + turn("在吗", 1010))))
    assert 3590 < redis_client.ttl(store.events_key("shopper-5")) <= 3600
    assert 3590 < redis_client.ttl(store.meta_key("shopper-5")) <= 3600
    forever = ShouhouRedisTrackerStore(domain, record_exp="", **store_kwargs(redis_url))
    run(forever.save(DialogueStateTracker.from_events("shopper-6", session(1))))
    assert redis_client.ttl(forever.events_key("shopper-6")) == -1


def test_keys_lists_the_conversations(store):
    for sender in ("a", "b"):
        run(store.save(DialogueStateTracker.from_events(sender, session(1))))
    assert sorted(run(store.keys())) == ["a", "b"]


def test_a_process_decodes_only_what_others_appended_since_it_last_looked(domain, redis_url, store):
    run(store.save(DialogueStateTracker.from_events("shopper-7", session(1) + turn("奶粉结块了", 10))))
    mine = run(store.retrieve("shopper-7"))
    mine.update_with_events(turn("我自己的", 20), None, override_timestamp=False)
    run(store.save(mine))
    assert store.cache["shopper-7"].count == 11
    other_process = ShouhouRedisTrackerStore(domain, **store_kwargs(redis_url))
    theirs = run(other_process.retrieve("shopper-7"))
    theirs.update_with_events(turn("另一个进程的", 30) + session(5000), None, override_timestamp=False)
    run(other_process.save(theirs))
    # This process's copy is 11 events old: it reads the 7 new ones and the new session start.
    latest = run(store.retrieve("shopper-7"))
    assert as_dicts(latest) == as_dicts(run(other_process.retrieve("shopper-7")))
    assert [e.as_dict() for e in latest.events] == [e.as_dict() for e in session(5000)]


def test_a_cached_copy_is_never_served_after_a_rewrite_or_expiry(store, redis_client):
    run(store.save(DialogueStateTracker.from_events("shopper-8", session(1) + turn("奶粉结块了", 10))))
    assert run(store.retrieve("shopper-8")) is not None and "shopper-8" in store.cache
    redis_client.delete(store.events_key("shopper-8"), store.meta_key("shopper-8"))  # expired
    assert run(store.retrieve("shopper-8")) is None
    run(store.save(DialogueStateTracker.from_events("shopper-8", session(1) + turn("第一版", 10))))
    run(store.retrieve("shopper-8"))
    # Another process replaces the events (Rasa's PUT /conversations/{id}/tracker/events).
    redis_client.hincrby(store.meta_key("shopper-8"), "rewrites", 1)
    redis_client.lset(store.events_key("shopper-8"), 3, redis_client.lindex(store.events_key("shopper-8"), 3).replace(
        "第一版".encode(), "第二版".encode()))
    texts = [e.text for e in run(store.retrieve("shopper-8")).events if isinstance(e, UserUttered)]
    assert texts == ["第二版"]



def test_conversations_loaded_turn_after_turn_are_in_the_state_a_full_replay_gives(domain, redis_url, redis_client):
    """Two processes take turns on a conversation that runs a form again, rewinds, reverts,
    restarts and starts a new session: each load (the kept replay plus the new events, or a
    replay from the start) is in exactly the state Rasa's replay of the stored session gives."""
    processes = [ShouhouRedisTrackerStore(domain, **store_kwargs(redis_url)) for _ in range(2)]
    turns: List[List[Event]] = [[]]
    for event in undoing_conversation():
        turns[-1].append(event)
        if isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            turns.append([])
    assert len(turns) > 6
    for number, turn_events in enumerate(turns):
        store = processes[(number // 2) % 2]  # two turns in one process, then two in the other
        tracker = run(store.retrieve("shopper-9")) or store.init_tracker("shopper-9")
        for event in turn_events:
            tracker.update(event)
        run(store.save(tracker))
        fresh = ShouhouRedisTrackerStore(domain, **store_kwargs(redis_url))  # nothing kept: Rasa's replay
        expected = state(run(fresh.retrieve("shopper-9")), by_identity=False)
        for each in processes:
            assert state(run(each.retrieve("shopper-9")), by_identity=False) == expected, number
