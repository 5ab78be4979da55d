"""Personal-data retention: the expiries the writers set, and `python -m handoff.cli purge`
(handoff/retention.py) against the real Redis (the tests' database) and a tmp photo folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Iterator, Set, Tuple
from urllib.parse import urlparse

import pytest
import pytest_asyncio
import redis
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from handoff import redis_keys
from handoff.console import misunderstood
from handoff.console.misunderstood import MisunderstoodIn
from handoff.feed import ConversationFeed, feed_key
from handoff.main import create_app
from handoff.ownership import Owner, transition
from handoff.photo_images import PhotoLimits
from handoff.photos import PhotoStore
from handoff.rate_limit import count_message
from handoff.retention import PurgeError, erase_conversation, purge_older_than, rasa_key_prefix
from handoff.review.inbox import Reason, ReviewInbox
from handoff.settings import HandoffSettings
from handoff.tickets.notes import TicketNotes
from handoff.tickets.service import TicketService
from tests.test_handoff import images
from tests.test_handoff.conftest import bearer, ticket_in

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAY = 24 * 3600
RETENTION = 30 * DAY
INBOX_RETENTION = 90 * DAY
LIMITS = PhotoLimits(max_bytes=10 * 1024 * 1024, max_pixels=40_000_000, max_side=2560)
NOW = time.time()
OLD = NOW - 40 * DAY  # older than the 30 days' retention
PHONE = "13912870456"
SHARED_TEXT = "两个人都说过的话"


@pytest.fixture()
def purge_settings(settings: HandoffSettings, tmp_path: Path) -> HandoffSettings:
    settings.conversation_retention_seconds = RETENTION
    settings.inbox_retention_seconds = INBOX_RETENTION
    settings.saved_stories_dir = tmp_path / "saved_stories"
    return settings


def photo_store(redis: Redis, settings: HandoffSettings) -> PhotoStore:
    return PhotoStore(redis, settings.photo_dir, LIMITS, settings.conversation_retention_seconds)


def age(path: Path, at: float) -> None:
    os.utime(path, (at, at))


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).isoformat()


def tracker_keys(conversation_id: str) -> Tuple[str, str]:
    prefix = rasa_key_prefix()
    return f"{prefix}tracker:events:{conversation_id}", f"{prefix}tracker:meta:{conversation_id}"


def write_tracker(client: redis.Redis, conversation_id: str, at: float, text: str = "杯子碎了") -> None:
    """A conversation as bot/tracker_store.py stores it: one JSON event per list element."""
    events, meta = tracker_keys(conversation_id)
    client.rpush(events, json.dumps({"event": "user", "timestamp": at, "text": text}, ensure_ascii=False))
    client.hset(meta, "session_start", 0)
    client.expire(events, 60 * DAY)  # kept under an earlier, longer retention
    client.expire(meta, 60 * DAY)


def write_old_feed_line(client: redis.Redis, conversation_id: str, at: float) -> None:
    """A feed line from `at` (a stream id is its time), kept under an earlier, longer retention."""
    key = feed_key(conversation_id)
    client.xadd(key, {"message": json.dumps({"from": "shopper", "text": "你好", "at": at})}, id=f"{int(at * 1000)}-0")
    client.expire(key, 60 * DAY)


def write_story(settings: HandoffSettings, name: str, conversation_id: str, at: float) -> Path:
    path = Path(settings.saved_stories_dir) / f"test_{name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# Saved from conversation {conversation_id} by xunlian.zhao on 2026-01-01 10:00.\nstories: []\n",
                    encoding="utf-8")
    age(path, at)
    return path


async def finished_ticket(redis: Redis, settings: HandoffSettings, conversation_id: str, at: float) -> str:
    """A ticket queued, claimed and returned to the bot at `at`, with one note."""
    service = TicketService(redis, settings, clock=lambda: at)
    ticket, _ = await service.enqueue(ticket_in(conversation_id))
    await service.claim(ticket.ticket_id, "kefu.wang")
    await TicketNotes(redis).add(ticket.ticket_id, "kefu.wang", "客服小王", f"顾客电话{PHONE}")
    await service.return_to_bot(ticket.ticket_id, "kefu.wang", "已处理")
    return ticket.ticket_id


def dump_all(client: redis.Redis) -> Dict[bytes, Tuple[bytes, int]]:
    """Every key of the database: its serialised value and its TTL."""
    return {key: (client.dump(key), client.ttl(key)) for key in client.scan_iter(count=1000)}


def assert_untouched(before: Dict[bytes, Tuple[bytes, int]], after: Dict[bytes, Tuple[bytes, int]]) -> None:
    """Same keys, same values, same expiries (a TTL may have ticked meanwhile)."""
    assert set(after) == set(before)
    for key, (value, ttl) in before.items():
        assert after[key][0] == value, key
        assert (after[key][1] == -1) == (ttl == -1) and abs(after[key][1] - ttl) <= 2, key


def files_under(*folders: Path) -> Dict[Path, float]:
    return {path: path.stat().st_mtime for folder in folders if folder.is_dir() for path in folder.iterdir()}


# -- the expiries the writers set ----------------------------------------------------------------


async def test_a_photos_metadata_and_its_owners_index_expire_with_the_retention(redis, purge_settings):
    info = await photo_store(redis, purge_settings).save("u1001", images.jpeg())
    for key in (redis_keys.PHOTO.format(photo_id=info.id), redis_keys.PHOTO_HASHES.format(owner="u1001")):
        assert RETENTION - 5 <= await redis.ttl(key) <= RETENTION


def test_the_app_gives_uploaded_photos_the_conversation_retention(purge_settings, redis_client, shopper_token):
    purge_settings.conversation_retention_seconds = 7 * DAY
    with TestClient(create_app(purge_settings)) as client:
        response = client.post("/api/photos", files=[("file", ("a.jpg", images.jpeg(), "image/jpeg"))],
                               headers=bearer(shopper_token("u1001")))
    assert response.status_code == 201, response.text
    photo_id = response.json()["photos"][0]["id"]
    assert 7 * DAY - 5 <= redis_client.ttl(redis_keys.PHOTO.format(photo_id=photo_id)) <= 7 * DAY


async def test_returning_a_ticket_makes_it_and_its_notes_expire_and_a_later_note_follows(redis, purge_settings):
    service = TicketService(redis, purge_settings)
    ticket, _ = await service.enqueue(ticket_in("conv-1"))
    await service.claim(ticket.ticket_id, "kefu.wang")
    notes = TicketNotes(redis)
    await notes.add(ticket.ticket_id, "kefu.wang", "客服小王", "顾客要求退款")
    ticket_key = redis_keys.TICKET.format(ticket_id=ticket.ticket_id)
    notes_key = redis_keys.TICKET_NOTES.format(ticket_id=ticket.ticket_id)
    ownership_key = redis_keys.CONVERSATION.format(conversation_id="conv-1")
    assert await redis.ttl(ticket_key) == -1 and await redis.ttl(notes_key) == -1, "an open ticket never expires"
    assert await redis.ttl(ownership_key) == -1, "nor does a conversation waiting for or with a person"
    await service.return_to_bot(ticket.ticket_id, "kefu.wang", "已退款")
    assert RETENTION - 5 <= await redis.ttl(ownership_key) <= RETENTION, "the bot answers again: it expires"
    await service.enqueue(ticket_in("conv-1"))
    assert await redis.ttl(ownership_key) == -1, "handed off again: kept while a person is needed"
    assert RETENTION - 5 <= await redis.ttl(ticket_key) <= RETENTION
    assert RETENTION - 5 <= await redis.ttl(notes_key) <= RETENTION
    await redis.delete(notes_key)
    await redis.expire(ticket_key, 1000)  # the ticket ended long ago
    await notes.add(ticket.ticket_id, "kefu.li", "客服小李", "已回访")  # a note on a finished ticket: goes with it
    assert 990 <= await redis.ttl(notes_key) <= 1000


async def test_misunderstood_marks_are_stored_masked_and_kept_as_long_as_the_inbox(redis):
    stream = redis_keys.MISUNDERSTOOD
    await redis.xadd(stream, {"mark": "{}"}, id=f"{int((NOW - 100 * DAY) * 1000)}-0")  # older than the inbox keeps
    body = MisunderstoodIn(text=f"我手机{PHONE}收不到验证码", right_intent="ask_policy")
    await misunderstood.mark(redis, "u1001", "kefu.wang", body, INBOX_RETENTION)
    [(_, fields)] = await redis.xrange(stream)
    assert json.loads(fields[b"mark"])["text"] == "我手机139****0456收不到验证码"
    assert INBOX_RETENTION - 5 <= await redis.ttl(stream) <= INBOX_RETENTION


# -- the age purge ---------------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="function")
async def aged_world(redis, redis_client, purge_settings) -> Dict[str, object]:
    """Old and fresh data of every kind; returns what the purge must remove."""
    settings = purge_settings
    write_tracker(redis_client, "conv-old", OLD)
    write_tracker(redis_client, "conv-new", NOW)
    write_old_feed_line(redis_client, "conv-old", OLD)
    await ConversationFeed(redis, RETENTION).push("conv-new", {"from": "shopper", "text": "你好"})
    for conversation_id, at in (("conv-old", OLD), ("conv-new", NOW)):  # handed off, then back to the bot
        await transition(redis, conversation_id, Owner.bot, Owner.waiting, ticket_id="T", now=at)
        await transition(redis, conversation_id, Owner.waiting, Owner.bot, now=at)
    await transition(redis, "conv-waiting", Owner.bot, Owner.waiting, ticket_id="T", now=OLD)  # still waiting: kept
    old_ticket = await finished_ticket(redis, settings, "conv-old", OLD)
    legacy_ticket = await finished_ticket(redis, settings, "conv-legacy", OLD)  # finished before tickets expired
    fresh_legacy = await finished_ticket(redis, settings, "conv-new", NOW)
    for ticket_id in (legacy_ticket, fresh_legacy):
        redis_client.persist(redis_keys.TICKET.format(ticket_id=ticket_id))
        redis_client.persist(redis_keys.TICKET_NOTES.format(ticket_id=ticket_id))
    open_service = TicketService(redis, settings, clock=lambda: OLD)
    await open_service.enqueue(ticket_in("conv-open"))  # waiting for 40 days: kept, reported
    await TicketNotes(redis).add("OrphanNotes00000", "kefu.wang", "客服小王", "工单已不存在")
    store = photo_store(redis, settings)
    old_photo = await store.save("conv-old", images.jpeg(seed=1))
    redis_client.hset(redis_keys.PHOTO.format(photo_id=old_photo.id), "created_at", iso(OLD))
    old_file = Path(settings.photo_dir) / f"{old_photo.id}.jpg"
    age(old_file, OLD)
    fresh_photo = await store.save("conv-new", images.jpeg(seed=2))
    orphan = Path(settings.photo_dir) / "OrphanPhotoFile0000000.jpg"  # its metadata expired
    orphan.write_bytes(images.jpeg(seed=3))
    age(orphan, OLD)
    in_flight = Path(settings.photo_dir) / "UploadInFlight00000000.jpg"  # metadata not written yet
    in_flight.write_bytes(images.jpeg(seed=4))
    leftover = Path(settings.photo_dir) / ".upload-crashed.tmp"
    leftover.write_bytes(b"half")
    age(leftover, OLD)
    inbox = ReviewInbox(redis, INBOX_RETENTION)
    old_item = await inbox.observe("旧的消息", Reason.fallback, "conv-old", now=NOW - 100 * DAY)
    await inbox.observe("新的消息", Reason.fallback, "conv-new")
    redis_client.xadd(redis_keys.MISUNDERSTOOD, {"mark": "{}"}, id=f"{int((NOW - 100 * DAY) * 1000)}-0")
    redis_client.xadd(redis_keys.MISUNDERSTOOD, {"mark": json.dumps({"conversation_id": "conv-new"})})
    redis_client.expire(redis_keys.MISUNDERSTOOD, INBOX_RETENTION)
    client_message = redis_keys.CLIENT_MESSAGE.format(conversation_id="conv-new", client_id="c1")
    redis_client.set(client_message, "1")  # written without its expiry
    redis_client.hset(redis_keys.AGENT.format(agent_id="kefu.wang"), "display_name", "客服小王")  # not personal data
    old_story = write_story(settings, "old_one", "conv-old", OLD)
    fresh_story = write_story(settings, "fresh_one", "conv-new", NOW)
    return {
        "removed_keys": {
            *tracker_keys("conv-old"), feed_key("conv-old"),
            *(redis_keys.CONVERSATION.format(conversation_id=c) for c in ("conv-old", "conv-legacy")),
            *(redis_keys.TICKET.format(ticket_id=t) for t in (old_ticket, legacy_ticket)),
            *(redis_keys.TICKET_NOTES.format(ticket_id=t) for t in (old_ticket, legacy_ticket, "OrphanNotes00000")),
            redis_keys.PHOTO.format(photo_id=old_photo.id), redis_keys.PHOTO_HASHES.format(owner="conv-old"),
            redis_keys.INBOX_ITEM.format(key=old_item),
        },
        "changed_keys": {redis_keys.INBOX_OPEN, redis_keys.MISUNDERSTOOD},
        "given_expiry": {
            client_message, redis_keys.TICKET.format(ticket_id=fresh_legacy),
            redis_keys.TICKET_NOTES.format(ticket_id=fresh_legacy),
        },
        "removed_files": {old_file, orphan, leftover, old_story},
        "kept_files": {Path(settings.photo_dir) / f"{fresh_photo.id}.jpg", in_flight, fresh_story},
    }


EXPECTED_AGE_COUNTS = Counter(
    tracker=1, feed=1, ownership=2, ticket=2, ticket_notes=3, photo=1, photo_file=3, photo_index=1, inbox_item=1,
    misunderstood=1, saved_story=1, expiry_set=3, open_ticket_kept=1,
)


def folders(settings: HandoffSettings) -> Tuple[Path, Path]:
    return Path(settings.photo_dir), Path(settings.saved_stories_dir)


async def test_the_purge_removes_each_kind_of_old_data_and_touches_nothing_else(aged_world, redis_client, purge_settings):
    keys_before, files_before = dump_all(redis_client), files_under(*folders(purge_settings))
    report = purge_older_than(redis_client, purge_settings)
    assert +report.counts == EXPECTED_AGE_COUNTS
    keys_after = dump_all(redis_client)
    assert {key.decode() for key in set(keys_before) - set(keys_after)} == aged_world["removed_keys"]
    assert set(keys_after) <= set(keys_before)
    changed = {key.decode() for key in keys_after if keys_after[key][0] != keys_before[key][0]}
    assert changed == aged_world["changed_keys"]
    given_ttl = {key.decode() for key in keys_after if keys_after[key][1] != keys_before[key][1] and keys_before[key][1] == -1}
    assert given_ttl == aged_world["given_expiry"]
    assert all(0 < keys_after[key.encode()][1] <= RETENTION for key in aged_world["given_expiry"])
    files_after = files_under(*folders(purge_settings))
    assert set(files_before) - set(files_after) == aged_world["removed_files"]
    assert aged_world["kept_files"] <= set(files_after)
    assert not redis_client.zscore(redis_keys.INBOX_OPEN, next(iter(
        k for k in aged_world["removed_keys"] if k.startswith(redis_keys.INBOX_ITEM.format(key=""))
    )).rsplit(":", 1)[1])
    assert redis_client.xlen(redis_keys.MISUNDERSTOOD) == 1, "the fresh mark stays"


async def test_a_dry_run_touches_nothing_and_counts_what_a_real_run_removes(aged_world, redis_client, purge_settings):
    keys_before, files_before = dump_all(redis_client), files_under(*folders(purge_settings))
    dry = purge_older_than(redis_client, purge_settings, dry_run=True)
    assert_untouched(keys_before, dump_all(redis_client))
    assert files_under(*folders(purge_settings)) == files_before
    assert dry.lines()[0].endswith("(dry run: nothing removed)")
    assert +dry.counts == +purge_older_than(redis_client, purge_settings).counts == EXPECTED_AGE_COUNTS


async def test_older_than_applies_a_shorter_retention_for_this_run(redis, redis_client, purge_settings):
    write_old_feed_line(redis_client, "conv-week", NOW - 10 * DAY)
    assert purge_older_than(redis_client, purge_settings).counts["feed"] == 0
    assert purge_older_than(redis_client, purge_settings, days=7).counts["feed"] == 1
    assert not redis_client.exists(feed_key("conv-week"))


async def test_an_ownership_record_of_a_conversation_handed_off_meanwhile_is_kept(redis, redis_client, purge_settings):
    """The record is read, then deleted only if the bot still answers: never a fresh handoff."""
    await transition(redis, "conv-race", Owner.bot, Owner.waiting, ticket_id="T", now=OLD)
    await transition(redis, "conv-race", Owner.waiting, Owner.bot, now=OLD)
    key = redis_keys.CONVERSATION.format(conversation_id="conv-race")
    real_hgetall = redis_client.hgetall

    def hgetall_then_handoff(name):
        fields = real_hgetall(name)
        redis_client.hset(key, mapping={"owner": "waiting", "updated_at": repr(NOW)})  # another process, in between
        return fields

    redis_client.hgetall = hgetall_then_handoff
    purge_older_than(redis_client, purge_settings)
    assert redis_client.hget(key, "owner") == b"waiting"


# -- erasing one conversation ---------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="function")
async def two_shoppers(redis, redis_client, purge_settings) -> Dict[str, Set[str]]:
    """u1001 (to be erased) and u1002 with a bit of everything; returns u1001's keys and files."""
    settings = purge_settings
    found: Dict[str, Set] = {"keys": set(), "files": set()}
    inbox = ReviewInbox(redis, INBOX_RETENTION)
    await inbox.observe(SHARED_TEXT, Reason.fallback, "u1002")
    for shopper in ("u1001", "u1002"):
        write_tracker(redis_client, shopper, NOW, text=f"我的手机是{PHONE}")
        redis_client.set(f"{rasa_key_prefix()}lock:{shopper}", "{}")
        await ConversationFeed(redis, RETENTION).push(shopper, {"from": "shopper", "text": "在吗"})
        redis_client.set(redis_keys.CLIENT_MESSAGE.format(conversation_id=shopper, client_id="m1"), "1", ex=DAY)
        await count_message(redis, f"shopper:{shopper}", 30, "太快了")
        service = TicketService(redis, settings)
        ticket, _ = await service.enqueue(ticket_in(shopper))
        await service.claim(ticket.ticket_id, "kefu.wang")
        await TicketNotes(redis).add(ticket.ticket_id, "kefu.wang", "客服小王", "备注")
        photo = await photo_store(redis, settings).save(shopper, images.jpeg(seed=int(shopper[-1])))
        item = await inbox.observe(f"{shopper}独有的话", Reason.fallback, shopper)
        await misunderstood.mark(redis, shopper, "kefu.wang", MisunderstoodIn(text="不对", right_intent="greet"),
                                 INBOX_RETENTION)
        story = write_story(settings, f"story_of_{shopper}", shopper, NOW)
        if shopper == "u1001":
            found["ticket_id"] = ticket.ticket_id
            found["keys"] = {
                *tracker_keys(shopper), f"{rasa_key_prefix()}lock:{shopper}", feed_key(shopper),
                redis_keys.CONVERSATION.format(conversation_id=shopper),
                redis_keys.CLIENT_MESSAGE.format(conversation_id=shopper, client_id="m1"),
                *(key.decode() for key in redis_client.scan_iter(match=f"shouhou:rate:shopper:{shopper}:*")),
                redis_keys.TICKET.format(ticket_id=ticket.ticket_id), redis_keys.TICKET_NOTES.format(ticket_id=ticket.ticket_id),
                redis_keys.PHOTO.format(photo_id=photo.id), redis_keys.PHOTO_HASHES.format(owner=shopper),
                redis_keys.INBOX_ITEM.format(key=item),
            }
            found["files"] = {Path(settings.photo_dir) / f"{photo.id}.jpg", story}
    await inbox.observe(SHARED_TEXT, Reason.fallback, "u1001")  # u1001 said it last
    return found


def marks_of(client: redis.Redis) -> Counter:
    return Counter(json.loads(fields[b"mark"])["conversation_id"] for _, fields in client.xrange(redis_keys.MISUNDERSTOOD))


async def test_erasing_a_conversation_removes_all_of_it_and_nothing_of_another(two_shoppers, redis_client, purge_settings):
    keys_before, files_before = dump_all(redis_client), files_under(*folders(purge_settings))
    report = erase_conversation(redis_client, purge_settings, "u1001")
    assert +report.counts == Counter(
        tracker=1, feed=1, ownership=1, client_message=1, rate=1, ticket=1, ticket_notes=1, photo=1, photo_file=1,
        photo_index=1, inbox_item=1, inbox_unlinked=1, misunderstood=1, saved_story=1,
    )
    keys_after = dump_all(redis_client)
    assert {key.decode() for key in set(keys_before) - set(keys_after)} == two_shoppers["keys"]
    assert set(files_before) - set(files_under(*folders(purge_settings))) == two_shoppers["files"]
    ticket_id = two_shoppers["ticket_id"]
    assert not redis_client.sismember(redis_keys.AGENT_TICKETS.format(agent_id="kefu.wang"), ticket_id)
    assert redis_client.scard(redis_keys.AGENT_TICKETS.format(agent_id="kefu.wang")) == 1, "u1002's ticket stays"
    assert marks_of(redis_client) == Counter({"u1002": 1})
    shared = [redis_client.hgetall(key) for key in redis_client.scan_iter(match="shouhou:inbox:item:*")
              if redis_client.hget(key, "text") == SHARED_TEXT.encode()]
    assert len(shared) == 1 and b"conversation_id" not in shared[0] and shared[0][b"count"] == b"2"
    assert all(b"u1001" not in key for key in keys_after)


async def test_erasure_in_a_dry_run_touches_nothing(two_shoppers, redis_client, purge_settings):
    keys_before, files_before = dump_all(redis_client), files_under(*folders(purge_settings))
    dry = erase_conversation(redis_client, purge_settings, "u1001", dry_run=True)
    assert_untouched(keys_before, dump_all(redis_client))
    assert files_under(*folders(purge_settings)) == files_before
    assert +dry.counts == +erase_conversation(redis_client, purge_settings, "u1001").counts


async def test_a_conversation_id_is_matched_literally_never_as_a_pattern(two_shoppers, redis_client, purge_settings):
    keys_before = dump_all(redis_client)
    with pytest.raises(PurgeError, match="nothing is stored for conversation 'u100\\*'"):
        erase_conversation(redis_client, purge_settings, "u100*")
    assert_untouched(keys_before, dump_all(redis_client))


async def test_rasas_own_tracker_store_keys_are_the_ones_erased(redis_url, redis_client, purge_settings):
    """The tracker key names come from endpoints.yml and Rasa's constants: checked with the real store."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.tracker_store import ShouhouRedisTrackerStore

    parsed = urlparse(redis_url)
    store = ShouhouRedisTrackerStore(Domain.empty(), host=parsed.hostname, port=parsed.port,
                                     db=int(parsed.path.lstrip("/")), key_prefix="shouhou", record_exp=RETENTION)
    tracker = DialogueStateTracker.from_events("u1003", [UserUttered(f"手机{PHONE}", timestamp=NOW)])
    await store.save(tracker)
    assert {store.events_key("u1003"), store.meta_key("u1003")} == set(tracker_keys("u1003"))
    assert erase_conversation(redis_client, purge_settings, "u1003").counts["tracker"] == 1
    assert await store.retrieve("u1003") is None


@pytest.mark.parametrize("bad", ["", "has space", "x" * 201, "tab\there"])
def test_a_malformed_conversation_id_is_refused(bad, redis_client, purge_settings):
    with pytest.raises(PurgeError):
        erase_conversation(redis_client, purge_settings, bad)


@pytest.mark.parametrize("days", [0, -1])
def test_days_below_one_are_refused(days, redis_client, purge_settings):
    with pytest.raises(PurgeError, match="at least 1"):
        purge_older_than(redis_client, purge_settings, days=days)


# -- the command line and the Makefile ------------------------------------------------------------


@pytest.fixture()
def run_purge(redis_url: str, purge_settings: HandoffSettings) -> Iterator[Callable[..., subprocess.CompletedProcess]]:
    env = {
        **os.environ, "REDIS_URL": redis_url, "ENV": "dev", "PHOTO_DIR": str(purge_settings.photo_dir),
        "SAVED_STORIES_DIR": str(purge_settings.saved_stories_dir), "TRACKER_RETENTION_SECONDS": str(RETENTION),
        "INBOX_RETENTION_SECONDS": str(INBOX_RETENTION),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "handoff.cli", "purge", *args], cwd=PROJECT_ROOT, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)

    yield run


async def test_the_command_prints_counts_per_kind_and_a_dry_run_removes_nothing(aged_world, run_purge, redis_client):
    keys_before = dump_all(redis_client)
    done = run_purge("--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "purge of personal data older than 30 days (dry run: nothing removed)"
    assert "  photo files: 3" in done.stdout.splitlines() and "  tickets: 2" in done.stdout.splitlines()
    assert_untouched(keys_before, dump_all(redis_client))
    done = run_purge()
    assert done.returncode == 0 and "  conversation feeds: 1" in done.stdout.splitlines()
    assert not redis_client.exists(feed_key("conv-old"))


@pytest.mark.parametrize(
    "args, message",
    [
        (("--older-than", "-3"), "argument --older-than: days must be a whole number, at least 1 (got -3)"),
        (("--older-than", "0"), "at least 1 (got 0)"),
        (("--older-than", "thirty"), "not a whole number of days: 'thirty'"),
        (("--older-than", "7", "--conversation", "u1001"), "not allowed with argument"),
        (("--conversation", "nobody"), "error: nothing is stored for conversation 'nobody'"),
    ],
)
async def test_bad_input_exits_2_with_a_clear_message_and_removes_nothing(two_shoppers, run_purge, redis_client, args,
                                                                          message):
    keys_before = dump_all(redis_client)
    done = run_purge(*args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert_untouched(keys_before, dump_all(redis_client))


def test_make_purge_runs_the_command_with_a_redis_and_passes_the_options():
    done = subprocess.run(["make", "--no-print-directory", "-n", "purge", "DAYS=7", "DRY_RUN=1"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)  # also under `make test` (a nested make)
    assert done.returncode == 0, done.stderr
    purge = [line for line in done.stdout.splitlines() if "handoff.cli purge" in line]
    assert "-m scripts.run --redis-only -- .venv/bin/python -m handoff.cli purge --older-than=7" in purge[0]
    assert purge[0].rstrip().endswith("--dry-run")
    conversation = subprocess.run(["make", "--no-print-directory", "-n", "purge", "CONVERSATION=guest:a b"], cwd=PROJECT_ROOT,
                                  capture_output=True, text=True, timeout=60)
    assert '--conversation="$CONVERSATION"' in conversation.stdout
