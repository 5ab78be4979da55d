"""Case actions from the console on the real demo store (SQLite) and the real service; Rasa is not
running, so the shopper's notice reaches the feed and the tracker write is logged as missing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Dict, Iterator

import pytest
from redis.asyncio import Redis

from actions import deps as shop_deps
from actions.policy.loader import DEFAULT_POLICY_PATH
from actions.shop.clock import store_now
from actions.shop.models import CaseRequest, Reason, Resolution
from actions.shop.seed import seed
from handoff.feed import ConversationFeed
from handoff.tickets.service import TicketService
from tests.test_handoff.conftest import sign_in, ticket_in

DEFAULT_POLICY = DEFAULT_POLICY_PATH


@pytest.fixture()
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, str]]:
    labels = seed(tmp_path / "shop.db", store_now())
    monkeypatch.setenv("SHOP_BACKEND", "sqlite")
    monkeypatch.setenv("SHOP_DB_PATH", str(tmp_path / "shop.db"))
    shop_deps.reset()
    yield labels
    shop_deps.reset()


def claimed_ticket_with_a_case(console_client, settings, redis_url: str, order_id: str) -> tuple:
    async def prepare() -> tuple:
        order = await shop_deps.repository().get_order(order_id)
        case = await shop_deps.repository().create_case(CaseRequest(
            order_id=order_id, sku=order.items[0].sku, shopper_id=order.shopper_id, reason=Reason.QUALITY,
            resolution=Resolution.REFUND, needs_review=True))
        redis = Redis.from_url(redis_url)
        try:
            ticket = ticket_in("u1001", reason="complaint").copy(update={"case": json.loads(case.json())})
            queued, _ = await TicketService(redis, settings).enqueue(ticket)
        finally:
            await redis.close()
        return queued.ticket_id, case.case_id

    ticket_id, case_id = asyncio.run(prepare())
    agent = sign_in(console_client, "kefu.wang")
    assert console_client.post(f"/api/agent/tickets/{ticket_id}/claim", headers=agent).status_code == 200
    return ticket_id, case_id, agent


def feed_texts(redis_url: str, conversation_id: str) -> list:
    async def read() -> list:
        redis = Redis.from_url(redis_url)
        try:
            return [line["text"] for _, line in await ConversationFeed(redis, 60).after(conversation_id)]
        finally:
            await redis.close()

    return asyncio.run(read())


def test_the_agent_who_holds_the_ticket_approves_then_marks_the_parcel_received(console_client, settings, redis_url, shop):
    ticket_id, case_id, agent = claimed_ticket_with_a_case(console_client, settings, redis_url, shop["caked_milk_powder"])
    view = console_client.get(f"/api/agent/tickets/{ticket_id}/case", headers=agent).json()
    assert view["case"]["status"] == "审核中"
    assert {a["status"]: a["allowed"] for a in view["actions"]} == {"待寄回": True, "退款中": True, "已换货": True, "已关闭": True}

    approved = console_client.post(f"/api/agent/tickets/{ticket_id}/case", json={"status": "待寄回", "note": "照片清楚"}, headers=agent)
    assert approved.status_code == 200 and approved.json()["case"]["status"] == "待寄回"
    assert approved.json()["case"]["history"][-1]["note"] == "客服小王：照片清楚"
    assert f"您的售后单{case_id}已审核通过" in feed_texts(redis_url, "u1001")[-1], "the shopper is told in the chat"

    wrong = console_client.post(f"/api/agent/tickets/{ticket_id}/case", json={"status": "已退款"}, headers=agent)
    assert wrong.status_code == 409 and "待寄回" in wrong.json()["detail"]["message"]
    received = console_client.post(f"/api/agent/tickets/{ticket_id}/case", json={"status": "已寄回"}, headers=agent)
    assert received.json()["case"]["status"] == "已寄回"


def test_only_the_agent_who_holds_it_or_a_supervisor_moves_a_case(console_client, settings, redis_url, shop):
    ticket_id, _, _ = claimed_ticket_with_a_case(console_client, settings, redis_url, shop["caked_milk_powder"])
    other = console_client.post(f"/api/agent/tickets/{ticket_id}/case", json={"status": "已关闭"},
                                headers=sign_in(console_client, "kefu.li"))
    assert other.status_code == 403
    boss = console_client.post(f"/api/agent/tickets/{ticket_id}/case", json={"status": "已关闭"},
                               headers=sign_in(console_client, "zhuguan"))
    assert boss.status_code == 200 and boss.json()["case"]["status"] == "已关闭"


def test_a_refund_above_the_agents_limit_needs_a_supervisor(console_client, settings, redis_url, shop, monkeypatch, tmp_path):
    strict = tmp_path / "policy.yml"  # the store's policy with a one-yuan limit for agents' refunds
    strict.write_text(DEFAULT_POLICY.read_text(encoding="utf-8").replace(
        "supervisor_refund_above_yuan: 2000", "supervisor_refund_above_yuan: 1"), encoding="utf-8")
    monkeypatch.setenv("POLICY_PATH", str(strict))
    shop_deps.reset()
    ticket_id, _, agent = claimed_ticket_with_a_case(console_client, settings, redis_url, shop["caked_milk_powder"])
    actions = console_client.get(f"/api/agent/tickets/{ticket_id}/case", headers=agent).json()["actions"]
    assert {a["status"]: a["allowed"] for a in actions}["退款中"] is False
    refused = console_client.post(f"/api/agent/tickets/{ticket_id}/case", json={"status": "退款中"}, headers=agent)
    assert refused.status_code == 403 and refused.json()["detail"]["message"] == "这件商品金额较高，退款需要主管操作"
    boss = console_client.post(f"/api/agent/tickets/{ticket_id}/case", json={"status": "退款中"},
                               headers=sign_in(console_client, "zhuguan"))
    assert boss.json()["case"]["status"] == "退款中"
