"""Phones are masked for agents who do not handle the case; the one who does sees them whole."""

from __future__ import annotations

import json

import pytest

from handoff.console.masking import mask_phones
from tests.test_handoff.conftest import SERVICE_TOKEN, bearer, sign_in, ticket_in


@pytest.mark.parametrize(
    "text, masked",
    [
        ("手机13912870456", "手机139****0456"),
        ("+8613912870456 订单2026112559261845", "+86139****0456 订单2026112559261845"),
        ("订单号202611255926184552", "订单号202611255926184552"),  # an order number is not a phone
        ("电话 139 1287 0456", "电话 139 1287 0456"),  # the normaliser joins these for the bot, not here
    ],
)
def test_mask_phones(text, masked):
    assert mask_phones(text) == masked


def test_the_queue_masks_phones_and_the_agent_who_claims_sees_them(console_client):
    client = console_client
    body = json.loads(ticket_in("conv-phone").json())
    body["transcript"] = [{"speaker": "shopper", "text": "我的手机是13912870456", "timestamp": 1.0}]
    body["slots"] = {"phone": "13912870456"}
    ticket_id = client.post("/internal/tickets", json=body, headers=bearer(SERVICE_TOKEN)).json()["ticket_id"]
    wang = sign_in(client, "kefu.wang")
    queued = client.get("/api/agent/tickets", headers=wang).json()["tickets"][0]["ticket"]
    assert queued["transcript"][0]["text"] == "我的手机是139****0456" and queued["slots"]["phone"] == "139****0456"
    claimed = client.post(f"/api/agent/tickets/{ticket_id}/claim", headers=wang).json()["ticket"]
    assert claimed["transcript"][0]["text"] == "我的手机是13912870456"
