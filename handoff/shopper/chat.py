"""The shopper's side of the conversation, over HTTP (the chat page's WebSocket comes on top).

POST /api/chat/messages   bearer: shopper or guest token -> {"owner", "handed_off", "messages"}
GET  /api/chat/updates     what a person said since `after` (an id from the last call): {"messages": [...]}

The conversation is the token's subject: a shopper can only ever write in (and read) their own.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from handoff.deps import CurrentShopper, GatewayDep, OutboxDep
from handoff.errors import api_error
from handoff.gateway import EmptyMessage
from handoff.outbox import valid_stream_id
from handoff.ownership import Owner
from handoff.rasa_client import RasaUnavailable

logger = logging.getLogger(__name__)

router = APIRouter(tags=["chat"])

BUSY_ZH = "抱歉，客服系统暂时繁忙，您的消息没有发送成功，请稍后再发一次。"


class ChatMessageIn(BaseModel):
    text: str = Field(..., max_length=2000)
    photo_ids: List[str] = Field(default_factory=list, max_items=9)


class ChatReply(BaseModel):
    owner: Owner
    handed_off: bool
    messages: List[Dict[str, Any]]


@router.post("/api/chat/messages", response_model=ChatReply)
async def send_message(message: ChatMessageIn, shopper: CurrentShopper, gateway: GatewayDep) -> ChatReply:
    metadata: Dict[str, Any] = {"shopper_token": shopper.token}
    if message.photo_ids:
        metadata["photo_ids"] = message.photo_ids
    try:
        reply = await gateway.handle(shopper.conversation_id, message.text, metadata)
    except EmptyMessage as error:
        raise api_error(422, "empty_message", "消息内容为空，请输入文字后再发送") from error
    except RasaUnavailable as error:
        logger.error("message of %s not delivered: %s", shopper.conversation_id, error)
        raise api_error(503, "bot_unavailable", BUSY_ZH) from error
    return ChatReply(owner=reply.owner, handed_off=reply.handed_off, messages=reply.messages)


class Update(BaseModel):
    id: str
    message: Dict[str, Any]  # {"from": "agent", "text", "agent_id", "agent_name", "at"}


class Updates(BaseModel):
    messages: List[Update]


@router.get("/api/chat/updates", response_model=Updates)
async def updates(shopper: CurrentShopper, outbox: OutboxDep, after: str = Query("0-0", max_length=40)) -> Updates:
    if not valid_stream_id(after):
        raise api_error(422, "bad_cursor", "消息位置不正确，请刷新页面")
    entries = await outbox.after(shopper.conversation_id, after)
    return Updates(messages=[Update(id=entry_id, message=message) for entry_id, message in entries])
