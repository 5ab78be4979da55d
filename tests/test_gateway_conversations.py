"""The gateway in front of the running assistant: shoppers write to the handoff service, which
decides who answers (tests/test_handoff/test_gateway.py has its pure rules)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Iterator

import httpx
import pytest
import redis
from redis.asyncio import Redis

from handoff.settings import DEV_SERVICE_TOKEN, DEV_SHOPPER_TOKEN_SECRET, HandoffSettings
from handoff.shopper_tokens import issue_guest_token, issue_shopper_token
from handoff.tickets.service import TicketService
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

    # Once an agent has it, messages go to the agent only: recorded, no bot reply.
    claim = asyncio.run(claim_ticket(assistant, owner["ticket_id"]))
    assert claim == "won"
    reply = write(assistant, token, "人呢？")
    assert reply == {"owner": "agent", "handed_off": False, "messages": []}
    events = tracker(assistant, "u1001")["events"]
    assert events[-1]["event"] == "user" and events[-1]["text"] == "人呢？"


async def claim_ticket(assistant: Assistant, ticket_id: str) -> str:
    client = Redis.from_url(assistant.env["REDIS_URL"])
    try:
        result = await TicketService(client, HandoffSettings()).claim(ticket_id, "agent-1")
        return result.outcome.value
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
