"""The gateway's own rules: text is never a Rasa command, when anger hands off, clear errors."""

from __future__ import annotations

import asyncio
import time
from typing import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from handoff.gateway import (
    EmptyMessage,
    anger_calls_for_a_person,
    as_free_text,
    is_rising,
    reason_for_a_person,
    received,
)
from handoff.main import create_app
from handoff.settings import HandoffSettings
from handoff.tickets.models import HandoffReason
from handoff.turns import ConversationTurns, TurnTimeout
from tests.test_handoff.conftest import bearer


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("/request_human", "／request_human"),
        ('  /inform{"order_id": "2026112559261845"}', '／inform{"order_id": "2026112559261845"}'),
        ("  奶粉结块了  ", "奶粉结块了"),
        ("退款 /人工", "退款 /人工"),
    ],
)
def test_typed_text_is_never_a_rasa_command(typed, sent):
    assert as_free_text(typed) == sent


@pytest.mark.parametrize("typed", ["", "   ", "\n\t"])
def test_an_empty_message_is_refused(typed):
    with pytest.raises(EmptyMessage):
        as_free_text(typed)


def test_a_very_long_message_is_cut_not_refused():
    assert len(as_free_text("退" * 10_000)) == 2000


def tracker(*angers):
    return {"events": [{"event": "user", "text": "…", "parse_data": {"anger": a}} for a in angers]}


@pytest.mark.parametrize(
    "angers, hands_off",
    [
        ([{"score": 0.92, "angry": True}], True),
        ([{"score": 0.2, "angry": False}], False),
        ([{"score": 0.1, "angry": False}, {"score": 0.22, "angry": False}, {"score": 0.35, "angry": False}], True),
        ([{"score": 0.1, "angry": False}, {"score": 0.15, "angry": False}, {"score": 0.35, "angry": False}], False),
        ([{"score": 0.9, "angry": True}, {"score": 0.1, "angry": False}], False),  # calmed down
        ([], False),
    ],
)
def test_when_anger_calls_for_a_person(settings, angers, hands_off):
    assert anger_calls_for_a_person(tracker(*angers), settings) is hands_off


@pytest.mark.parametrize(
    "scores, rising",
    [([0.1, 0.2, 0.3], True), ([0.1, 0.2, 0.29], False), ([0.3, 0.5], False), ([0.9, 0.1, 0.2, 0.35], True)],
)
def test_rising_anger(scores, rising):
    assert is_rising(scores, turns=3, step=0.1, floor=0.3) is rising


@pytest.fixture()
def client_without_rasa(settings: HandoffSettings, redis_client: redis.Redis) -> Iterator[TestClient]:
    settings.rasa_url = "http://127.0.0.1:9"  # nothing listens there
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_message_needs_a_valid_token(client_without_rasa):
    assert client_without_rasa.post("/api/chat/messages", json={"text": "在吗"}).status_code == 401
    forged = client_without_rasa.post("/api/chat/messages", json={"text": "在吗"}, headers=bearer("not-a-token"))
    assert forged.status_code == 401 and forged.json()["detail"]["message"]


def test_bad_bodies_get_a_clear_chinese_error(client_without_rasa, shopper_token):
    headers = bearer(shopper_token("u1001"))
    empty = client_without_rasa.post("/api/chat/messages", json={"text": "  "}, headers=headers)
    assert empty.status_code == 422 and empty.json()["detail"]["message"] == "消息内容为空，请输入文字后再发送"
    too_many = client_without_rasa.post("/api/chat/messages", json={"text": "图", "photo_ids": ["p"] * 10}, headers=headers)
    assert too_many.status_code == 422 and "photo_ids" in too_many.json()["detail"]["message"]


def test_when_rasa_is_down_the_shopper_is_told_to_send_again(client_without_rasa, shopper_token):
    reply = client_without_rasa.post("/api/chat/messages", json={"text": "杯子碎了"}, headers=bearer(shopper_token("u1001")))
    assert reply.status_code == 503
    assert "没有发送成功" in reply.json()["detail"]["message"]


async def test_one_message_at_a_time_per_conversation_and_others_are_not_held_up(redis):
    turns = ConversationTurns(redis)
    log = []

    async def message(conversation: str, name: str, seconds: float) -> None:
        async with turns.turn(conversation):
            log.append(f"{name} starts")
            await asyncio.sleep(seconds)
            log.append(f"{name} ends")

    await asyncio.gather(message("a", "a1", 0.05), message("a", "a2", 0), message("b", "b1", 0))
    assert log.index("a1 ends") < log.index("a2 starts")  # a2 waited for a1's answer
    assert log.index("b1 ends") < log.index("a1 ends")  # another conversation did not wait
    assert len(turns) == 0  # nothing kept once the conversation is quiet
    assert await redis.keys("shouhou:turn:*") == []


async def test_a_turn_in_another_gateway_instance_waits_for_the_first(redis, other_redis):
    first, second = ConversationTurns(redis), ConversationTurns(other_redis)  # two processes' clients
    log = []

    async def message(turns: ConversationTurns, name: str, seconds: float) -> None:
        async with turns.turn("a"):
            log.append(f"{name} starts")
            await asyncio.sleep(seconds)
            log.append(f"{name} ends")

    await asyncio.gather(message(first, "a1", 0.1), message(second, "a2", 0.1))
    assert log in (["a1 starts", "a1 ends", "a2 starts", "a2 ends"], ["a2 starts", "a2 ends", "a1 starts", "a1 ends"])


async def test_a_turn_held_by_an_instance_that_died_frees_itself_after_its_lease(redis, other_redis):
    await redis.set("shouhou:turn:a", "token-of-a-killed-instance", px=300)  # what kill -9 leaves behind
    alive = ConversationTurns(other_redis, wait_seconds=5)
    async with alive.turn("a"):
        assert await other_redis.get("shouhou:turn:a") is not None
    with pytest.raises(TurnTimeout):  # a turn that never frees makes the next one give up, not hang
        blocker = ConversationTurns(redis, lease_seconds=30)
        async with blocker.turn("b"):
            async with ConversationTurns(other_redis, wait_seconds=0.2).turn("b"):
                pass


async def test_a_turn_ends_and_frees_the_conversation_while_its_lease_is_being_renewed(redis):
    """redis-py swallows a cancellation that arrives while it checks a pooled connection
    (async_timeout(0)); a turn ending during a renewal must still stop renewing and free the
    conversation (the lease was kept alive for ever, and the shopper's next messages waited)."""
    turns = ConversationTurns(redis, lease_seconds=0.3)
    renewing, real_renew = asyncio.Event(), turns._renew

    async def renew_that_swallows_a_cancellation(**kwargs):
        renewing.set()
        try:
            await asyncio.sleep(0.2)  # the turn ends now, in the middle of the renewal
        except asyncio.CancelledError:
            pass  # what async_timeout(0) does to a cancellation inside redis-py
        return await real_renew(**kwargs)

    turns._renew = renew_that_swallows_a_cancellation

    async def one_turn() -> None:
        async with turns.turn("a"):
            await renewing.wait()

    started = time.monotonic()
    await asyncio.wait_for(one_turn(), timeout=5)
    assert time.monotonic() - started < 2  # the turn ends with the renewal (it never did)
    assert await redis.get("shouhou:turn:a") is None  # and frees the conversation
    async with ConversationTurns(redis, wait_seconds=0.5).turn("a"):  # the next message gets its turn
        pass


def test_a_message_counts_as_received_only_when_the_tracker_holds_it():
    tracker = {"events": [{"event": "user", "text": "在吗", "metadata": {"gateway_message_id": "m1"}},
                          {"event": "bot", "text": "在的"}]}
    assert received(tracker, "m1")
    assert not received(tracker, "m2")
    assert not received({"events": []}, "m1")


def intents(*names):
    return {"events": [{"event": "user", "text": "…", "parse_data": {"intent": {"name": n}, "anger": {"score": 0.1}}}
                       for n in names]}


@pytest.mark.parametrize(
    "names, hands_off",
    [
        (["nlu_fallback", "nlu_fallback"], True),
        (["report_broken", "nlu_fallback", "nlu_fallback"], True),
        (["nlu_fallback", "inform", "nlu_fallback"], False),  # understood in between
        (["nlu_fallback"], False),
        ([], False),
    ],
)
def test_two_messages_in_a_row_not_understood_call_for_a_person(settings, names, hands_off):
    assert (reason_for_a_person(intents(*names), settings) == HandoffReason.stuck) is hands_off
