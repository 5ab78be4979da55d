"""The shopper's side of the conversation over HTTP (the chat page uses the WebSocket in live.py;
both go through `receive`, so the rules are the same).

POST /api/chat/guest      a guest token for a new conversation (the page opened without the app's token)
POST /api/chat/messages   bearer: shopper or guest token -> {"owner", "handed_off", "messages", "feed_ids"}
GET  /api/chat/updates     the conversation's lines since `after` (an id from the last call): {"messages": [...]}

The conversation is the token's subject: a shopper can only ever write in (and read) their own.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, Dict, List, Optional

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from redis.asyncio import Redis
from redis.exceptions import RedisError

from handoff.buttons import InvalidButton
from handoff.deps import CurrentShopper, FeedDep, GatewayDep, RedisDep, SettingsDep, Shopper
from handoff.errors import api_error
from handoff.feed import valid_stream_id
from handoff.gateway import EmptyMessage, Gateway, GatewayReply, ShopperInput, valid_client_id
from handoff.ownership import Owner
from handoff.rasa_client import RasaUnavailable
from handoff.rate_limit import SHOPPER_MESSAGE_ZH, RateLimited, count_message
from handoff.settings import HandoffSettings
from handoff.shopper_tokens import issue_guest_token
from handoff.turns import TurnTimeout

logger = logging.getLogger(__name__)

router = APIRouter(tags=["chat"])

BUSY_ZH = "抱歉，客服系统暂时繁忙，您的消息没有发送成功，请稍后再发一次。"
BAD_BUTTON_ZH = "这个按钮已失效，请直接输入文字告诉我们。"
BAD_CLIENT_ID_ZH = "消息编号不正确，请刷新页面后重试"


class ChatMessageIn(BaseModel):
    text: str = Field(..., max_length=2000)  # typed text, or the title of the button pressed
    photo_ids: List[str] = Field(default_factory=list, max_items=9)
    client_id: Optional[str] = Field(None, max_length=64)  # the page's id of this message
    button: Optional[str] = Field(None, max_length=2000)  # the signed token of the button pressed


class ChatReply(BaseModel):
    owner: Owner
    handed_off: bool
    duplicate: bool = False
    messages: List[Dict[str, Any]]
    feed_ids: List[str]


class MessageRefused(Exception):
    """Why a shopper message was not handled: HTTP status, code and the Chinese message."""

    def __init__(self, status: int, code: str, message_zh: str) -> None:
        super().__init__(message_zh)
        self.status, self.code, self.message_zh = status, code, message_zh


async def receive(
    message: ChatMessageIn, shopper: Shopper, gateway: Gateway, redis: Redis, settings: HandoffSettings
) -> GatewayReply:
    """One shopper message, from the HTTP route or the WebSocket: counted, then answered."""
    if message.client_id is not None and not valid_client_id(message.client_id):
        raise MessageRefused(422, "bad_client_id", BAD_CLIENT_ID_ZH)
    try:
        await count_message(redis, f"shopper:{shopper.subject}", settings.shopper_messages_per_minute, SHOPPER_MESSAGE_ZH)
        sent = ShopperInput(message.text, message.client_id, tuple(message.photo_ids), message.button)
        return await gateway.handle(shopper.conversation_id, sent, _metadata(message, shopper))
    except RateLimited as error:
        raise MessageRefused(429, "too_many_messages", error.message_zh) from error
    except EmptyMessage as error:
        raise MessageRefused(422, "empty_message", "消息内容为空，请输入文字后再发送") from error
    except InvalidButton as error:
        raise MessageRefused(422, "invalid_button", BAD_BUTTON_ZH) from error
    except (RasaUnavailable, TurnTimeout) as error:
        logger.error("message of %s not delivered: %s", shopper.conversation_id, error)
        raise MessageRefused(503, "bot_unavailable", BUSY_ZH) from error
    except RedisError as error:  # a restart of Redis: the page sends it again with the same client id
        logger.error("message of %s not handled, Redis unavailable: %r", shopper.conversation_id, error)
        raise MessageRefused(503, "store_unavailable", BUSY_ZH) from error


def _metadata(message: ChatMessageIn, shopper: Shopper) -> Dict[str, Any]:
    metadata: Dict[str, Any] = {"shopper_token": shopper.token}
    if message.photo_ids:
        metadata["photo_ids"] = message.photo_ids
    return metadata


@router.post("/api/chat/messages", response_model=ChatReply)
async def send_message(
    message: ChatMessageIn, shopper: CurrentShopper, gateway: GatewayDep, redis: RedisDep, settings: SettingsDep
) -> ChatReply:
    try:
        reply = await receive(message, shopper, gateway, redis, settings)
    except MessageRefused as refused:
        raise api_error(refused.status, refused.code, refused.message_zh) from refused
    return ChatReply(
        owner=reply.owner,
        handed_off=reply.handed_off,
        duplicate=reply.duplicate,
        messages=reply.messages,
        feed_ids=reply.feed_ids,
    )


class Update(BaseModel):
    id: str
    message: Dict[str, Any]  # {"from": "shopper" | "bot" | "agent" | "system", "text", ..., "at"}


class Updates(BaseModel):
    messages: List[Update]


@router.get("/api/chat/updates", response_model=Updates)
async def updates(shopper: CurrentShopper, feed: FeedDep, after: str = Query("0-0", max_length=40)) -> Updates:
    if not valid_stream_id(after):
        raise api_error(422, "bad_cursor", "消息位置不正确，请刷新页面")
    entries = await feed.after(shopper.conversation_id, after)
    return Updates(messages=[Update(id=entry_id, message=message) for entry_id, message in entries])


class GuestSession(BaseModel):
    token: str
    conversation_id: str
    expires_in: int


@router.post("/api/chat/guest", response_model=GuestSession, status_code=201)
async def guest_session(settings: SettingsDep) -> GuestSession:
    """A new guest conversation: the token's subject is "guest:<id>" (phone checks in the dialogue)."""
    conversation_id = secrets.token_urlsafe(12)
    ttl = settings.shopper_token_ttl_seconds
    token = issue_guest_token(conversation_id, settings.shopper_token_secret.get_secret_value(), ttl)
    return GuestSession(token=token, conversation_id=f"guest:{conversation_id}", expires_in=ttl)
