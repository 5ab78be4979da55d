"""The agents' routes through the real app and a real Redis (Rasa is not running here: the
agent-message path to Rasa is tested in tests/test_gateway_conversations.py)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.test_handoff.conftest import AGENT_PASSWORD, SERVICE_TOKEN, bearer, sign_in, ticket_in


@pytest.fixture()
def client(console_client: TestClient) -> TestClient:
    return console_client


def queue_ticket(client: TestClient, conversation: str, **changes) -> str:
    body = json.loads(ticket_in(conversation).json())
    body.update(changes)
    response = client.post("/internal/tickets", json=body, headers=bearer(SERVICE_TOKEN))
    assert response.status_code == 201, response.text
    return response.json()["ticket_id"]


def test_signing_in_sets_an_httponly_session_cookie(client):
    response = client.post("/api/agent/session", json={"agent_id": "kefu.wang", "password": AGENT_PASSWORD})
    assert response.status_code == 200 and response.json()["agent"]["display_name"] == "客服小王"
    cookie = response.headers["set-cookie"]
    assert "shouhou_agent=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/api/agent/tickets").status_code == 200  # the cookie alone is enough
    assert client.delete("/api/agent/session").status_code == 204


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client):
    for agent_id in ("kefu.wang", "nobody"):
        response = client.post("/api/agent/session", json={"agent_id": agent_id, "password": "wrong-password"})
        assert response.status_code == 401 and response.json()["detail"]["message"] == "账号或密码不正确"


def test_every_agent_route_needs_a_signed_in_agent(client):
    ticket = queue_ticket(client, "conv-1")
    for method, path in (("get", "/api/agent/tickets"), ("post", f"/api/agent/tickets/{ticket}/claim"),
                         ("post", "/api/agent/conversations/conv-1/messages")):
        response = client.request(method.upper(), path, json={"text": "您好"} if method == "post" else None)
        assert response.status_code == 401, path
        assert response.json()["detail"]["message"] == "请先登录客服工作台"
    # A shopper's token is not an agent's session.
    assert client.get("/api/agent/tickets", headers=bearer(SERVICE_TOKEN)).status_code == 401


def test_the_queue_shows_complaints_first_and_counts_the_agent_online(client):
    wang = sign_in(client, "kefu.wang")
    queue_ticket(client, "conv-request", reason="requested")
    queue_ticket(client, "conv-complaint", reason="complaint")
    queue = client.get("/api/agent/tickets", headers=wang).json()
    assert [t["ticket"]["conversation_id"] for t in queue["tickets"]] == ["conv-complaint", "conv-request"]
    assert queue["agents_online"] == 1


def test_two_agents_claiming_one_ticket_one_wins_and_the_other_is_told(client):
    ticket = queue_ticket(client, "conv-2")
    wang, li = sign_in(client, "kefu.wang"), sign_in(client, "kefu.li")
    won = client.post(f"/api/agent/tickets/{ticket}/claim", headers=wang)
    assert won.status_code == 200 and won.json()["agent_id"] == "kefu.wang"
    lost = client.post(f"/api/agent/tickets/{ticket}/claim", headers=li)
    assert lost.status_code == 409 and lost.json()["detail"]["message"] == "该会话已被客服小王接手"
    assert client.post(f"/api/agent/tickets/{ticket}/claim", headers=wang).status_code == 200  # idempotent for the winner
    assert client.post("/api/agent/tickets/nope/claim", headers=wang).status_code == 404


def test_only_the_agent_who_has_the_conversation_may_write_to_the_shopper(client):
    ticket = queue_ticket(client, "conv-3")
    wang, li = sign_in(client, "kefu.wang"), sign_in(client, "kefu.li")
    before = client.post("/api/agent/conversations/conv-3/messages", json={"text": "您好"}, headers=wang)
    assert before.status_code == 403  # not claimed yet
    client.post(f"/api/agent/tickets/{ticket}/claim", headers=wang)
    other = client.post("/api/agent/conversations/conv-3/messages", json={"text": "您好"}, headers=li)
    assert other.status_code == 403 and other.json()["detail"]["message"] == "这个会话不在您名下，请先接手工单"
    # Rasa is down here: the message is refused plainly, and nothing reaches the shopper half-sent.
    down = client.post("/api/agent/conversations/conv-3/messages", json={"text": "您好"}, headers=wang)
    assert down.status_code == 503
    assert client.get("/api/chat/updates", headers=bearer(SERVICE_TOKEN)).status_code == 401


def test_an_agent_who_floods_is_told_to_slow_down(client, settings):
    settings.agent_messages_per_minute = 2
    ticket = queue_ticket(client, "conv-flood")
    wang = sign_in(client, "kefu.wang")
    client.post(f"/api/agent/tickets/{ticket}/claim", headers=wang)
    codes = [client.post("/api/agent/conversations/conv-flood/messages", json={"text": "您好"}, headers=wang).status_code
             for _ in range(3)]
    assert codes == [503, 503, 429]  # Rasa is down here; the third is refused before trying


def test_the_shopper_reads_updates_from_a_cursor(client, shopper_token):
    headers = bearer(shopper_token("u1001"))
    assert client.get("/api/chat/updates", headers=headers).json() == {"messages": []}
    assert client.get("/api/chat/updates", params={"after": "not-an-id"}, headers=headers).status_code == 422


def test_only_the_agent_who_has_it_returns_a_conversation_to_the_bot(client, shopper_token):
    ticket = queue_ticket(client, "conv-4")
    wang, li = sign_in(client, "kefu.wang"), sign_in(client, "kefu.li")
    unclaimed = client.post(f"/api/agent/tickets/{ticket}/return", json={"note": "x"}, headers=wang)
    assert unclaimed.status_code == 409
    client.post(f"/api/agent/tickets/{ticket}/claim", headers=wang)
    assert client.post(f"/api/agent/tickets/{ticket}/return", json={}, headers=li).status_code == 403
    returned = client.post(f"/api/agent/tickets/{ticket}/return", json={"note": "已补发，单号SF123"}, headers=wang)
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    owner = client.get("/internal/conversations/conv-4/owner", headers=bearer(SERVICE_TOKEN)).json()
    assert owner["owner"] == "bot"
    assert client.post(f"/api/agent/tickets/{ticket}/return", json={}, headers=wang).status_code == 409
    assert client.post("/api/agent/tickets/nope/return", json={}, headers=wang).status_code == 404


def test_an_agent_hands_a_conversation_to_a_colleague(client):
    ticket = queue_ticket(client, "conv-5")
    wang, li = sign_in(client, "kefu.wang"), sign_in(client, "kefu.li")
    client.post(f"/api/agent/tickets/{ticket}/claim", headers=wang)
    assert client.post(f"/api/agent/tickets/{ticket}/transfer", json={"to_agent_id": "nobody"}, headers=wang).status_code == 422
    assert client.post(f"/api/agent/tickets/{ticket}/transfer", json={"to_agent_id": "kefu.wang"}, headers=li).status_code == 403
    moved = client.post(f"/api/agent/tickets/{ticket}/transfer", json={"to_agent_id": "kefu.li"}, headers=wang)
    assert moved.status_code == 200 and moved.json()["agent_id"] == "kefu.li"
    owner = client.get("/internal/conversations/conv-5/owner", headers=bearer(SERVICE_TOKEN)).json()
    assert owner["owner"] == "agent" and owner["agent_id"] == "kefu.li"
    # The conversation is now Li's: Wang may no longer write to the shopper.
    assert client.post("/api/agent/conversations/conv-5/messages", json={"text": "您好"}, headers=wang).status_code == 403


def test_private_notes_stay_between_agents(client, shopper_token):
    ticket = queue_ticket(client, "conv-6")
    wang, li = sign_in(client, "kefu.wang"), sign_in(client, "kefu.li")
    added = client.post(f"/api/agent/tickets/{ticket}/notes", json={"text": "顾客是老客户，可以优先补发"}, headers=wang)
    assert added.status_code == 201 and added.json()["agent_name"] == "客服小王"
    notes = client.get(f"/api/agent/tickets/{ticket}/notes", headers=li).json()["notes"]
    assert [n["text"] for n in notes] == ["顾客是老客户，可以优先补发"]
    assert client.post(f"/api/agent/tickets/{ticket}/notes", json={"text": "  "}, headers=wang).status_code == 422
    assert client.get("/api/agent/tickets/nope/notes", headers=wang).status_code == 404
    client.cookies.clear()  # signing in above set the session cookie on this client
    assert client.get(f"/api/agent/tickets/{ticket}/notes").status_code == 401
    # Nothing of it reaches the shopper.
    assert client.get("/api/chat/updates", headers=bearer(shopper_token("conv-6"))).json() == {"messages": []}


def test_an_agent_marks_what_the_bot_misunderstood_for_the_trainers(client, redis_client):
    wang = sign_in(client, "kefu.wang")
    body = {"text": "屏幕边上有道印子 能上门取吗", "right_intent": "report_broken", "predicted_intent": "ask_policy"}
    marked = client.post("/api/agent/conversations/conv-7/misunderstood", json=body, headers=wang)
    assert marked.status_code == 201
    [(_, fields)] = redis_client.xrange("shouhou:inbox:misunderstood")
    stored = json.loads(fields[b"mark"])
    assert stored["right_intent"] == "report_broken" and stored["conversation_id"] == "conv-7"
    assert stored["agent_id"] == "kefu.wang"
    wrong = client.post("/api/agent/conversations/conv-7/misunderstood",
                        json={**body, "right_intent": "make_coffee"}, headers=wang)
    assert wrong.status_code == 422 and wrong.json()["detail"]["message"] == "请选择一个已有的意图"
