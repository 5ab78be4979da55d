"""The chat page's WebSocket: live lines both ways, and what the shopper waits for.

    connect  /ws/chat                        (Origin checked)
    -> {"type": "hello", "token": <shopper or guest token>, "after": <last line id seen, or "0-0">}
    <- {"type": "ready", "conversation_id": …}
    <- {"type": "line", "id": <feed id>, "line": {"from": "shopper"|"bot"|"agent"|"system", "text", …}}
    <- {"type": "status", "owner": "bot"|"waiting"|"agent", "queue": {"ahead", "minutes", "text"}?, "agent_name"?}
    -> {"type": "message", "client_id", "text", "photo_ids"?: [...], "button"?: <signed token>}
    <- {"type": "ack", "client_id", "duplicate"}   or   {"type": "error", "client_id"?, "code", "message"}
    -> {"type": "ping"}  <- {"type": "pong"}

Lines come from the conversation's feed (handoff/feed.py) after the page's last id, so a page that
reconnects with its last id gets every line once; a message resent with the same client_id after
a reconnect is handled once. Messages go through the same `receive` as the HTTP route.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.websockets import WebSocket

from handoff.agents import AgentStore
from handoff.deps import Shopper
from handoff.feed import ConversationFeed, valid_stream_id
from handoff.ownership import Owner, get_ownership
from handoff.settings import HandoffSettings
from handoff.shopper.chat import ChatMessageIn, MessageRefused, receive
from handoff.shopper_tokens import InvalidShopperToken, verify_subject
from handoff.tickets.service import TicketService
from handoff.websockets import (
    CLOSE_UNAUTHORIZED,
    BadFrame,
    FrameSocket,
    FrameTooBig,
    accept_from_allowed_origin,
    receive_frame,
    run_until_first_ends,
    send_error,
)

logger = logging.getLogger(__name__)

router = APIRouter()

HELLO_TIMEOUT_SECONDS = 10
AGENT_FALLBACK_NAME = "人工客服"


@router.websocket("/ws/chat")
async def chat_socket(websocket: WebSocket) -> None:
    settings: HandoffSettings = websocket.app.state.settings
    if not await accept_from_allowed_origin(websocket, settings):
        return
    opened = await _hello(websocket, settings)
    if opened is None:
        return
    shopper, after = opened
    socket = ShopperSocket(websocket, shopper, after)
    await websocket.send_json({"type": "ready", "conversation_id": shopper.conversation_id})
    await run_until_first_ends(websocket, socket.read(), socket.write())


async def _hello(websocket: WebSocket, settings: HandoffSettings) -> Optional[tuple]:
    """The shopper proven by the first frame, and the last line id their page has; None (socket
    closed, with the reason sent first) when the frame is missing, late or the token is refused."""
    try:
        frame = await asyncio.wait_for(receive_frame(websocket, settings), HELLO_TIMEOUT_SECONDS)
    except (asyncio.TimeoutError, BadFrame, FrameTooBig):
        frame = {}
    token, after = frame.get("token"), frame.get("after") or "0-0"
    if frame.get("type") != "hello" or not isinstance(token, str) or not isinstance(after, str):
        await send_error(websocket, "hello_required", "连接失败，请刷新页面")
        await websocket.close(code=CLOSE_UNAUTHORIZED)
        return None
    try:
        subject = verify_subject(token, settings.shopper_token_secret.get_secret_value())
    except InvalidShopperToken as error:
        await send_error(websocket, error.code, error.message_zh)
        await websocket.close(code=CLOSE_UNAUTHORIZED)
        return None
    return Shopper(subject=subject, token=token), after if valid_stream_id(after) else "0-0"


class ShopperSocket(FrameSocket):
    def __init__(self, websocket: WebSocket, shopper: Shopper, after: str) -> None:
        state = websocket.app.state
        super().__init__(websocket, state.settings)
        self._shopper = shopper
        self._cursor = after
        self._feed: ConversationFeed = state.feed
        self._tickets: TicketService = state.ticket_service
        self._agents: AgentStore = state.agent_store
        self._redis = state.redis
        self._gateway = state.gateway

    async def write(self) -> None:
        """The conversation's lines after the cursor as they come, and its status when it changes."""
        last_status: Optional[Dict[str, Any]] = None
        block_ms = int(self._settings.ws_refresh_seconds * 1000)
        while True:
            for _, line_id, line in await self._feed.wait({self._shopper.conversation_id: self._cursor}, block_ms):
                await self.send({"type": "line", "id": line_id, "line": line})
                self._cursor = line_id
            status = await self._status()
            if status != last_status:
                await self.send(status)
                last_status = status

    async def _status(self) -> Dict[str, Any]:
        ownership = await get_ownership(self._redis, self._shopper.conversation_id)
        status: Dict[str, Any] = {"type": "status", "owner": ownership.owner.value}
        if ownership.owner == Owner.waiting and ownership.ticket_id:
            position = await self._tickets.position(ownership.ticket_id)
            if position is not None:
                status["queue"] = {
                    "ahead": position.ahead,
                    "minutes": position.expected_wait_minutes,
                    "agents_online": position.agents_online,
                    "text": position.message_zh(),
                }
        if ownership.owner == Owner.agent and ownership.agent_id:
            agent = await self._agents.get(ownership.agent_id)
            status["agent_name"] = agent.display_name if agent else AGENT_FALLBACK_NAME
        return status

    async def on_frame(self, frame: Dict[str, Any]) -> bool:
        if frame["type"] == "message":
            return await self._message(frame)
        return await super().on_frame(frame)

    async def _message(self, frame: Dict[str, Any]) -> bool:
        """Handle one message frame; False when the socket was closed (the token expired)."""
        client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
        try:
            verify_subject(self._shopper.token, self._settings.shopper_token_secret.get_secret_value())
        except InvalidShopperToken as error:
            await self.send_error(error.code, error.message_zh, client_id=client_id)
            await self._websocket.close(code=CLOSE_UNAUTHORIZED)
            return False
        try:
            message = ChatMessageIn.parse_obj(frame)
            reply = await receive(message, self._shopper, self._gateway, self._redis, self._settings)
        except ValidationError:
            await self.send_error("bad_request", "消息格式不正确", client_id=client_id)
            return True
        except MessageRefused as refused:
            await self.send_error(refused.code, refused.message_zh, client_id=client_id)
            return True
        await self.send({"type": "ack", "client_id": client_id, "duplicate": reply.duplicate, "owner": reply.owner.value})
        return True
