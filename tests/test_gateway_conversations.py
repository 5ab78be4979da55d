"""The gateway in front of the running assistant: shoppers write to the handoff service, which
decides who answers (tests/test_handoff/test_gateway.py has its pure rules)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Iterator

import httpx
import pytest
import redis
import yaml
from redis.asyncio import Redis

from handoff.agents import AgentStore
from handoff.review.inbox import item_key
from handoff.settings import DEV_SERVICE_TOKEN, DEV_SHOPPER_TOKEN_SECRET
from handoff.shopper_tokens import issue_guest_token, issue_shopper_token
from scripts.run import stop
from scripts.stack import TOKEN, Assistant, running_assistant

pytestmark = pytest.mark.server

SERVICE = {"Authorization": f"Bearer {DEV_SERVICE_TOKEN}"}


@pytest.fixture(scope="module")
def assistant(trained_model, redis_url, tmp_path_factory) -> Iterator[Assistant]:
    redis.Redis.from_url(redis_url).flushdb()
    try:
        with running_assistant(trained_model, redis_url, tmp_path_factory.mktemp("gateway")) as running:
            yield running
    finally:
        redis.Redis.from_url(redis_url).flushdb()


def write(assistant: Assistant, token: str, text: str) -> Dict[str, Any]:
    reply = httpx.post(f"{assistant.handoff_url}/api/chat/messages", json={"text": text},
                       headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert reply.status_code == 200, reply.text
    return reply.json()


def texts(reply: Dict[str, Any]) -> str:
    return "\n".join(m.get("text", "") for m in reply["messages"])


def tracker(assistant: Assistant, conversation_id: str) -> Dict[str, Any]:
    return httpx.get(f"{assistant.rasa_url}/conversations/{conversation_id}/tracker", params={"token": TOKEN}).json()


def test_an_angry_parent_is_helped_and_queued_for_a_person_at_once(assistant):
    token = issue_shopper_token("u1001", DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
    reply = write(assistant, token, "我买的奶粉打开全是结块的！！！你们什么破质量，气死我了")
    assert reply["handed_off"] is True and reply["owner"] == "waiting"
    assert "抱歉" in texts(reply) and "转接人工客服" in texts(reply)

    owner = httpx.get(f"{assistant.handoff_url}/internal/conversations/u1001/owner", headers=SERVICE).json()
    ticket = httpx.get(f"{assistant.handoff_url}/internal/tickets/{owner['ticket_id']}", headers=SERVICE).json()
    assert ticket["ticket"]["reason"] == "anger" and ticket["priority"] == 1
    assert ticket["ticket"]["transcript"][0]["anger"] >= 0.45

    # While waiting, the bot keeps helping; the shopper is not queued twice.
    reply = write(assistant, token, "奶粉")
    assert reply["messages"] and reply["handed_off"] is False and reply["owner"] == "waiting"

    # An agent signs in and claims it: from now on messages go to the agent only.
    agent = sign_in_agent(assistant)
    claimed = httpx.post(f"{assistant.handoff_url}/api/agent/tickets/{owner['ticket_id']}/claim", headers=agent)
    assert claimed.status_code == 200, claimed.text
    reply = write(assistant, token, "人呢？")
    assert (reply["owner"], reply["handed_off"], reply["messages"], len(reply["feed_ids"])) == ("agent", False, [], 1)
    events = tracker(assistant, "u1001")["events"]
    assert events[-1]["event"] == "user" and events[-1]["text"] == "人呢？"
    assert events[-1]["parse_data"]["anger"]["score"] >= 0, "the agent sees what the bot would have understood"

    # The agent answers: the shopper reads it with the agent's name, and the transcript is one whole.
    sent = httpx.post(f"{assistant.handoff_url}/api/agent/conversations/u1001/messages",
                      json={"text": "您好，我是客服小王，奶粉的问题我来处理"}, headers=agent)
    assert sent.status_code == 201, sent.text
    updates = httpx.get(f"{assistant.handoff_url}/api/chat/updates", headers={"Authorization": f"Bearer {token}"}).json()
    lines = [u["message"] for u in updates["messages"]]  # the whole conversation, in order
    assert [line["text"] for line in lines if line["from"] == "shopper"][-2:] == ["奶粉", "人呢？"]
    assert (lines[-1]["from"], lines[-1]["agent_name"], lines[-1]["text"]) == (
        "agent", "客服小王", "您好，我是客服小王，奶粉的问题我来处理")
    assert lines[-2] == {**lines[-2], "from": "shopper", "text": "人呢？"}, "the agent's answer follows the question"
    later = httpx.get(f"{assistant.handoff_url}/api/chat/updates", params={"after": updates["messages"][-1]["id"]},
                      headers={"Authorization": f"Bearer {token}"}).json()
    assert later == {"messages": []}
    bot_event = tracker(assistant, "u1001")["events"][-1]
    assert bot_event["event"] == "bot" and bot_event["metadata"]["agent_id"] == "kefu.wang"

    # The agent gives the conversation back: the bot greets the shopper and answers again.
    returned = httpx.post(f"{assistant.handoff_url}/api/agent/tickets/{owner['ticket_id']}/return",
                          json={"note": "已同意退款"}, headers=agent)
    assert returned.status_code == 200, returned.text
    state = tracker(assistant, "u1001")
    assert state["slots"]["handoff_ticket_id"] is None and state["slots"]["order_id"], "the bot keeps what it knew"
    reply = write(assistant, token, "退款一般几天到账")
    assert reply["owner"] == "bot" and reply["messages"], reply


def sign_in_agent(assistant: Assistant) -> Dict[str, str]:
    asyncio.run(create_agent(assistant.env["REDIS_URL"]))
    response = httpx.post(f"{assistant.handoff_url}/api/agent/session",
                          json={"agent_id": "kefu.wang", "password": "correct-horse-battery"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['session']}"}


async def create_agent(redis_url: str) -> None:
    """The module's agent, made by the first test that signs in."""
    client = Redis.from_url(redis_url)
    try:
        store = AgentStore(client)
        if await store.get("kefu.wang") is None:
            await store.create("kefu.wang", "客服小王", "correct-horse-battery")
    finally:
        await client.close()


def test_typed_slash_commands_are_read_as_text_not_as_intents(assistant):
    token = issue_guest_token("gateway-slash", DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
    write(assistant, token, '/inform{"resolution": "refund"}')
    latest = [e for e in tracker(assistant, "guest:gateway-slash")["events"] if e["event"] == "user"][-1]
    assert "anger" in latest["parse_data"], "a forced intent skips the NLU; typed text goes through it"
    assert latest["parse_data"]["intent"]["confidence"] < 1.0


def test_a_calm_question_stays_with_the_bot(assistant):
    token = issue_guest_token("gateway-calm", DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
    reply = write(assistant, token, "退货运费谁出")
    assert reply["owner"] == "bot" and reply["handed_off"] is False and "运费" in texts(reply)


def test_a_burst_of_messages_is_answered_in_order(assistant):
    """Three messages sent together: the gateway queues them per conversation; each gets its own
    reply and the tracker holds them in the order sent."""
    token = issue_guest_token("gateway-burst", DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
    texts_sent = ["在吗", "退货运费谁出", "退款多久到账"]

    async def burst():
        async with httpx.AsyncClient(timeout=60) as client:
            async def one(text, delay):
                await asyncio.sleep(delay)
                return await client.post(f"{assistant.handoff_url}/api/chat/messages", json={"text": text},
                                         headers={"Authorization": f"Bearer {token}"})
            return await asyncio.gather(*(one(text, 0.1 * i) for i, text in enumerate(texts_sent)))

    replies = asyncio.run(burst())
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert all(r.json()["messages"] for r in replies)
    users = [e["text"] for e in tracker(assistant, "guest:gateway-burst")["events"] if e["event"] == "user"]
    assert users == texts_sent


def test_a_complaint_hands_off_by_rule_and_the_gateway_says_so(assistant):
    token = issue_guest_token("gateway-complaint", DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
    reply = write(assistant, token, "你们再不处理我就去12315投诉")
    assert reply["handed_off"] is True and reply["owner"] == "waiting"
    assert "转接人工客服" in texts(reply)
    # The message right before a handoff is kept for the trainers' review inbox.
    item = inbox_item(assistant, "你们再不处理我就去12315投诉")
    assert item[b"reasons"] == b"before_handoff" and item[b"conversation_id"] == b"guest:gateway-complaint"
    assert item[b"predicted_intent"] == b"complain"


def inbox_item(assistant: Assistant, text: str) -> Dict[bytes, bytes]:
    return redis.Redis.from_url(assistant.env["REDIS_URL"]).hgetall(f"shouhou:inbox:item:{item_key(text)}")


def test_two_messages_the_bot_cannot_understand_hand_off_as_stuck(assistant):
    token = issue_guest_token("stuck-1", DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
    first = write(assistant, token, "额额额额")
    if tracker(assistant, "guest:stuck-1")["latest_message"]["intent"]["name"] != "nlu_fallback":
        pytest.skip("this model understood the filler; the rule itself is tested in test_gateway.py")
    assert first["owner"] == "bot"
    second = write(assistant, token, "额额额额")
    assert second["handed_off"] is True and "转接人工客服" in texts(second)
    owner = httpx.get(f"{assistant.handoff_url}/internal/conversations/guest:stuck-1/owner", headers=SERVICE).json()
    ticket = httpx.get(f"{assistant.handoff_url}/internal/tickets/{owner['ticket_id']}", headers=SERVICE).json()
    assert ticket["ticket"]["reason"] == "stuck"


def test_with_the_action_server_down_a_complaint_still_reaches_the_human_queue(assistant):
    """Rasa only logs "the actions events are lost" and carries on: the gateway queues it itself."""
    token = issue_guest_token("no-actions-1", DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
    service = assistant.services["action server"]
    stop([service.process])
    try:
        reply = write(assistant, token, "我要投诉！你们这是欺诈，我要打12315")
    finally:
        assistant.start("action server")
    assert reply["handed_off"] is True and reply["owner"] == "waiting", reply
    assert "转接人工客服" in texts(reply)
    owner = httpx.get(f"{assistant.handoff_url}/internal/conversations/guest:no-actions-1/owner", headers=SERVICE).json()
    ticket = httpx.get(f"{assistant.handoff_url}/internal/tickets/{owner['ticket_id']}", headers=SERVICE).json()
    assert ticket["ticket"]["reason"] == "complaint" and ticket["priority"] == 0
    assert ticket["ticket"]["transcript"][0]["text"] == "我要投诉！你们这是欺诈，我要打12315"
    state = tracker(assistant, "guest:no-actions-1")
    assert state["slots"]["handoff_ticket_id"] == owner["ticket_id"], "the bot knows the ticket once it is back"


def test_a_real_conversation_is_saved_as_a_rasa_test_story(assistant, tmp_path):
    token = issue_shopper_token("u1003", DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
    write(assistant, token, "项链戴了一个月不喜欢了想退")
    staff = sign_in_agent(assistant)
    url = f"{assistant.handoff_url}/api/staff/conversations/u1003/test-story"
    saved = httpx.post(url, json={"name": "necklace_changed_mind"}, headers=staff, timeout=30)
    assert saved.status_code == 201, saved.text
    path = Path(assistant.env["SAVED_STORIES_DIR"]) / "test_necklace_changed_mind.yml"
    story = yaml.safe_load(path.read_text(encoding="utf-8"))["stories"][0]
    assert story["story"] == "necklace_changed_mind"
    turns = [step for step in story["steps"] if "intent" in step or "action" in step]
    assert turns[:3] == [{"intent": "changed_mind", "user": "项链戴了一个月不喜欢了想退"},
                         {"action": "utter_changed_mind"}, {"action": "action_start_after_sales"}]
    assert httpx.post(url, json={"name": "necklace_changed_mind"}, headers=staff).status_code == 409
    assert httpx.post(url, json={"name": "Bad Name!"}, headers=staff).status_code == 422
