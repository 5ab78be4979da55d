"""The agents' console WebSocket: the live queue and the live lines of the conversations an agent has.

    connect  /ws/agent                  (Origin checked; the session cookie signs in,
                                          or a first frame {"type": "hello", "session": …} from API clients)
    <- {"type": "ready", "agent": {...}}
    <- {"type": "queue", "tickets": [rows], "agents_online": n, "mine": [tickets]}
                                        on every queue change, and every few seconds: the waiting
                                        tickets as queue rows (handoff/console/queue.py, no transcript:
                                        claiming returns the whole ticket), and in full the tickets the
                                        agent holds (a colleague's transfer shows up here)
    -> {"type": "watch", "conversation_id", "after": <last line id seen, or "0-0">}
    <- {"type": "line", "conversation_id", "id", "line": {...}}
    -> {"type": "unwatch", "conversation_id"}
    -> {"type": "ping"}  <- {"type": "pong"}

An agent watches a conversation they own (a supervisor: any); lines come from the conversation's
feed after the page's last id, so a console that reconnects misses and doubles nothing. Queue
changes are the ticket events stream; both are read in one blocking XREAD, so any instance of the
service can serve any agent. Reading the queue is the agent's heartbeat.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Dict, List, Optional, Set

from fastapi import APIRouter
from redis.asyncio import Redis
from starlette.websockets import WebSocket

from handoff import redis_keys
from handoff.agent_sessions import InvalidSession
from handoff.agents import Agent
from handoff.console.masking import mask_phones
from handoff.console.queue import SharedQueue
from handoff.deps import agent_of_session
from handoff.feed import decode_entry, feed_key, valid_stream_id
from handoff.ownership import get_ownership
from handoff.settings import HandoffSettings
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
# A conversation the agent starts watching is read from the next XREAD on: at most this late.
WATCH_PICKUP_MS = 500
MAX_WATCHED = 50


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket) -> None:
    settings: HandoffSettings = websocket.app.state.settings
    if not await accept_from_allowed_origin(websocket, settings):
        return
    agent = await _signed_in_agent(websocket, settings)
    if agent is None:
        return
    socket = AgentSocket(websocket, agent)
    await socket.send({"type": "ready", "agent": agent.dict()})
    await run_until_first_ends(websocket, socket.read(), socket.write())


async def _signed_in_agent(websocket: WebSocket, settings: HandoffSettings) -> Optional[Agent]:
    session = websocket.cookies.get(settings.agent_cookie_name)
    if not session:
        try:
            frame = await asyncio.wait_for(receive_frame(websocket, settings), HELLO_TIMEOUT_SECONDS)
        except (asyncio.TimeoutError, BadFrame, FrameTooBig):
            frame = {}
        session = frame.get("session") if frame.get("type") == "hello" else None
    try:
        if not isinstance(session, str):
            raise InvalidSession("not_authenticated", "请先登录客服工作台")
        return await agent_of_session(session, settings, websocket.app.state.agent_store)
    except InvalidSession as error:
        await send_error(websocket, error.code, error.message_zh)
        await websocket.close(code=CLOSE_UNAUTHORIZED)
        return None


class AgentSocket(FrameSocket):
    def __init__(self, websocket: WebSocket, agent: Agent) -> None:
        state = websocket.app.state
        super().__init__(websocket, state.settings)
        self._agent = agent
        self._redis: Redis = state.redis
        self._tickets: TicketService = state.ticket_service
        self._queue: SharedQueue = state.shared_queue
        self._watched: Dict[str, str] = {}  # conversation id -> last line id sent
        self._masked: Set[str] = set()  # watched by a supervisor who does not handle it: phones masked

    async def write(self) -> None:
        events_cursor = await self._latest_event_id()
        await self._send_queue(events_cursor)
        last_queue = time.monotonic()
        while True:
            streams = {redis_keys.TICKET_EVENTS: events_cursor}
            streams.update({feed_key(conversation_id): cursor for conversation_id, cursor in self._watched.items()})
            block_ms = WATCH_PICKUP_MS if self._watched else int(self._settings.ws_refresh_seconds * 1000)
            answer = await self._redis.xread(streams, count=100, block=block_ms)
            queue_changed = False
            for key, entries in answer or []:
                key = key.decode() if isinstance(key, bytes) else key
                if key == redis_keys.TICKET_EVENTS:
                    events_cursor = _text(entries[-1][0])
                    queue_changed = True
                else:
                    await self._send_lines(key, entries)
            if queue_changed or time.monotonic() - last_queue >= self._settings.ws_refresh_seconds:
                await self._send_queue(events_cursor)
                last_queue = time.monotonic()

    async def _latest_event_id(self) -> str:
        latest = await self._redis.xrevrange(redis_keys.TICKET_EVENTS, count=1)
        return _text(latest[0][0]) if latest else "0-0"

    async def _send_queue(self, events_cursor: str) -> None:
        await self._tickets.mark_agent_online(self._agent.agent_id)
        rows = await self._queue.rows(events_cursor)
        mine = await self._tickets.held_by(self._agent.agent_id)
        online = await self._tickets.agents_online()
        mine_json = [json.loads(ticket.json()) for ticket in mine]
        await self.send({"type": "queue", "tickets": rows, "agents_online": online, "mine": mine_json})
        if not self._agent.is_supervisor:  # a conversation handed on or given back is no longer theirs to read
            held = {ticket.ticket.conversation_id for ticket in mine}
            for conversation_id in [c for c in self._watched if c not in held]:
                del self._watched[conversation_id]

    async def _send_lines(self, key: str, entries: List[Any]) -> None:
        conversation_id = next((c for c in self._watched if feed_key(c) == key), None)
        if conversation_id is None:  # unwatched meanwhile
            return
        for entry_id, fields in entries:
            line_id, line = decode_entry(entry_id, fields)
            if conversation_id in self._masked and isinstance(line.get("text"), str):
                line = {**line, "text": mask_phones(line["text"])}
            await self.send({"type": "line", "conversation_id": conversation_id, "id": line_id, "line": line})
            self._watched[conversation_id] = line_id

    async def on_frame(self, frame: Dict[str, Any]) -> bool:
        kind = frame["type"]
        if kind == "watch":
            await self._watch(frame)
        elif kind == "unwatch":
            self._watched.pop(str(frame.get("conversation_id")), None)
            self._masked.discard(str(frame.get("conversation_id")))
        elif kind != "hello":  # a hello after the cookie signed in changes nothing
            return await super().on_frame(frame)
        return True

    async def _watch(self, frame: Dict[str, Any]) -> None:
        conversation_id, after = frame.get("conversation_id"), frame.get("after") or "0-0"
        if not isinstance(conversation_id, str) or not conversation_id or not isinstance(after, str):
            await self.send_error("bad_request", "请求格式不正确")
            return
        ownership = await get_ownership(self._redis, conversation_id)
        if ownership.agent_id != self._agent.agent_id and not self._agent.is_supervisor:
            await self.send(
                {"type": "error", "code": "not_your_conversation", "conversation_id": conversation_id,
                 "message": "这个会话不在您名下，请先接手工单"}
            )
            return
        if len(self._watched) >= MAX_WATCHED and conversation_id not in self._watched:
            await self.send_error("too_many_watched", "同时打开的会话太多，请先关闭一些")
            return
        self._watched[conversation_id] = after if valid_stream_id(after) else "0-0"
        if ownership.agent_id != self._agent.agent_id:
            self._masked.add(conversation_id)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value
