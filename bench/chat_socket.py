"""A shopper's chat page as a program: /ws/chat the way handoff/static/chat.js uses it.

- hello with the signed token and the last line id seen, so a reconnect gets every line once;
- each message with its own client id, kept until acknowledged: after a reconnect every
  unacknowledged message is sent again (the gateway handles a client id once);
- an error frame for a message is what the page shows with a 重发 button: the shopper taps it
  after `retry_seconds`;
- a dropped socket (an instance killed, Redis restarting) reconnects with backoff;
- a message may carry uploaded photos (their ids) or be a button pressed (its signed token).

Used by the load benchmark (bench/load.py) and the fault-injection tests (tests/test_faults.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import websockets

FIRST_RETRY_SECONDS = 0.2
MAX_RETRY_SECONDS = 2.0


@dataclass
class Sent:
    client_id: str
    text: str
    sent_at: float  # first send (time.monotonic)
    acked_at: Optional[float] = None
    answered_at: Optional[float] = None  # the first bot or agent line after it
    tries: int = 1
    errors: List[str] = field(default_factory=list)  # the Chinese messages the shopper was shown
    photo_ids: Tuple[str, ...] = ()
    button: Optional[str] = None  # the signed token of the button pressed (text is its title)
    owner: Optional[str] = None  # who had the conversation when the message was acknowledged


class PageShopper:
    def __init__(self, base_url: str, token: str, name: str, retry_seconds: float = 1.0) -> None:
        self.url = base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/ws/chat"
        self.token, self.name, self.retry_seconds = token, name, retry_seconds
        self.lines: List[Dict[str, Any]] = []  # every line once, in feed order, with its "id"
        self.arrived_at: Dict[str, float] = {}  # line id -> when it reached the page (time.monotonic)
        self.sent: "OrderedDict[str, Sent]" = OrderedDict()
        self.owner: Optional[str] = None
        self.conversation_id: Optional[str] = None
        self.connections = 0
        self.refused: List[Dict[str, Any]] = []  # error frames not about a message
        self._last_id = "0-0"
        self._socket: Optional[Any] = None
        self._ready = asyncio.Event()
        self._changed = asyncio.Event()
        self._ids = itertools.count(1)
        self._task: Optional[asyncio.Task] = None
        self._closing = False
        self._answering: Optional[Sent] = None  # the shopper's message the next bot lines answer

    # ---- what a shopper does ------------------------------------------------------------

    async def open(self) -> None:
        self._task = asyncio.create_task(self._stay_connected())
        await asyncio.wait_for(self._ready.wait(), timeout=60)

    async def say(self, text: str, photo_ids: Sequence[str] = (), button: Optional[str] = None) -> Sent:
        sent = Sent(f"{self.name}-{next(self._ids)}", text, time.monotonic(), photo_ids=tuple(photo_ids), button=button)
        self.sent[sent.client_id] = sent
        await self._transmit(sent)
        return sent

    def button(self, title_part: str) -> Optional[Dict[str, str]]:
        """The button ({"title", "token"}) of the latest bot line with buttons whose title has `title_part`."""
        for line in reversed(self.lines):
            if line.get("from") == "bot" and line.get("buttons"):
                return next((b for b in line["buttons"] if title_part in b.get("title", "")), None)
        return None

    async def wait_answered(self, sent: Sent, timeout: float = 60) -> bool:
        """Acknowledged and answered (a bot or agent line after it), or handed to a person."""
        return await self.wait_until(lambda: sent.acked_at and (sent.answered_at or self.owner == "agent"), timeout)

    async def wait_all_acked(self, timeout: float = 120) -> bool:
        return await self.wait_until(lambda: all(s.acked_at is not None for s in self.sent.values()), timeout)

    async def wait_until(self, condition: Callable[[], Any], timeout: float) -> bool:
        """Wait for `condition` to hold, checked at each frame (and each second); False at the timeout."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 1.0))
        return True

    async def close(self) -> None:
        self._closing = True
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    # ---- what the page checks -----------------------------------------------------------

    def shopper_lines(self) -> List[Dict[str, Any]]:
        return [line for line in self.lines if line.get("from") == "shopper"]

    # ---- the socket -------------------------------------------------------------------------

    async def _stay_connected(self) -> None:
        retry = FIRST_RETRY_SECONDS
        while not self._closing:
            try:
                async with websockets.connect(self.url, open_timeout=10, close_timeout=1, max_size=2**22) as socket:
                    self._socket = socket
                    self.connections += 1
                    await socket.send(json.dumps({"type": "hello", "token": self.token, "after": self._last_id}))
                    async for raw in socket:
                        if await self._on_frame(json.loads(raw)):
                            retry = FIRST_RETRY_SECONDS
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
                pass
            finally:
                self._socket = None
                self._ready.clear()
            if not self._closing:
                await asyncio.sleep(retry)
                retry = min(retry * 2, MAX_RETRY_SECONDS)

    async def _on_frame(self, frame: Dict[str, Any]) -> bool:
        kind = frame.get("type")
        if kind == "ready":
            self.conversation_id = frame.get("conversation_id")
            self._ready.set()
            for sent in list(self.sent.values()):  # the page sends every pending message again
                if sent.acked_at is None:
                    await self._transmit(sent, again=True)
            return True
        if kind == "line":
            self._on_line(frame["id"], frame["line"])
        elif kind == "ack":
            sent = self.sent.get(frame.get("client_id") or "")
            if sent is not None and sent.acked_at is None:
                sent.acked_at, sent.owner = time.monotonic(), frame.get("owner")
        elif kind == "status":
            self.owner = frame.get("owner")
        elif kind == "error":
            self._on_error(frame)
        self._changed.set()
        return False

    def _on_line(self, line_id: str, line: Dict[str, Any]) -> None:
        if any(seen["id"] == line_id for seen in self.lines[-50:]):
            return  # the page keeps a set of ids; the last ones are enough here
        self._last_id = line_id
        self.arrived_at[line_id] = time.monotonic()
        self.lines.append({"id": line_id, **line})
        if line.get("from") == "shopper":
            self._answering = self.sent.get(line.get("client_id") or "")
        elif line.get("from") in ("bot", "agent") and self._answering is not None:
            if self._answering.answered_at is None:  # the feed puts a message's answers right after it
                self._answering.answered_at = time.monotonic()

    def _on_error(self, frame: Dict[str, Any]) -> None:
        sent = self.sent.get(frame.get("client_id") or "")
        if sent is None:
            self.refused.append(frame)
            return
        sent.errors.append(frame.get("message") or "")
        asyncio.get_running_loop().call_later(self.retry_seconds, lambda: asyncio.ensure_future(self._retry(sent)))

    async def _retry(self, sent: Sent) -> None:
        """The shopper taps 重发."""
        if sent.acked_at is None and not self._closing:
            await self._transmit(sent, again=True)

    async def _transmit(self, sent: Sent, again: bool = False) -> None:
        if again:
            sent.tries += 1
        frame: Dict[str, Any] = {"type": "message", "client_id": sent.client_id, "text": sent.text}
        if sent.photo_ids:
            frame["photo_ids"] = list(sent.photo_ids)
        if sent.button:
            frame["button"] = sent.button
        if self._socket is not None and self._ready.is_set():
            with contextlib.suppress(websockets.WebSocketException, OSError):
                await self._socket.send(json.dumps(frame, ensure_ascii=False))
