"""Fixtures of the handoff tests: settings pointing at the tests' Redis database and tmp_path, async Redis
clients on that database, tokens, handoff tickets, and the app with agents signed up."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio
import redis as sync_redis
from fastapi.testclient import TestClient
from pydantic import SecretStr
from redis.asyncio import Redis

from handoff.agents import AgentStore, Role
from handoff.main import create_app
from handoff.settings import HandoffSettings
from handoff.shopper_tokens import issue_guest_token, issue_shopper_token
from handoff.tickets.models import HandoffReason, TicketIn

SHOPPER_TOKEN_SECRET = "test-shopper-token-secret-0123456789abcdef"
SERVICE_TOKEN = "test-service-token-0123456789abcdef-xyz"


@pytest.fixture()
def settings(redis_url: str, tmp_path: Path) -> HandoffSettings:
    return HandoffSettings(
        env="dev",
        redis_url=redis_url,
        photo_dir=tmp_path / "photos",
        shopper_token_secret=SecretStr(SHOPPER_TOKEN_SECRET),
        service_token=SecretStr(SERVICE_TOKEN),
    )


@pytest.fixture()
def shopper_token() -> Callable[[str], str]:
    return lambda shopper_id: issue_shopper_token(shopper_id, SHOPPER_TOKEN_SECRET, ttl_seconds=600)


@pytest.fixture()
def guest_token() -> Callable[[str], str]:
    return lambda conversation_id: issue_guest_token(conversation_id, SHOPPER_TOKEN_SECRET, ttl_seconds=600)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest_asyncio.fixture(loop_scope="function")
async def redis(redis_url: str, redis_client: sync_redis.Redis) -> AsyncIterator[Redis]:
    """An async client on the tests' database (redis_client flushes it around the test)."""
    client = Redis.from_url(redis_url)
    yield client
    await client.close()


@pytest_asyncio.fixture(loop_scope="function")
async def other_redis(redis_url: str, redis_client: sync_redis.Redis) -> AsyncIterator[Redis]:
    """A second connection on the same database, as a second process of the service would have."""
    client = Redis.from_url(redis_url)
    yield client
    await client.close()


def ticket_in(conversation_id: str = "conv-1", reason: str = "requested", angry: bool = False) -> TicketIn:
    return TicketIn(
        conversation_id=conversation_id,
        shopper_id="u1001",
        reason=HandoffReason(reason),
        summary_zh="杯子碎了，想退款",
        angry=angry,
        anger_score=0.8 if angry else 0.1,
        five_elements={"order": "SH20240601001", "item": "玻璃杯", "problem": "破损", "wish": "退款", "evidence": None},
        transcript=[
            {"speaker": "shopper", "text": "杯子到了就是碎的", "timestamp": 1717200000.0, "intent": "report_damage"}
        ],
        promises=["已为您登记破损"],
    )


AGENT_PASSWORD = "correct-horse-battery"


async def create_agents(redis_url: str) -> None:
    """Two agents, a supervisor and a trainer, as `python -m handoff.cli create-agent` would make them."""
    client = Redis.from_url(redis_url)
    try:
        store = AgentStore(client)
        await store.create("kefu.wang", "客服小王", AGENT_PASSWORD)
        await store.create("kefu.li", "客服小李", AGENT_PASSWORD)
        await store.create("zhuguan", "主管老张", AGENT_PASSWORD, Role.supervisor)
        await store.create("xunlian.zhao", "训练师小赵", AGENT_PASSWORD, Role.trainer)
    finally:
        await client.close()


@pytest.fixture()
def console_client(settings: HandoffSettings, redis_client, redis_url: str) -> Iterator[TestClient]:
    """The real app with those accounts; Rasa is not running (its address answers nothing). Routes
    read the settings at each request, so a test may still change them (e.g. a data folder)."""
    settings.rasa_url = "http://127.0.0.1:9"
    asyncio.run(create_agents(redis_url))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def sign_in(client: TestClient, agent_id: str) -> dict:
    response = client.post("/api/agent/session", json={"agent_id": agent_id, "password": AGENT_PASSWORD})
    assert response.status_code == 200, response.text
    return bearer(response.json()["session"])
