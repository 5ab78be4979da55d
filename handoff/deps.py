"""Dependencies of the handoff routes, as Annotated aliases (full-stack-fastapi-template's deps.py style).

Who is calling comes from `Authorization: Bearer <token>`: a shopper or guest token
(handoff/shopper_tokens.py) or the service token of internal callers (the action server;
for now also the agents' console). An agent of the console is known by their session
(handoff/agent_sessions.py), from the session cookie or `Authorization: Bearer <session>`.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Annotated, Optional

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from handoff.agent_sessions import MESSAGE_LOGIN_REQUIRED, InvalidSession, verify_session
from handoff.agents import Agent, AgentStore
from handoff.errors import api_error, unauthorized
from handoff.feed import ConversationFeed
from handoff.gateway import Gateway
from handoff.photos import PhotoStore
from handoff.rasa_client import RasaClient
from handoff.review.inbox import ReviewInbox
from handoff.settings import HandoffSettings
from handoff.shopper_tokens import InvalidShopperToken, verify_subject
from handoff.tickets.service import TicketService

logger = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False)
BearerDep = Annotated[Optional[HTTPAuthorizationCredentials], Depends(_bearer)]


def _settings(request: Request) -> HandoffSettings:
    return request.app.state.settings


def _redis(request: Request) -> Redis:
    return request.app.state.redis


def _photo_store(request: Request) -> PhotoStore:
    return request.app.state.photo_store


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def _rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


def _feed(request: Request) -> ConversationFeed:
    return request.app.state.feed


def _ticket_service(request: Request) -> TicketService:
    return request.app.state.ticket_service


def _review_inbox(request: Request) -> ReviewInbox:
    return request.app.state.review_inbox


def _agent_store(request: Request) -> AgentStore:
    return request.app.state.agent_store


SettingsDep = Annotated[HandoffSettings, Depends(_settings)]
RedisDep = Annotated[Redis, Depends(_redis)]
PhotoStoreDep = Annotated[PhotoStore, Depends(_photo_store)]
GatewayDep = Annotated[Gateway, Depends(_gateway)]
RasaDep = Annotated[RasaClient, Depends(_rasa)]
FeedDep = Annotated[ConversationFeed, Depends(_feed)]
TicketServiceDep = Annotated[TicketService, Depends(_ticket_service)]
AgentStoreDep = Annotated[AgentStore, Depends(_agent_store)]
ReviewInboxDep = Annotated[ReviewInbox, Depends(_review_inbox)]


@dataclass(frozen=True)
class Caller:
    """A shopper or guest (subject set), or staff: an internal service or a signed-in agent (is_service)."""

    subject: Optional[str] = None
    is_service: bool = False

    def may_see_photo_of(self, owner: str) -> bool:
        return self.is_service or self.subject == owner


def _is_service_token(credentials: Optional[HTTPAuthorizationCredentials], settings: HandoffSettings) -> bool:
    if credentials is None:
        return False
    expected = settings.service_token.get_secret_value().encode()
    return hmac.compare_digest(credentials.credentials.encode(), expected)


def _uploader_subject(credentials: Optional[HTTPAuthorizationCredentials], settings: HandoffSettings) -> str:
    if credentials is None:
        raise unauthorized("not_authenticated", "身份校验失败，请重新打开聊天")
    try:
        return verify_subject(credentials.credentials, settings.shopper_token_secret.get_secret_value())
    except InvalidShopperToken as error:
        logger.info("shopper token refused: %s", error.reason)
        raise unauthorized(error.code, error.message_zh) from error


@dataclass(frozen=True)
class Shopper:
    """A shopper or guest, with the token that proved it (the actions verify it again)."""

    subject: str
    token: str

    @property
    def conversation_id(self) -> str:
        return self.subject  # "u1001", or "guest:<conversation id>"


def current_shopper(credentials: BearerDep, settings: SettingsDep) -> Shopper:
    subject = _uploader_subject(credentials, settings)
    return Shopper(subject=subject, token=credentials.credentials)


def current_uploader(credentials: BearerDep, settings: SettingsDep) -> str:
    """The shopper id or "guest:<conversation_id>" of a valid token; 401 otherwise."""
    return _uploader_subject(credentials, settings)


def service_caller(credentials: BearerDep, settings: SettingsDep) -> Caller:
    """An internal caller holding the service token; 401 otherwise."""
    if not _is_service_token(credentials, settings):
        raise unauthorized("service_token_required", "需要服务令牌")
    return Caller(is_service=True)


async def photo_viewer(request: Request, credentials: BearerDep, settings: SettingsDep, store: AgentStoreDep) -> Caller:
    """The service or a signed-in agent (any photo), or a shopper/guest (only their own)."""
    if _is_service_token(credentials, settings):
        return Caller(is_service=True)
    if credentials is None and request.cookies.get(settings.agent_cookie_name):
        await current_agent(request, credentials, settings, store)  # 401 unless the session is valid
        return Caller(is_service=True)
    return Caller(subject=_uploader_subject(credentials, settings))


CurrentUploader = Annotated[str, Depends(current_uploader)]
CurrentShopper = Annotated[Shopper, Depends(current_shopper)]
ServiceCaller = Annotated[Caller, Depends(service_caller)]
PhotoViewer = Annotated[Caller, Depends(photo_viewer)]


def _session_token(request: Request, credentials: Optional[HTTPAuthorizationCredentials], cookie_name: str) -> str:
    """`Authorization: Bearer <session>` (API clients) if sent, else the console's session cookie."""
    if credentials is not None:
        return credentials.credentials
    return request.cookies.get(cookie_name, "")


async def agent_of_session(token: str, settings: HandoffSettings, store: AgentStore) -> Agent:
    """The agent a session belongs to, as stored now (a deleted account's sessions are refused);
    InvalidSession otherwise. Used by the HTTP routes and the console's WebSocket."""
    claims = verify_session(token, settings.agent_session_secret.get_secret_value())
    agent = await store.get(claims.agent_id)
    if agent is None:
        raise InvalidSession("agent_not_found", MESSAGE_LOGIN_REQUIRED, f"session of deleted agent {claims.agent_id}")
    return agent


async def current_agent(
    request: Request, credentials: BearerDep, settings: SettingsDep, store: AgentStoreDep
) -> Agent:
    """The signed-in agent; 401 otherwise."""
    try:
        return await agent_of_session(_session_token(request, credentials, settings.agent_cookie_name), settings, store)
    except InvalidSession as error:
        logger.info("agent session refused: %s", error.reason)
        raise unauthorized(error.code, error.message_zh) from error


CurrentAgent = Annotated[Agent, Depends(current_agent)]


def current_supervisor(agent: CurrentAgent) -> Agent:
    """A signed-in supervisor; 403 for a plain agent."""
    if not agent.is_supervisor:
        raise api_error(403, "supervisor_required", "请使用主管账号")
    return agent


CurrentSupervisor = Annotated[Agent, Depends(current_supervisor)]


def current_trainer(agent: CurrentAgent) -> Agent:
    """A signed-in trainer (or supervisor); 403 otherwise."""
    if not agent.trains_the_bot:
        raise api_error(403, "trainer_required", "请使用训练师账号")
    return agent


CurrentTrainer = Annotated[Agent, Depends(current_trainer)]
