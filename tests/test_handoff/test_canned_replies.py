"""Canned replies (快捷短语): the defaults, the store in a real Redis, and the console's routes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from handoff.console.canned import (
    CANNED_REPLIES,
    MAX_REPLIES,
    CannedReplies,
    CannedRepliesError,
    CannedReply,
    Group,
    load_defaults,
)
from tests.test_handoff.conftest import SERVICE_TOKEN, bearer, sign_in

PATH = "/api/agent/canned-replies"
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
BLAMING = ("你自己", "您自己", "不是我们的问题", "怪您", "您的责任")


def reply(reply_id: str, text: str = "您好，请问有什么可以帮您？") -> dict:
    return {"id": reply_id, "group": "开场", "title": "问候", "text": text}


# The defaults


def test_the_defaults_load_and_cover_every_group():
    defaults = load_defaults()
    assert 15 <= len(defaults) <= 25
    assert len({r.id for r in defaults}) == len(defaults)
    assert {r.group for r in defaults} == set(Group)


@pytest.mark.parametrize("default", load_defaults(), ids=lambda r: r.id)
def test_every_default_is_a_valid_polite_chinese_reply(default: CannedReply):
    assert CannedReply(**default.dict()) == default
    assert CJK.search(default.title) and CJK.search(default.text)
    assert "你" not in default.text  # 您, always
    assert not any(phrase in default.text for phrase in BLAMING)
    assert default.text.count("{") == default.text.count("}") == len(PLACEHOLDER.findall(default.text))
    assert all(CJK.fullmatch(name[0]) for name in PLACEHOLDER.findall(default.text))  # {订单号}, not {order}


# The store


async def test_nothing_stored_means_the_defaults(redis: Redis):
    assert await CannedReplies(redis).all() == load_defaults()
    assert await redis.exists(CANNED_REPLIES) == 0


async def test_a_replaced_list_is_served_until_it_is_reset(redis: Redis, other_redis: Redis):
    mine = [CannedReply(**reply("hello")), CannedReply(**reply("bye", "感谢您的耐心等待，祝您生活愉快！"))]
    assert await CannedReplies(redis).replace(mine) == mine
    assert await CannedReplies(other_redis).all() == mine  # stored in Redis, not in the process
    assert await CannedReplies(redis).reset() == load_defaults()
    assert await CannedReplies(other_redis).all() == load_defaults()


async def test_the_store_refuses_duplicate_ids_and_too_many_replies(redis: Redis):
    store = CannedReplies(redis)
    with pytest.raises(CannedRepliesError) as duplicate:
        await store.replace([CannedReply(**reply("hello")), CannedReply(**reply("hello"))])
    assert duplicate.value.message_zh == "快捷短语编号重复：hello"
    with pytest.raises(CannedRepliesError) as too_many:
        await store.replace([CannedReply(**reply(f"r{n}")) for n in range(MAX_REPLIES + 1)])
    assert too_many.value.code == "too_many_canned_replies"
    assert await store.all() == load_defaults()  # nothing was stored


async def test_an_unreadable_stored_list_falls_back_to_the_defaults(redis: Redis):
    await redis.set(CANNED_REPLIES, '{"replies": [{"id": "BAD ID"}]}')
    assert await CannedReplies(redis).all() == load_defaults()


# The routes


@pytest.fixture()
def client(console_client: TestClient) -> TestClient:
    return console_client


def default_ids() -> list:
    return [r.id for r in load_defaults()]


def test_a_signed_in_agent_reads_the_defaults(client):
    response = client.get(PATH, headers=sign_in(client, "kefu.wang"))
    assert response.status_code == 200
    replies = response.json()["replies"]
    assert [r["id"] for r in replies] == default_ids()
    assert replies[0] == {"id": "greeting", "group": "开场", "title": "问候", "text": load_defaults()[0].text}


def test_a_supervisor_replaces_the_list_and_resets_it(client):
    boss, wang = sign_in(client, "zhuguan"), sign_in(client, "kefu.wang")
    mine = [reply("hello"), reply("order-number", "  麻烦您提供一下{订单号}，我马上为您查询。  ")]
    replaced = client.put(PATH, json={"replies": mine}, headers=boss)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["replies"][1]["text"] == "麻烦您提供一下{订单号}，我马上为您查询。"  # trimmed
    assert client.get(PATH, headers=wang).json() == replaced.json()  # every agent sees the new list
    reset = client.delete(PATH, headers=boss)
    assert reset.status_code == 200 and [r["id"] for r in reset.json()["replies"]] == default_ids()
    assert [r["id"] for r in client.get(PATH, headers=wang).json()["replies"]] == default_ids()


def test_a_plain_agent_may_read_but_not_change_the_list(client):
    wang = sign_in(client, "kefu.wang")
    for method, body in (("PUT", {"replies": [reply("hello")]}), ("PUT", {"replies": "not a list"}), ("DELETE", None)):
        response = client.request(method, PATH, json=body, headers=wang)
        assert response.status_code == 403, (method, body)
        assert response.json()["detail"] == {"code": "supervisor_required", "message": "请使用主管账号"}
    assert client.get(PATH, headers=wang).status_code == 200


def test_every_canned_reply_route_needs_a_signed_in_agent(client):
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(method, PATH, json={"replies": [reply("hello")]} if method == "PUT" else None)
        assert response.status_code == 401, method
        assert response.json()["detail"]["message"] == "请先登录客服工作台"
    assert client.get(PATH, headers=bearer(SERVICE_TOKEN)).status_code == 401


@pytest.mark.parametrize(
    "replies, code, message",
    [
        ([reply("hello"), reply("bye"), reply("hello")], "duplicate_canned_reply_ids", "快捷短语编号重复：hello"),
        ([reply(f"r{n}") for n in range(MAX_REPLIES + 1)], "too_many_canned_replies", "快捷短语最多 200 条，当前有 201 条"),
        ([reply("hello"), reply("empty", "   ")], "bad_request", "请求格式不正确：replies.1.text"),
        ([reply("hello", "好" * 501)], "bad_request", "请求格式不正确：replies.0.text"),
        ([{**reply("hello"), "title": "标题" * 11}], "bad_request", "请求格式不正确：replies.0.title"),
        ([{**reply("hello"), "group": "闲聊"}], "bad_request", "请求格式不正确：replies.0.group"),
        ([reply("Not OK!")], "bad_request", "请求格式不正确：replies.0.id"),
        ([{**reply("hello"), "txet": "您好"}], "bad_request", "请求格式不正确：replies.0.txet"),
    ],
    ids=["duplicate-ids", "201-replies", "empty-text", "long-text", "long-title", "unknown-group", "bad-id", "typo"],
)
def test_a_refused_list_gets_a_422_in_chinese_and_changes_nothing(client, replies, code, message):
    boss = sign_in(client, "zhuguan")
    response = client.put(PATH, json={"replies": replies}, headers=boss)
    assert response.status_code == 422
    assert response.json()["detail"] == {"code": code, "message": message}
    assert [r["id"] for r in client.get(PATH, headers=boss).json()["replies"]] == default_ids()


def test_a_body_without_replies_is_refused(client):
    response = client.put(PATH, json={"reply": []}, headers=sign_in(client, "zhuguan"))
    assert response.status_code == 422 and response.json()["detail"]["code"] == "bad_request"
