"""action_handoff_to_human over the real handoff service, and the ticket it builds."""

from __future__ import annotations

import time

import httpx

from actions import deps
from actions.handoff_packet import build_ticket
from actions.human_handoff import UNAVAILABLE_ZH, ActionHandoffToHuman
from handoff import redis_keys
from handoff.settings import DEV_SERVICE_TOKEN
from handoff.tickets.models import HandoffReason
from tests.factories import make_tracker


def history(order_id: str):
    """A guest who reported caked milk powder, got a case, then grew angry."""
    return [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "奶粉打开全是结块", "timestamp": 1.0,
         "parse_data": {"intent": {"name": "report_broken", "confidence": 0.91}, "anger": {"score": 0.2, "angry": False}}},
        {"event": "action", "name": "utter_report_broken"},
        {"event": "bot", "text": "抱歉让您遇到这种情况了", "timestamp": 2.0},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": order_id, "timestamp": 3.0,
         "parse_data": {"intent": {"name": "inform", "confidence": 0.88}, "anger": {"score": 0.1, "angry": False}}},
        {"event": "action", "name": "action_submit_after_sales"},
        {"event": "bot", "text": "已为您提交售后申请，退货单号R1，审核通过后3天内退款。", "timestamp": 4.0},
        {"event": "action", "name": "action_listen"},
    ]


async def test_the_ticket_carries_everything_the_bot_learned(store):
    order = await deps.repository().get_order(store["caked_milk_powder"])
    milk = order.items[0]
    tracker = make_tracker(
        "你们什么破质量！！！我要人工", "request_human",
        slots={"order_id": order.order_id, "item_sku": milk.sku, "reason": "quality", "resolution": "refund",
               "photo_ids": ["p1", "p2"]},
        events=history(order.order_id),
    )
    ticket = build_ticket(tracker, HandoffReason.requested, angry=True, anger_score=0.93,
                          order={"items": [{"sku": milk.sku, "name": milk.name}]})
    assert ticket.priority == 1  # an angry request is served with the angry ones
    assert order.order_id in ticket.summary_zh and milk.name in ticket.summary_zh and "退款" in ticket.summary_zh
    assert "情绪激动" in ticket.summary_zh
    assert ticket.five_elements["order"] == order.order_id and ticket.five_elements["wish"] == "退款"
    assert ticket.five_elements["problem"] == "商品有质量问题" and ticket.five_elements["evidence"] == "照片2张"
    shopper_turns = [t for t in ticket.transcript if t.speaker == "shopper"]
    assert [t.intent for t in shopper_turns] == ["report_broken", "inform", "request_human"]
    assert shopper_turns[0].anger == 0.2 and shopper_turns[0].confidence == 0.91
    assert ticket.promises == ["已为您提交售后申请，退货单号R1，审核通过后3天内退款。"]
    assert ticket.photo_ids == ["p1", "p2"]


async def test_asking_for_a_person_queues_one_ticket_and_tells_the_shopper_their_place(photo_service, store, run,
                                                                                     redis_client):
    redis_client.zadd(redis_keys.AGENTS_ONLINE, {"agent-1": time.time()})  # one agent signed in
    tracker = make_tracker("转人工", "request_human", slots={"order_id": store["caked_milk_powder"], "reason": "quality"},
                           events=history(store["caked_milk_powder"]), sender_id="guest-handoff-1")
    first = await run(ActionHandoffToHuman(), tracker)
    assert "转接人工客服" in first.text and "您前面还有0位" in first.text and "不需要再重复" in first.text
    ticket_id = first.slots["handoff_ticket_id"]
    second = await run(ActionHandoffToHuman(), tracker)
    assert second.slots["handoff_ticket_id"] == ticket_id  # one open ticket per conversation

    ticket = httpx.get(f"{photo_service}/internal/tickets/{ticket_id}", headers={"Authorization": f"Bearer {DEV_SERVICE_TOKEN}"}).json()
    assert ticket["ticket"]["reason"] == "requested"
    assert ticket["ticket"]["order"]["items"], "the agent sees the order's items"
    assert "phone" not in ticket["ticket"]["order"]
    assert [t["text"] for t in ticket["ticket"]["transcript"]][-1] == "转人工"


async def test_a_complaint_is_served_before_earlier_requests(photo_service, store, run, redis_client):
    redis_client.zadd(redis_keys.AGENTS_ONLINE, {"agent-1": time.time()})
    request = make_tracker("人工", "request_human", sender_id="guest-handoff-2")
    complaint = make_tracker("再不处理我就去12315投诉", "complain", sender_id="guest-handoff-3")
    await run(ActionHandoffToHuman(), request)
    result = await run(ActionHandoffToHuman(), complaint)
    assert "非常抱歉" in result.text and "您前面还有0位" in result.text


async def test_with_no_agent_signed_in_the_shopper_is_told_and_the_ticket_stays(photo_service, store, run):
    result = await run(ActionHandoffToHuman(), make_tracker("人工", "request_human", sender_id="guest-handoff-4"))
    assert "暂时没有客服在线" in result.text and "已记录" in result.text
    assert result.slots["handoff_ticket_id"]


async def test_the_shopper_is_told_plainly_when_the_handoff_service_is_down(store, run, monkeypatch):
    monkeypatch.setenv("HANDOFF_URL", "http://127.0.0.1:9")  # nothing listens there
    deps.reset()
    result = await run(ActionHandoffToHuman(), make_tracker("人工", "request_human"))
    assert result.text == UNAVAILABLE_ZH
    assert "handoff_ticket_id" not in result.slots
