"""The trainers' review inbox on a real Redis: grouping, counts, filters, closing, daily counts."""

from __future__ import annotations

import pytest

from handoff.review.inbox import Reason, ReviewInbox, Status, grouping_text
from tests.test_handoff.conftest import sign_in

DAY = 86400.0
NOW = 1_795_000_000.0


@pytest.fixture()
def inbox(redis) -> ReviewInbox:
    return ReviewInbox(redis, retention_seconds=3600)


@pytest.mark.parametrize(
    "one, other",
    [("杯子碎了！！", "杯子碎了"), ("杯子 碎了😭", "杯子碎了"), ("CUP broken", "cup BROKEN"), ("杯子碎了。。。", "杯子碎了")],
)
def test_messages_that_read_the_same_are_one_item(one, other):
    assert grouping_text(one) == grouping_text(other)


async def test_an_item_counts_its_messages_and_remembers_why_and_where(inbox):
    key = await inbox.observe("杯子碎了！！", Reason.low_confidence, "u1", "inform", 0.41, now=NOW)
    assert await inbox.observe("杯子碎了", Reason.before_handoff, "u2", "report_broken", 0.55, now=NOW + 60) == key
    item = await inbox.get(key)
    assert (item.text, item.count, item.first_seen, item.last_seen) == ("杯子碎了！！", 2, NOW, NOW + 60)
    assert item.reasons == ["low_confidence", "before_handoff"]
    assert (item.predicted_intent, item.confidence, item.conversation_id) == ("report_broken", 0.55, "u2")
    assert item.status == Status.open.value


async def test_phone_numbers_are_masked_before_anything_is_stored(inbox):
    key = await inbox.observe("我电话13912870456 快点处理", Reason.fallback, "u1", now=NOW)
    assert (await inbox.get(key)).text == "我电话139****0456 快点处理"


async def test_the_open_items_come_most_frequent_first_and_filter_by_intent_and_date(inbox):
    for _ in range(3):
        await inbox.observe("人呢", Reason.low_confidence, "u1", "greet", 0.4, now=NOW)
    await inbox.observe("快递丢了吧", Reason.fallback, "u2", "nlu_fallback", 0.3, now=NOW - 10 * DAY)
    await inbox.observe("发错颜色了", Reason.misunderstood, "u3", "inform", 0.9, right_intent="report_wrong_item", now=NOW)
    assert [i.text for i in await inbox.open_items()][0] == "人呢"
    assert [i.text for i in await inbox.open_items(intent="report_wrong_item")] == ["发错颜色了"]  # the agent's intent
    assert [i.text for i in await inbox.open_items(since=NOW - DAY)] == ["人呢", "发错颜色了"]
    assert [i.text for i in await inbox.open_items(until=NOW - DAY)] == ["快递丢了吧"]


async def test_a_labelled_or_ignored_item_leaves_the_open_list(inbox):
    key = await inbox.observe("人呢", Reason.low_confidence, "u1", "greet", 0.4, now=NOW)
    other = await inbox.observe("哈哈哈", Reason.fallback, "u2", now=NOW)
    assert await inbox.close(key, Status.labelled, "trainer.li", labelled_intent="request_human")
    assert await inbox.close(other, Status.ignored, "trainer.li")
    assert await inbox.open_items() == []
    labelled = await inbox.get(key)
    assert (labelled.status, labelled.labelled_intent, labelled.labelled_by) == ("labelled", "request_human", "trainer.li")
    await inbox.observe("人呢", Reason.low_confidence, "u3", "greet", 0.4, now=NOW)
    assert await inbox.open_items() == [], "a labelled message seen again stays labelled until the next model"
    assert not await inbox.close("nope", Status.ignored, "trainer.li")


async def test_daily_counts_for_the_chart(inbox):
    await inbox.observe("人呢", Reason.low_confidence, "u1", now=NOW)
    await inbox.observe("在吗在吗", Reason.low_confidence, "u1", now=NOW)
    await inbox.observe("快递丢了吧", Reason.fallback, "u2", now=NOW - DAY)
    counts = await inbox.daily_counts(days=3, now=NOW)
    assert list(counts.values()) == [0, 1, 2]


async def test_an_expired_item_drops_out_of_the_open_list(redis):
    inbox = ReviewInbox(redis, retention_seconds=1)
    key = await inbox.observe("人呢", Reason.low_confidence, "u1", now=NOW)
    await redis.delete(f"shouhou:inbox:item:{key}")  # what expiry does
    assert await inbox.open_items() == []
    assert await redis.zcard("shouhou:inbox:open") == 0


def test_an_agents_misunderstood_mark_lands_in_the_inbox_with_the_right_intent(console_client, redis_client):
    wang = sign_in(console_client, "kefu.wang")
    body = {"text": "颜色发错了", "right_intent": "report_wrong_item", "predicted_intent": "inform"}
    assert console_client.post("/api/agent/conversations/u1001/misunderstood", json=body, headers=wang).status_code == 201
    keys = redis_client.zrange("shouhou:inbox:open", 0, -1)
    item = redis_client.hgetall(b"shouhou:inbox:item:" + keys[0])
    assert item[b"right_intent"] == b"report_wrong_item" and item[b"reasons"] == b"misunderstood"
