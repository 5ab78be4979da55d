"""The chat page's and the console's WebSockets against a real Redis (Rasa is not running here:
messages that need the bot get the clear "busy" error; the bot-answered paths are in
tests/test_gateway_conversations.py and the browser tests)."""

from __future__ import annotations

import asyncio
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis
from starlette.websockets import WebSocketDisconnect

from handoff.buttons import InvalidButton, sign_button, verify_button, with_signed_buttons
from handoff.feed import ConversationFeed, valid_stream_id
from handoff.main import create_app
from handoff.settings import HandoffSettings
from handoff.tickets.service import TicketService
from tests.test_handoff.conftest import create_agents, sign_in, ticket_in

ORIGIN = {"origin": "http://testserver"}


@pytest.fixture()
def client(settings: HandoffSettings, redis_client, redis_url: str) -> Iterator[TestClient]:
    settings.rasa_url = "http://127.0.0.1:9"  # nothing listens there
    settings.ws_refresh_seconds = 0.2
    asyncio.run(create_agents(redis_url))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def push_lines(redis_url: str, conversation_id: str, *lines: dict) -> list:
    async def push() -> list:
        redis = Redis.from_url(redis_url)
        try:
            return await ConversationFeed(redis, 3600).push_many(conversation_id, list(lines))
        finally:
            await redis.close()

    return asyncio.run(push())


def queue_ticket(redis_url: str, settings: HandoffSettings, conversation_id: str) -> str:
    async def enqueue() -> str:
        redis = Redis.from_url(redis_url)
        try:
            ticket, _ = await TicketService(redis, settings).enqueue(ticket_in(conversation_id, reason="anger", angry=True))
            return ticket.ticket_id
        finally:
            await redis.close()

    return asyncio.run(enqueue())


def frames_until(socket, kind: str, limit: int = 20) -> list:
    """Frames received up to and including the first of `kind`."""
    seen = []
    for _ in range(limit):
        frame = socket.receive_json()
        seen.append(frame)
        if frame["type"] == kind:
            return seen
    raise AssertionError(f"no {kind} frame in {seen}")


# ---- buttons ----------------------------------------------------------------------------------


def test_a_button_token_carries_its_payload_for_its_conversation_only():
    token = sign_button("s" * 32, "u1001", '/choose_order{"order_id": "2026112559261845"}')
    assert verify_button("s" * 32, "u1001", token) == '/choose_order{"order_id": "2026112559261845"}'
    for conversation, candidate in [("u1002", token), ("u1001", token[:-1] + "0"), ("u1001", "bm90aGluZw.abc"), ("u1001", "")]:
        with pytest.raises(InvalidButton):
            verify_button("s" * 32, conversation, candidate)


def test_the_page_never_sees_a_payload():
    message = {"text": "请选择订单", "buttons": [{"title": "奶粉", "payload": '/inform{"item": "奶粉"}'}]}
    signed = with_signed_buttons("s" * 32, "u1001", message)
    assert signed["buttons"][0]["title"] == "奶粉" and "payload" not in signed["buttons"][0]
    assert verify_button("s" * 32, "u1001", signed["buttons"][0]["token"]) == '/inform{"item": "奶粉"}'


# ---- the chat socket --------------------------------------------------------------------------


def test_the_chat_socket_needs_a_valid_token_first(client, shopper_token):
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "token": "forged", "after": "0-0"})
        assert socket.receive_json()["message"] == "身份校验失败，请重新打开聊天"
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 4401
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:
        socket.send_json({"type": "message", "text": "在吗"})
        assert socket.receive_json()["code"] == "hello_required"


def test_a_page_from_another_site_cannot_open_a_socket(client, shopper_token):
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws/chat", headers={"origin": "https://evil.example"}) as socket:
            socket.receive_json()
    assert refused.value.code == 1008


def test_an_oversized_frame_closes_the_socket(client, shopper_token, settings):
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "token": shopper_token("u1001")})
        frames_until(socket, "status")
        socket.send_text('{"type": "message", "text": "' + "退" * settings.ws_max_frame_bytes + '"}')
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                socket.receive_json()
        assert closed.value.code == 1009


def test_lines_after_the_pages_cursor_are_replayed_once_then_live(client, shopper_token, redis_url):
    first, second = push_lines(redis_url, "u1001", {"from": "bot", "text": "您好"}, {"from": "agent", "text": "我来帮您", "agent_name": "客服小王"})
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "token": shopper_token("u1001"), "after": first})  # the page had the first
        assert socket.receive_json() == {"type": "ready", "conversation_id": "u1001"}
        line = socket.receive_json()
        assert line["id"] == second and line["line"]["text"] == "我来帮您" and line["line"]["agent_name"] == "客服小王"
        assert socket.receive_json() == {"type": "status", "owner": "bot"}
        (third,) = push_lines(redis_url, "u1001", {"from": "agent", "text": "已为您登记"})
        assert socket.receive_json()["id"] == third
    push_lines(redis_url, "u2002", {"from": "bot", "text": "别人的会话"})
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:  # nobody reads another's conversation
        socket.send_json({"type": "hello", "token": shopper_token("u1001"), "after": third})
        assert [f["type"] for f in frames_until(socket, "status")] == ["ready", "status"]


def test_a_waiting_shopper_sees_their_place_in_the_queue(client, shopper_token, redis_url, settings):
    queue_ticket(redis_url, settings, "u0001")
    queue_ticket(redis_url, settings, "u1001")
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "token": shopper_token("u1001")})
        status = frames_until(socket, "status")[-1]
    assert status["owner"] == "waiting" and status["queue"]["ahead"] == 1
    assert status["queue"]["text"].startswith("正在为您转接人工客服")


def test_when_rasa_is_down_the_message_gets_a_clear_error_and_can_be_sent_again(client, shopper_token):
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "token": shopper_token("u1001")})
        frames_until(socket, "status")
        for _ in range(2):  # the same client id again: not taken for a duplicate, since it was not handled
            socket.send_json({"type": "message", "client_id": "c-1", "text": "杯子碎了"})
            error = frames_until(socket, "error")[-1]
            assert error["client_id"] == "c-1" and error["code"] == "bot_unavailable" and "没有发送成功" in error["message"]
        socket.send_json({"type": "message", "client_id": "c-2", "text": "x", "button": "forged.token"})
        assert frames_until(socket, "error")[-1]["code"] == "invalid_button"
        socket.send_text("not json")
        assert frames_until(socket, "error")[-1]["message"] == "消息格式不正确"


def test_a_shopper_who_floods_is_told_to_slow_down(client, shopper_token, settings):
    settings.shopper_messages_per_minute = 3
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "token": shopper_token("u1001")})
        frames_until(socket, "status")
        codes = []
        for n in range(4):
            socket.send_json({"type": "message", "client_id": f"c{n}", "text": "在吗"})
            codes.append(frames_until(socket, "error")[-1]["code"])
    assert codes == ["bot_unavailable"] * 3 + ["too_many_messages"]


def test_a_guest_gets_a_token_for_a_new_conversation_of_their_own(client):
    first, second = client.post("/api/chat/guest").json(), client.post("/api/chat/guest").json()
    assert first["conversation_id"].startswith("guest:") and first["conversation_id"] != second["conversation_id"]
    with client.websocket_connect("/ws/chat", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "token": first["token"]})
        assert socket.receive_json() == {"type": "ready", "conversation_id": first["conversation_id"]}


# ---- the console socket -----------------------------------------------------------------------


def test_the_console_socket_needs_a_signed_in_agent(client):
    with client.websocket_connect("/ws/agent", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "session": "forged"})
        assert socket.receive_json()["message"] == "登录状态无效，请重新登录"
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 4401


def test_the_console_gets_the_queue_live_and_the_lines_of_its_own_conversations(client, redis_url, settings):
    session = sign_in(client, "kefu.wang")["Authorization"].split()[1]
    with client.websocket_connect("/ws/agent", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "session": session})
        assert socket.receive_json()["agent"]["agent_id"] == "kefu.wang"
        assert socket.receive_json() == {"type": "queue", "tickets": [], "agents_online": 1, "mine": []}
        ticket_id = queue_ticket(redis_url, settings, "u1001")
        queue = frames_until(socket, "queue")[-1]
        assert [t["ticket_id"] for t in queue["tickets"]] == [ticket_id]
        socket.send_json({"type": "watch", "conversation_id": "u1001", "after": "0-0"})
        assert frames_until(socket, "error")[-1]["code"] == "not_your_conversation"  # not claimed yet
        assert client.post(f"/api/agent/tickets/{ticket_id}/claim", headers=sign_in(client, "kefu.wang")).status_code == 200
        push_lines(redis_url, "u1001", {"from": "shopper", "text": "我的电话13912870456"})
        socket.send_json({"type": "watch", "conversation_id": "u1001", "after": "0-0"})
        line = frames_until(socket, "line")[-1]
        assert line["conversation_id"] == "u1001" and line["line"]["text"] == "我的电话13912870456"  # theirs: whole


def test_a_supervisor_watching_sees_phone_numbers_masked(client, redis_url, settings):
    ticket_id = queue_ticket(redis_url, settings, "u1001")
    assert client.post(f"/api/agent/tickets/{ticket_id}/claim", headers=sign_in(client, "kefu.wang")).status_code == 200
    push_lines(redis_url, "u1001", {"from": "shopper", "text": "我的电话13912870456"})
    session = sign_in(client, "zhuguan")["Authorization"].split()[1]
    with client.websocket_connect("/ws/agent", headers=ORIGIN) as socket:
        socket.send_json({"type": "hello", "session": session})
        socket.send_json({"type": "watch", "conversation_id": "u1001", "after": "0-0"})
        assert frames_until(socket, "line")[-1]["line"]["text"] == "我的电话139****0456"


def test_the_tickets_an_agent_holds_follow_claims_transfers_and_returns(client, redis_url, settings):
    wang, li = sign_in(client, "kefu.wang"), sign_in(client, "kefu.li")
    ticket_id = queue_ticket(redis_url, settings, "u1001")
    client.cookies.clear()

    def mine(headers: dict) -> list:
        session = headers["Authorization"].split()[1]
        with client.websocket_connect("/ws/agent", headers=ORIGIN) as socket:
            socket.send_json({"type": "hello", "session": session})
            return [t["ticket_id"] for t in frames_until(socket, "queue")[-1]["mine"]]

    assert client.post(f"/api/agent/tickets/{ticket_id}/claim", headers=wang).status_code == 200
    assert (mine(wang), mine(li)) == ([ticket_id], [])
    assert client.post(f"/api/agent/tickets/{ticket_id}/transfer", json={"to_agent_id": "kefu.li"}, headers=wang).status_code == 200
    assert (mine(wang), mine(li)) == ([], [ticket_id])  # the colleague's console opens it
    returned = client.post(f"/api/agent/tickets/{ticket_id}/return", json={"note": "已处理"}, headers=li)
    assert returned.status_code == 200
    assert (mine(wang), mine(li)) == ([], [])


def test_a_conversation_handed_on_stops_reaching_the_agent_who_gave_it(client, redis_url, settings):
    wang = sign_in(client, "kefu.wang")
    ticket_id = queue_ticket(redis_url, settings, "u1001")
    assert client.post(f"/api/agent/tickets/{ticket_id}/claim", headers=wang).status_code == 200
    with client.websocket_connect("/ws/agent", headers=ORIGIN) as socket:  # the cookie signs in
        socket.send_json({"type": "watch", "conversation_id": "u1001", "after": "0-0"})
        push_lines(redis_url, "u1001", {"from": "shopper", "text": "还在吗"})
        assert frames_until(socket, "line")[-1]["line"]["text"] == "还在吗"
        assert client.post(f"/api/agent/tickets/{ticket_id}/transfer", json={"to_agent_id": "kefu.li"}).status_code == 200
        assert frames_until(socket, "queue")[-1]["mine"] == []
        push_lines(redis_url, "u1001", {"from": "shopper", "text": "我的地址是…"})
        later = frames_until(socket, "queue", limit=5)
        assert not [f for f in later if f["type"] == "line"], "lines kept coming after the transfer"


def test_the_pages_come_with_their_security_headers_and_nothing_else_is_served(client):
    chat, console = client.get("/chat"), client.get("/console")
    assert "script-src 'self'" in chat.headers["content-security-policy"] and "<title>售后客服</title>" in chat.text
    assert "frame-ancestors 'none'" in console.headers["content-security-policy"]
    assert "<title>训练师工作台</title>" in client.get("/trainer").text
    assert client.get("/static/chat.js").status_code == 200
    for hidden in ("/static/chat.html", "/static/__init__.py", "/static/../settings.py"):
        assert client.get(hidden).status_code == 404, hidden


@pytest.mark.parametrize(
    ("value", "valid"),
    [("0", True), ("1764470000000-0", True), ("18446744073709551615-18446744073709551615", True),
     ("18446744073709551616", False), ("¹", False), ("١٢٣-0", False), ("5-", False), ("-5", False), ("", False),
     ("1-0-0", False), ("$", False), (" 1-0", False)],
)
def test_only_redis_stream_ids_are_taken_as_a_pages_cursor(value, valid):
    assert valid_stream_id(value) is valid  # anything else made Redis refuse the read: a 503
