"""The ticket routes through the real app (lifespan included) and a real Redis."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from handoff.main import create_app
from handoff.settings import HandoffSettings
from handoff.tickets.models import TicketOut
from tests.test_handoff.conftest import SERVICE_TOKEN, bearer, ticket_in

SERVICE = bearer(SERVICE_TOKEN)


@pytest.fixture()
def client(settings: HandoffSettings, redis_client: redis.Redis) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def ticket_body(conversation: str = "conv-1", **changes: Any) -> Dict[str, Any]:
    """A valid TicketIn as JSON, with `changes` (which may make it invalid) applied."""
    body = json.loads(ticket_in(conversation).json())
    body.update(changes)
    return body


def open_ticket(client: TestClient, body: Dict[str, Any]):
    return client.post("/internal/tickets", json=body, headers=SERVICE)


def test_a_handoff_is_created_once_then_returned(client: TestClient) -> None:
    created = open_ticket(client, ticket_body())
    assert created.status_code == 201, created.text
    ticket = TicketOut.parse_obj(created.json())  # what actions/clients/handoff_client.py reads
    assert (ticket.status.value, ticket.priority, ticket.ticket.summary_zh) == ("waiting", 2, "杯子碎了，想退款")
    assert created.json()["position"] == {
        "ticket_id": ticket.ticket_id,
        "ahead": 0,
        "expected_wait_minutes": 3,
        "agents_online": 0,
    }

    again = open_ticket(client, ticket_body(reason="complaint"))
    assert again.status_code == 200
    assert again.json()["ticket_id"] == ticket.ticket_id and again.json()["ticket"]["reason"] == "requested"


def test_the_position_counts_earlier_tickets(client: TestClient) -> None:
    open_ticket(client, ticket_body("conv-1"))
    second = open_ticket(client, ticket_body("conv-2")).json()
    assert second["position"]["ahead"] == 1 and second["position"]["expected_wait_minutes"] == 6


def test_a_ticket_is_read_with_its_position(client: TestClient) -> None:
    ticket_id = open_ticket(client, ticket_body()).json()["ticket_id"]
    response = client.get(f"/internal/tickets/{ticket_id}", headers=SERVICE)
    assert response.status_code == 200
    assert response.json()["ticket_id"] == ticket_id and response.json()["position"]["ahead"] == 0


@pytest.mark.parametrize("ticket_id", ["AAAAAAAAAAAAAAAA", "not-a-ticket"])
def test_an_unknown_ticket_is_a_clear_404(client: TestClient, ticket_id: str) -> None:
    response = client.get(f"/internal/tickets/{ticket_id}", headers=SERVICE)
    assert response.status_code == 404
    assert response.json() == {"detail": {"code": "ticket_not_found", "message": "工单不存在"}}


def test_the_owner_of_a_conversation_follows_the_handoff(client: TestClient) -> None:
    before = client.get("/internal/conversations/conv-1/owner", headers=SERVICE)
    assert before.status_code == 200
    assert before.json() == {"owner": "bot", "agent_id": None, "ticket_id": None}

    ticket_id = open_ticket(client, ticket_body()).json()["ticket_id"]
    after = client.get("/internal/conversations/conv-1/owner", headers=SERVICE).json()
    assert after == {"owner": "waiting", "agent_id": None, "ticket_id": ticket_id}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({key: value for key, value in ticket_body().items() if key != "reason"}, "reason"),
        (ticket_body(reason="bored"), "reason"),
        (ticket_body(conversation_id=""), "conversation_id"),
        (ticket_body(anger_score=1.5), "anger_score"),
    ],
)
def test_a_bad_ticket_is_a_422_naming_the_field(client: TestClient, body: Dict[str, Any], field: str) -> None:
    response = open_ticket(client, body)
    assert response.status_code == 422
    assert response.json() == {"detail": {"code": "bad_request", "message": f"请求格式不正确：{field}"}}
    assert client.get("/internal/conversations/conv-1/owner", headers=SERVICE).json()["owner"] == "bot"


def test_a_body_that_is_not_json_is_a_422(client: TestClient) -> None:
    response = client.post(
        "/internal/tickets", content=b"{not json", headers={**SERVICE, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json() == {"detail": {"code": "bad_request", "message": "请求格式不正确"}}


@pytest.mark.parametrize(
    "call",
    [
        lambda client, headers: client.post("/internal/tickets", json=ticket_body(), headers=headers),
        lambda client, headers: client.post("/internal/tickets", json={"reason": "bored"}, headers=headers),
        lambda client, headers: client.get("/internal/tickets/AAAAAAAAAAAAAAAA", headers=headers),
        lambda client, headers: client.get("/internal/conversations/conv-1/owner", headers=headers),
    ],
    ids=["open", "open-bad-body", "read", "owner"],
)
def test_every_ticket_route_needs_the_service_token(
    client: TestClient, shopper_token: Callable[[str], str], call: Callable[[TestClient, Dict[str, str]], Any]
) -> None:
    for headers in ({}, bearer(shopper_token("u1001")), bearer("not-the-service-token")):
        response = call(client, headers)
        assert response.status_code == 401
        assert response.json() == {"detail": {"code": "service_token_required", "message": "需要服务令牌"}}
    assert client.get("/internal/conversations/conv-1/owner", headers=SERVICE).json()["owner"] == "bot"
