"""The claims of docs/security.md that no other test backed: each test here is named in that file."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import stat
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from redis.asyncio import Redis
from starlette.websockets import WebSocketDisconnect

from handoff import redis_keys
from handoff.console.masking import mask_address
from handoff.feed import ConversationFeed, feed_key
from handoff.gateway import CLIENT_ID_KEPT_SECONDS, Gateway, ShopperInput
from handoff.main import create_app
from handoff.rate_limit import WINDOW_SECONDS, count_message
from handoff.review.inbox import Reason, ReviewInbox
from handoff.settings import HandoffSettings
from handoff.shopper_tokens import issue_shopper_token
from handoff.tickets.service import TicketService
from scripts.run import handoff_command, rasa_server_command, rasa_token
from scripts.settings import RunSettings
from tests.test_handoff import images
from tests.test_handoff.conftest import SERVICE_TOKEN, SHOPPER_TOKEN_SECRET, bearer, create_agents, sign_in, ticket_in

ORIGIN = {"origin": "http://testserver"}
PHONE = "13912870456"
ADDRESS = "浙江省杭州市西湖区文三路 259 号 3 幢 502 室"
DAY = 24 * 3600
PROJECT_DATA = Path(__file__).resolve().parents[2] / "data"


def run(coroutine):
    return asyncio.run(coroutine)


# -- who reaches what ------------------------------------------------------------------------------


def test_a_trainer_cannot_take_a_conversation(console_client):
    ticket_id = console_client.post("/internal/tickets", json=json.loads(ticket_in("u1001").json()),
                                    headers=bearer(SERVICE_TOKEN)).json()["ticket_id"]
    refused = console_client.post(f"/api/agent/tickets/{ticket_id}/claim", headers=sign_in(console_client, "xunlian.zhao"))
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "agent_required"


def test_a_shopper_reads_only_their_own_conversation(console_client, shopper_token, redis_url):
    async def push() -> None:
        redis = Redis.from_url(redis_url)
        feed = ConversationFeed(redis, 3600)
        await feed.push("u1001", {"from": "shopper", "text": "我是u1001"})
        await feed.push("u1002", {"from": "shopper", "text": "我是u1002"})
        await redis.close()

    run(push())
    lines = console_client.get("/api/chat/updates", headers=bearer(shopper_token("u1001"))).json()["messages"]
    assert [line["message"]["text"] for line in lines] == ["我是u1001"]


def test_agents_see_any_photo_through_their_session_cookie_and_no_one_without_a_token(console_client, shopper_token):
    uploaded = console_client.post("/api/photos", files=[("file", ("a.jpg", images.jpeg(), "image/jpeg"))],
                                   headers=bearer(shopper_token("u1001")))
    photo_id = uploaded.json()["photos"][0]["id"]
    session = sign_in(console_client, "kefu.wang")  # also sets the session cookie on this client
    seen = console_client.get(f"/api/photos/{photo_id}")
    assert seen.status_code == 200 and seen.headers["cache-control"] == "private, no-store"
    assert console_client.get(f"/api/photos/{photo_id}", headers=session).status_code == 401  # a session is no shopper token
    console_client.cookies.clear()
    assert console_client.get(f"/api/photos/{photo_id}").status_code == 401


# -- sessions, sockets and pages ----------------------------------------------------------------------


def test_the_session_cookie_is_secure_outside_dev(redis_client, redis_url, tmp_path):
    prod = HandoffSettings(
        env="prod", redis_url=redis_url, photo_dir=tmp_path / "photos",
        shopper_token_secret=SecretStr("p" * 40), service_token=SecretStr("s" * 40), agent_session_secret=SecretStr("a" * 40),
    )
    run(create_agents(redis_url))
    with TestClient(create_app(prod)) as client:
        cookie = client.post("/api/agent/session", json={"agent_id": "kefu.wang", "password": "correct-horse-battery"})
    assert "Secure" in cookie.headers["set-cookie"] and "HttpOnly" in cookie.headers["set-cookie"]


def test_a_shopper_token_that_expires_while_the_socket_is_open_closes_it(console_client):
    token = issue_shopper_token("u1001", SHOPPER_TOKEN_SECRET, ttl_seconds=3)
    with console_client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "token": token})
        assert socket.receive_json()["type"] == "ready"
        time.sleep(3.2)
        socket.send_json({"type": "message", "client_id": "c1", "text": "在吗"})
        frame = socket.receive_json()
        while frame["type"] != "error":  # status frames may come first
            frame = socket.receive_json()
        assert frame["code"] == "token_expired"
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                socket.receive_json()
        assert closed.value.code == 4401


def test_pages_of_an_allowed_origin_may_open_a_socket_and_others_may_not(settings, redis_client):
    settings.allowed_origins = ["https://shop.example"]
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect("/ws/chat", headers={"origin": "https://shop.example"}) as socket:
            socket.send_json({"type": "hello", "token": "forged"})
            assert socket.receive_json()["code"] == "invalid_token"  # accepted, then the token is checked
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("/ws/chat", headers={"origin": "https://evil.example"}) as socket:
                socket.receive_json()
        assert refused.value.code == 1008


def test_staff_pages_may_not_be_framed_and_the_chat_may(console_client):
    for page in ("/console", "/trainer"):
        headers = console_client.get(page).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    chat = console_client.get("/chat").headers
    assert "frame-ancestors *" in chat["content-security-policy"] and "x-frame-options" not in chat
    assert "connect-src 'self'" in chat["content-security-policy"]


# -- personal data: what expires, what is masked ----------------------------------------------------


class AnsweringRasa:
    """Rasa answering every message, understanding it well (no handoff, nothing for the inbox)."""

    async def send(self, conversation_id: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        return [{"recipient_id": conversation_id, "text": "好的"}]

    async def tracker(self, conversation_id: str) -> Dict[str, Any]:
        return {"events": []}


async def test_the_feed_and_the_client_message_ids_and_the_rate_counters_expire(redis, settings):
    settings.conversation_retention_seconds = 7 * DAY
    feed = ConversationFeed(redis, settings.conversation_retention_seconds)
    gateway = Gateway(redis, AnsweringRasa(), feed, TicketService(redis, settings), ReviewInbox(redis, 3600), settings)
    await gateway.handle("u1001", ShopperInput("在吗", client_id="c1"), {})
    assert 7 * DAY - 5 <= await redis.ttl(feed_key("u1001")) <= 7 * DAY
    client_key = redis_keys.CLIENT_MESSAGE.format(conversation_id="u1001", client_id="c1")
    assert 0 < await redis.ttl(client_key) <= CLIENT_ID_KEPT_SECONDS == DAY
    await count_message(redis, "shopper:u1001", 30, "太快了")
    [rate_key] = await redis.keys(redis_keys.RATE.format(sender="shopper:u1001", window="*"))
    assert 0 < await redis.ttl(rate_key) <= 2 * WINDOW_SECONDS


def test_one_setting_keeps_conversations_for_rasa_and_the_handoff_service(monkeypatch):
    assert HandoffSettings.__fields__["conversation_retention_seconds"].default == 30 * DAY
    assert RunSettings.__fields__["tracker_retention_seconds"].default == 30 * DAY
    assert HandoffSettings.__fields__["inbox_retention_seconds"].default == 90 * DAY
    monkeypatch.setenv("TRACKER_RETENTION_SECONDS", str(7 * DAY))
    assert HandoffSettings().conversation_retention_seconds == RunSettings().tracker_retention_seconds == 7 * DAY


@pytest.mark.parametrize(
    "address, masked",
    [
        (ADDRESS, "浙江省杭州市西湖区****"),
        ("上海市徐汇区漕溪北路 88 号 12 楼", "上海市徐汇区****"),
        ("江苏省苏州市工业园区星湖街 328 号", "江苏省苏州市工业园区****"),
        ("杭州市文三路 259 号", "杭州市****"),
        ("文三路 259 号", "文三路****"),
        ("", ""),
    ],
)
def test_mask_address_keeps_the_area_only(address, masked):
    assert mask_address(address) == masked


def test_an_agent_who_does_not_hold_a_ticket_sees_its_address_and_phones_masked(console_client):
    body = json.loads(ticket_in("u1001").json())
    body["order"] = {"order_id": "SH1", "address": ADDRESS, "tracking": [{"description": f"快递员{PHONE}派送中"}]}
    body["five_elements"]["who"] = f"手机{PHONE}的访客"
    ticket_id = console_client.post("/internal/tickets", json=body, headers=bearer(SERVICE_TOKEN)).json()["ticket_id"]
    wang, li = sign_in(console_client, "kefu.wang"), sign_in(console_client, "kefu.li")
    queued = console_client.get("/api/agent/tickets", headers=wang).json()["tickets"][0]["ticket"]
    assert queued["order"]["address"] == "浙江省杭州市西湖区****"
    assert queued["order"]["tracking"][0]["description"] == "快递员139****0456派送中"
    assert queued["five_elements"]["who"] == "手机139****0456的访客"
    held = console_client.post(f"/api/agent/tickets/{ticket_id}/claim", headers=wang).json()["ticket"]
    assert held["order"]["address"] == ADDRESS and PHONE in held["order"]["tracking"][0]["description"]
    other = console_client.get(f"/api/agent/tickets/{ticket_id}", headers=li).json()["ticket"]
    assert other["order"]["address"] == "浙江省杭州市西湖区****" and PHONE not in json.dumps(other, ensure_ascii=False)


def test_a_labelled_message_is_logged_with_its_phone_numbers_masked(console_client, settings, redis_url, tmp_path, caplog):
    settings.training_data_dir = tmp_path / "data"
    shutil.copytree(PROJECT_DATA, settings.training_data_dir)

    async def observe() -> str:
        redis = Redis.from_url(redis_url)
        key = await ReviewInbox(redis, 3600).observe("保温杯漏水", Reason.fallback, "u1001")
        await redis.close()
        return key

    key = run(observe())
    caplog.set_level(logging.INFO, logger="handoff.review.router")
    body = {"intent": "report_broken", "text": f"保温杯漏水了 回电{PHONE}"}
    labelled = console_client.post(f"/api/trainer/inbox/{key}/label", json=body, headers=sign_in(console_client, "xunlian.zhao"))
    assert labelled.status_code == 200, labelled.text
    logged = [record.getMessage() for record in caplog.records if record.name == "handoff.review.router"]
    assert any("回电139****0456" in line for line in logged) and not any(PHONE in line for line in logged)


STORY_EXPORT = f"""version: "3.1"
stories:
- story: u1001
  steps:
  - intent: inform
    user: |-
      我的电话是{PHONE}
"""


def test_a_saved_test_story_masks_phone_numbers_and_names_its_conversation(console_client, settings, tmp_path):
    settings.saved_stories_dir = tmp_path / "saved_stories"

    async def story(conversation_id: str) -> str:
        return STORY_EXPORT

    console_client.app.state.rasa.story = story
    saved = console_client.post("/api/staff/conversations/u1001/test-story", json={"name": "phone_story"},
                                headers=sign_in(console_client, "kefu.wang"))
    assert saved.status_code == 201, saved.text
    text = (settings.saved_stories_dir / "test_phone_story.yml").read_text(encoding="utf-8")
    assert text.startswith("# Saved from conversation u1001 by kefu.wang on ")
    assert "139****0456" in text and PHONE not in text


# -- secrets and where the servers listen -----------------------------------------------------------


def test_the_generated_rasa_token_is_readable_by_its_owner_only(tmp_path):
    token = rasa_token(RunSettings(var_dir=tmp_path, rasa_token=None))
    path = tmp_path / "rasa_token"
    assert len(token) >= 32 and path.read_text() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert rasa_token(RunSettings(var_dir=tmp_path, rasa_token=None)) == token  # made once, then kept


def test_rasa_and_the_handoff_service_listen_on_localhost_and_rasas_api_needs_its_token():
    settings = RunSettings(rasa_token=None)
    assert RunSettings.__fields__["rasa_host"].default == "127.0.0.1"
    handoff = handoff_command(settings)
    assert handoff[handoff.index("--host") + 1] == "127.0.0.1"
    assert handoff[handoff.index("--ws-max-size") + 1] == str(HandoffSettings.__fields__["ws_max_frame_bytes"].default)
    rasa = rasa_server_command(settings, "the-token", "model.tar.gz")
    assert rasa[rasa.index("--interface") + 1] == settings.rasa_host and "--enable-api" in rasa
    assert rasa[rasa.index("--auth-token") + 1] == "the-token"


async def test_an_inbox_item_expires_with_the_inbox_retention(redis):
    key = await ReviewInbox(redis, 90 * DAY).observe(f"我电话{PHONE}", Reason.fallback, "u1001")
    assert 90 * DAY - 5 <= await redis.ttl(redis_keys.INBOX_ITEM.format(key=key)) <= 90 * DAY


def test_an_unreadable_tracker_event_is_logged_without_what_the_shopper_wrote(caplog):
    from bot.tracker_store import deserialise_events

    caplog.set_level(logging.WARNING, logger="bot.tracker_store")
    old_style = {"event": "topic", "timestamp": 1.0, "text": f"我的手机{PHONE}，地址{ADDRESS}"}  # Rasa skips "topic"
    assert deserialise_events([old_style]) == []
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "'topic' event" in logged and PHONE not in logged and "文三路" not in logged


def test_the_action_server_listens_on_loopback_only():
    from scripts.run import endpoint_environment
    from scripts.settings import RunSettings

    assert endpoint_environment("redis://127.0.0.1:6379/0", RunSettings())["SANIC_HOST"] == "127.0.0.1"
