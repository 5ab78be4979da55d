"""What both WebSockets (the chat page's and the console's) check and share.

- The handshake's `Origin` must be the service's own host or one of ALLOWED_ORIGINS: a page on
  another site cannot open a socket with the browser's cookies (cross-site WebSocket hijacking).
- A frame larger than WS_MAX_FRAME_BYTES closes the socket with 1009 (uvicorn's --ws-max-size
  stops it earlier, at the protocol level, when run by scripts/run.py).
- Frames are JSON objects with a "type"; anything else gets a clear error frame, not a close.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Dict, Optional
from urllib.parse import urlsplit

from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from handoff.settings import HandoffSettings

logger = logging.getLogger(__name__)

CLOSE_POLICY = 1008  # origin refused
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011  # the page reconnects
CLOSE_UNAUTHORIZED = 4401  # the page should sign in (or open the chat) again


class BadFrame(ValueError):
    """A frame that is not a JSON object with a type: `message_zh` says so to the sender."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


class FrameTooBig(Exception):
    pass


def origin_allowed(websocket: WebSocket, settings: HandoffSettings) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:  # not a browser (API clients, tests): nothing to hijack
        return True
    if origin in settings.allowed_origins:
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


async def receive_frame(websocket: WebSocket, settings: HandoffSettings) -> Dict[str, Any]:
    """The next frame as a dict with a "type"; BadFrame, FrameTooBig or WebSocketDisconnect."""
    raw = await websocket.receive_text()
    if len(raw.encode()) > settings.ws_max_frame_bytes:
        raise FrameTooBig()
    try:
        frame = json.loads(raw)
    except json.JSONDecodeError as error:
        raise BadFrame("消息格式不正确") from error
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise BadFrame("消息格式不正确")
    return frame


async def send_error(websocket: WebSocket, code: str, message_zh: str, **extra: Any) -> None:
    await websocket.send_json({"type": "error", "code": code, "message": message_zh, **extra})


async def run_until_first_ends(websocket: WebSocket, *jobs: Awaitable[None]) -> None:
    """Run the socket's reader and writer together; when one ends (the socket closed, the client
    left), cancel the other. Redis going away closes the socket with 1011 (the page reconnects
    from its last id); other errors are raised."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        error: Optional[BaseException] = task.exception()
        if isinstance(error, RedisError):
            logger.warning("socket closed, Redis unavailable: %r", error)
            await _close_quietly(websocket, CLOSE_SERVER_ERROR)
        elif error is not None and not isinstance(error, (WebSocketDisconnect, FrameTooBig)):
            raise error


async def _close_quietly(websocket: WebSocket, code: int) -> None:
    try:
        await websocket.close(code=code)
    except (RuntimeError, WebSocketDisconnect):  # already closed
        pass


async def accept_from_allowed_origin(websocket: WebSocket, settings: HandoffSettings) -> bool:
    """Accept the handshake, or refuse it (1008) when the page comes from another site."""
    if not origin_allowed(websocket, settings):
        await websocket.close(code=CLOSE_POLICY)
        return False
    await websocket.accept()
    return True


class FrameSocket:
    """One accepted socket of JSON frames: sends under one lock (the reader and the writer share
    the socket), and reads frames until the client leaves, answering pings and bad frames itself.
    Subclasses handle their frame types in `on_frame` and return False to stop reading."""

    def __init__(self, websocket: WebSocket, settings: HandoffSettings) -> None:
        self._websocket = websocket
        self._settings = settings
        self._sending = asyncio.Lock()

    async def send(self, frame: Dict[str, Any]) -> None:
        async with self._sending:
            await self._websocket.send_json(frame)

    async def send_error(self, code: str, message_zh: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message_zh, **extra})

    async def read(self) -> None:
        while True:
            try:
                frame = await receive_frame(self._websocket, self._settings)
            except BadFrame as error:
                await self.send_error("bad_frame", error.message_zh)
                continue
            except FrameTooBig:
                await self._websocket.close(code=CLOSE_TOO_BIG)
                return
            if frame["type"] == "ping":
                await self.send({"type": "pong"})
            elif not await self.on_frame(frame):
                return

    async def on_frame(self, frame: Dict[str, Any]) -> bool:
        await self.send_error("unknown_type", "不支持的消息类型")
        return True
