"""Agent sessions: signing and verifying them, their settings, and CurrentAgent / CurrentSupervisor
through a small app built like the real one (Redis client and AgentStore in the lifespan) on a real Redis."""

from __future__ import annotations

import asyncio
import base64
import json
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Dict, Iterator, Optional

import jwt
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from redis.asyncio import Redis

from handoff.agent_sessions import (
    MESSAGE_EXPIRED,
    MESSAGE_INVALID,
    MESSAGE_LOGIN_REQUIRED,
    SESSION_TYPE,
    InvalidSession,
    SessionClaims,
    issue_session,
    verify_session,
)
from handoff.agents import Agent, AgentStore, Role
from handoff.deps import CurrentAgent, CurrentSupervisor
from handoff.settings import DEV_AGENT_SESSION_SECRET, HandoffSettings
from handoff.shopper_tokens import InvalidShopperToken, issue_shopper_token, verify_shopper_token
from tests.test_handoff.conftest import SERVICE_TOKEN, SHOPPER_TOKEN_SECRET, bearer

SECRET = "test-agent-session-secret-0123456789abcdef"
OTHER_SECRET = "someone-else-s-secret-0123456789abcdef"
REAL_SECRET = "a-real-secret-of-forty-characters-000000"
ISSUED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
TTL = 3600
WANG = Agent(agent_id="kefu.wang", display_name="客服小王", role=Role.agent)
LI = Agent(agent_id="kefu.li", display_name="主管小李", role=Role.supervisor)


def refusal(token: str, now: datetime = ISSUED, secret: str = SECRET) -> InvalidSession:
    with pytest.raises(InvalidSession) as caught:
        verify_session(token, secret, now=now)
    return caught.value


def encode(claims: Dict[str, object], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def session_claims(**changes: object) -> Dict[str, object]:
    issued = int(ISSUED.timestamp())
    claims: Dict[str, object] = {
        "sub": "kefu.wang",
        "role": "agent",
        "name": "客服小王",
        "iat": issued,
        "exp": issued + TTL,
        "typ": SESSION_TYPE,
    }
    claims.update(changes)
    return claims


# --- issue_session / verify_session ---


def test_a_session_round_trips() -> None:
    token = issue_session(LI, SECRET, TTL, now=ISSUED)
    issued = int(ISSUED.timestamp())
    assert verify_session(token, SECRET, now=ISSUED + timedelta(minutes=5)) == SessionClaims(
        agent_id="kefu.li", role=Role.supervisor, display_name="主管小李", issued_at=issued, expires_at=issued + TTL
    )
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False}) == session_claims(
        sub="kefu.li", role="supervisor", name="主管小李"
    )


def test_the_real_clock_is_used_when_no_time_is_given() -> None:
    assert verify_session(issue_session(WANG, SECRET, TTL), SECRET).agent_id == "kefu.wang"


def test_a_session_is_valid_until_the_second_before_exp_and_expired_at_exp() -> None:
    token = issue_session(WANG, SECRET, TTL, now=ISSUED)
    assert verify_session(token, SECRET, now=ISSUED + timedelta(seconds=TTL - 1)).agent_id == "kefu.wang"
    error = refusal(token, now=ISSUED + timedelta(seconds=TTL))
    assert (error.code, error.message_zh) == ("session_expired", MESSAGE_EXPIRED)
    assert MESSAGE_EXPIRED == "登录已过期，请重新登录"


def test_a_session_signed_with_another_secret_is_refused() -> None:
    error = refusal(issue_session(WANG, OTHER_SECRET, TTL, now=ISSUED))
    assert (error.code, error.message_zh, error.reason) == ("invalid_session", MESSAGE_INVALID, "bad signature")


def test_a_session_whose_claims_were_changed_is_refused() -> None:
    header, _, signature = issue_session(WANG, SECRET, TTL, now=ISSUED).split(".")
    promoted = json.dumps(session_claims(role="supervisor")).encode()
    payload = base64.urlsafe_b64encode(promoted).rstrip(b"=").decode()
    assert refusal(f"{header}.{payload}.{signature}").reason == "bad signature"


def test_alg_none_is_refused() -> None:
    unsigned = jwt.encode(session_claims(), None, algorithm="none")
    assert refusal(unsigned).reason.startswith("wrong algorithm")


def test_a_shopper_token_is_refused_as_a_session_even_with_the_same_secret() -> None:
    shopper = issue_shopper_token("kefu.wang", SECRET, TTL, now=ISSUED)
    error = refusal(shopper)
    assert (error.code, error.reason) == ("invalid_session", "missing typ")


@pytest.mark.parametrize("typ", ["shopper", "guest", "", "AGENT_SESSION"])
def test_another_token_type_is_refused(typ: str) -> None:
    assert refusal(encode(session_claims(typ=typ))).reason.startswith("not an agent session")


@pytest.mark.parametrize(
    "changes",
    [{"sub": "Kefu Wang"}, {"sub": 7}, {"role": "admin"}, {"name": 3}, {"iat": "1"}, {"exp": True}],
)
def test_malformed_claims_are_refused(changes: Dict[str, object]) -> None:
    assert refusal(encode(session_claims(**changes))).reason.startswith("malformed token")


def test_a_session_issued_in_the_future_is_refused() -> None:
    later = ISSUED + timedelta(minutes=5)
    assert refusal(issue_session(WANG, SECRET, TTL, now=later)).reason.startswith("issued in the future")


def test_garbage_and_an_empty_token_are_refused() -> None:
    assert refusal("not.a.jwt").code == "invalid_session"
    empty = refusal("")
    assert (empty.code, empty.message_zh) == ("not_authenticated", MESSAGE_LOGIN_REQUIRED)


def test_a_session_never_passes_as_a_shopper_token() -> None:
    session = issue_session(WANG, SECRET, TTL, now=ISSUED)
    with pytest.raises(InvalidShopperToken, match="bad signature"):
        verify_shopper_token(session, SHOPPER_TOKEN_SECRET, now=ISSUED)


def test_a_session_needs_a_positive_ttl_and_an_aware_clock() -> None:
    with pytest.raises(ValueError):
        issue_session(WANG, SECRET, 0)
    with pytest.raises(ValueError):
        issue_session(WANG, SECRET, TTL, now=datetime(2025, 3, 1))


# --- settings ---


def real_settings(**changes: str) -> HandoffSettings:
    secrets = {"shopper_token_secret": REAL_SECRET, "service_token": REAL_SECRET[::-1], "agent_session_secret": SECRET}
    secrets.update(changes)
    return HandoffSettings(_env_file=None, env="prod", **{name: SecretStr(value) for name, value in secrets.items()})


def test_session_settings_have_their_defaults() -> None:
    settings = real_settings()
    assert (settings.agent_session_ttl_seconds, settings.agent_cookie_name) == (12 * 3600, "shouhou_agent")
    assert SECRET not in repr(settings)


def test_the_placeholder_session_secret_is_refused_outside_dev_only() -> None:
    with pytest.raises(ValidationError, match="AGENT_SESSION_SECRET is the public development placeholder"):
        real_settings(agent_session_secret=DEV_AGENT_SESSION_SECRET)
    with pytest.warns(UserWarning, match="AGENT_SESSION_SECRET"):
        HandoffSettings(_env_file=None, env="dev")


def test_a_short_session_secret_is_refused_outside_dev() -> None:
    with pytest.raises(ValidationError, match="AGENT_SESSION_SECRET must be at least 32 characters"):
        real_settings(agent_session_secret="short")


@pytest.mark.parametrize("other", ["shopper_token_secret", "service_token"])
def test_the_session_secret_must_differ_from_the_other_secrets(other: str) -> None:
    with pytest.raises(ValidationError, match=f"AGENT_SESSION_SECRET must differ from {other.upper()}"):
        real_settings(**{other: SECRET})


# --- CurrentAgent / CurrentSupervisor ---


@pytest.fixture()
def app_settings(settings: HandoffSettings) -> HandoffSettings:
    return settings.copy(update={"agent_session_secret": SecretStr(SECRET)})


@pytest.fixture()
def client(app_settings: HandoffSettings, redis_client: redis.Redis) -> Iterator[TestClient]:
    asyncio.run(create_agents(app_settings.redis_url))
    with TestClient(console_app(app_settings)) as test_client:
        yield test_client


def console_app(settings: HandoffSettings) -> FastAPI:
    """Two routes as the console's will be, on the state handoff.main's lifespan sets up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = Redis.from_url(settings.redis_url)
        app.state.agent_store = AgentStore(client)
        yield
        await client.close()

    app = FastAPI(lifespan=lifespan)
    app.state.settings = settings

    @app.get("/test/me")
    async def me(agent: CurrentAgent) -> dict:
        return {"agent_id": agent.agent_id, "name": agent.display_name, "role": agent.role.value}

    @app.get("/test/supervisor")
    async def supervisor_only(agent: CurrentSupervisor) -> dict:
        return {"agent_id": agent.agent_id}

    return app


async def create_agents(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        store = AgentStore(client)
        for agent in (WANG, LI):
            await store.create(agent.agent_id, agent.display_name, "password-of-" + agent.agent_id, agent.role)
    finally:
        await client.close()


def session_of(agent: Agent, ttl: int = TTL, now: Optional[datetime] = None) -> str:
    return issue_session(agent, SECRET, ttl, now=now)


def detail(response) -> Dict[str, str]:
    return response.json()["detail"]


def test_a_session_is_accepted_from_the_cookie(client: TestClient, app_settings: HandoffSettings) -> None:
    client.cookies.set(app_settings.agent_cookie_name, session_of(WANG))
    response = client.get("/test/me")
    assert response.status_code == 200, response.text
    assert response.json() == {"agent_id": "kefu.wang", "name": "客服小王", "role": "agent"}


def test_a_session_is_accepted_as_a_bearer_token(client: TestClient) -> None:
    response = client.get("/test/me", headers=bearer(session_of(LI)))
    assert response.status_code == 200 and response.json()["role"] == "supervisor"


def test_no_session_is_401_in_chinese(client: TestClient) -> None:
    response = client.get("/test/me")
    assert response.status_code == 401
    assert detail(response) == {"code": "not_authenticated", "message": "请先登录客服工作台"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_expired_session_is_401(client: TestClient, app_settings: HandoffSettings) -> None:
    client.cookies.set(app_settings.agent_cookie_name, session_of(WANG, ttl=60, now=ISSUED))
    response = client.get("/test/me")
    assert response.status_code == 401
    assert detail(response) == {"code": "session_expired", "message": "登录已过期，请重新登录"}


@pytest.mark.parametrize(
    "token",
    [
        issue_shopper_token("kefu.wang", SHOPPER_TOKEN_SECRET, TTL),
        SERVICE_TOKEN,
        issue_session(WANG, OTHER_SECRET, TTL),
    ],
    ids=["shopper token", "service token", "forged session"],
)
def test_other_tokens_are_401(client: TestClient, token: str) -> None:
    response = client.get("/test/me", headers=bearer(token))
    assert response.status_code == 401
    assert detail(response) == {"code": "invalid_session", "message": MESSAGE_INVALID}


def test_a_deleted_agent_s_session_is_401(client: TestClient, app_settings: HandoffSettings) -> None:
    token = session_of(WANG)
    assert client.get("/test/me", headers=bearer(token)).status_code == 200
    asyncio.run(delete_agent(app_settings.redis_url, "kefu.wang"))
    response = client.get("/test/me", headers=bearer(token))
    assert response.status_code == 401
    assert detail(response) == {"code": "agent_not_found", "message": "请先登录客服工作台"}


async def delete_agent(redis_url: str, agent_id: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        assert await AgentStore(client).delete(agent_id)
    finally:
        await client.close()


def test_the_role_comes_from_the_store_not_from_the_session(client: TestClient) -> None:
    promoted = Agent(agent_id="kefu.wang", display_name="客服小王", role=Role.supervisor)
    response = client.get("/test/supervisor", headers=bearer(session_of(promoted)))
    assert response.status_code == 403


def test_a_supervisor_only_route_refuses_a_plain_agent(client: TestClient) -> None:
    refused = client.get("/test/supervisor", headers=bearer(session_of(WANG)))
    assert refused.status_code == 403
    assert detail(refused) == {"code": "supervisor_required", "message": "请使用主管账号"}
    allowed = client.get("/test/supervisor", headers=bearer(session_of(LI)))
    assert allowed.status_code == 200 and allowed.json() == {"agent_id": "kefu.li"}
    assert client.get("/test/supervisor").status_code == 401


def test_the_real_app_keeps_one_agent_store(app_settings: HandoffSettings, redis_client: redis.Redis) -> None:
    from handoff.main import create_app

    app = create_app(app_settings)
    with TestClient(app):
        assert isinstance(app.state.agent_store, AgentStore)
