"""The people of the load benchmark (bench/load.py): shoppers on the chat page and agents at the
console, all over loopback through nginx's front door, as the pages do it.

A shopper is a guest with a conversation of its own (a page-like /ws/chat client, bench/chat_socket.py)
following one scenario of bench/scenarios/load.yml: each message after the answer to the one before
and a think time. When the bot hands the conversation to a person, the shopper waits for an agent,
writes K lines each answered by the agent, and once the agent gives it back to the bot, its last
lines to the bot.

An agent signs in and keeps the console socket open (/ws/agent: the live queue and the lines of
the conversations it watches). While it has fewer than CHATS_PER_AGENT chats, it reads a waiting
ticket (a think time) and claims it if it is still waiting; it greets, answers each of the
shopper's next K lines after a think time, then gives the conversation back to the bot (交回机器人).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import httpx
import websockets

from actions.shop.sqlite_store import connect as connect_store
from actions.shop.sqlite_store import load_order
from bench.chat_socket import PageShopper, Sent
from bench.live_service import HandshakeRefused, cancel_all, connect, first_to_end, frames, open_with_hello, send_frame
from bench.load_scenarios import Scenario, Scenarios, Step
from handoff.settings import DEV_SHOPPER_TOKEN_SECRET
from handoff.shopper_tokens import GUEST_PREFIX, issue_guest_token
from tests.test_handoff import images

AGENT_PASSWORD = "load-bench-password-123"
AGENT_NAME = "客服小林"
HANDED_OFF = ("waiting", "agent")
TOKEN_TTL_SECONDS = 4 * 3600
HTTP_TIMEOUT_SECONDS = 30
CHATS_PER_AGENT = 5  # an agent of a Chinese store handles several chats at once
QUEUE_GLANCE = 5  # an agent picks among the first tickets of the queue
AGENT_PATIENCE_SECONDS = 30  # a greeted shopper who says nothing for this long is given back to the bot
ANSWER_AFTER_ACK_SECONDS = 5  # the bot's lines come with the ack: later than this, it said nothing
ACK_GRACE_SECONDS = 5  # a leaving shopper waits this long for its last acknowledgements
CONSOLE_RETRY_SECONDS = 1.0
PHOTO_SEEDS = (1, 2, 3)


@dataclass
class Pace:
    """How fast the people of the benchmark read, type and give up."""

    think: Tuple[float, float]  # a shopper, between an answer and its next message
    agent_think: Tuple[float, float]  # an agent, between a shopper's line and the answer
    agent_messages: int  # K: a handed-off shopper's lines, each answered by the agent
    reply_timeout: float  # a message not acknowledged by then is given up
    agent_wait: float  # a handed-off shopper waits this long for an agent


@dataclass
class Tally:
    """What the shoppers and agents of one stack report: errors (timestamped, so that each step
    counts its own), events that are not errors, and the measurements that are not per message."""

    errors: List[Tuple[float, str]] = field(default_factory=list)
    events: Counter = field(default_factory=Counter)
    # (conversation id, feed id of an agent line) -> when the agent's POST began
    agent_lines_posted: Dict[Tuple[str, str], float] = field(default_factory=dict)
    upload_ms: List[float] = field(default_factory=list)
    ticket_reasons: Counter = field(default_factory=Counter)

    def error(self, kind: str) -> None:
        self.errors.append((time.monotonic(), kind))

    def count(self, event: str) -> None:
        self.events[event] += 1

    def errors_between(self, start: float, end: float) -> Counter:
        return Counter(kind for at, kind in self.errors if start <= at < end)


class StoryOrders:
    """The demo store's story orders of this stack: label -> (order number, phone on the order)."""

    def __init__(self, shop_db: Path, orders: Dict[str, str], labels: Sequence[str]) -> None:
        missing = [label for label in labels if label not in orders]
        if missing:
            raise ValueError(f"the scenarios name orders the demo store does not have: {', '.join(missing)}")
        connection = connect_store(shop_db)
        try:
            self._orders = {label: (orders[label], load_order(connection, orders[label]).phone) for label in labels}
        finally:
            connection.close()

    def of(self, label: Optional[str]) -> Tuple[str, str]:
        return self._orders[label] if label else ("", "")


class PhotoBank:
    """A few real JPEG photos made once (tests/test_handoff/images.py), uploaded as the page does."""

    def __init__(self, size: Tuple[int, int]) -> None:
        self.size = size
        self.photos = [images.jpeg(size, seed=seed) for seed in PHOTO_SEEDS]

    def files(self, count: int) -> List[Tuple[str, Tuple[str, bytes, str]]]:
        return [("file", (f"IMG_{index + 1:04d}.jpg", self.photos[index % len(self.photos)], "image/jpeg"))
                for index in range(count)]


class Stage:
    """What every person of one stack shares: where the service is, the scenarios, the clock of the
    run (when to stop writing), and the tally."""

    def __init__(self, front_url: str, scenarios: Scenarios, orders: StoryOrders, photos: PhotoBank, pace: Pace,
                 client: httpx.AsyncClient, seed: int) -> None:
        self.front_url = front_url
        self.socket_url = "ws://" + front_url.split("://", 1)[1]
        self.scenarios, self.orders, self.photos, self.pace, self.client = scenarios, orders, photos, pace, client
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.stop_writing = asyncio.Event()  # the run is over: shoppers leave instead of writing again

    async def pause(self, bounds: Tuple[float, float]) -> None:
        """A think time (shorter when the run ends meanwhile)."""
        try:
            await asyncio.wait_for(self.stop_writing.wait(), self.rng.uniform(*bounds))
        except asyncio.TimeoutError:
            pass

    async def post(self, path: str, ok: Sequence[int], what: str, **kwargs: Any) -> Optional[httpx.Response]:
        """POST through the front door; an answer outside `ok`, or none, is an error."""
        try:
            response = await self.client.post(self.front_url + path, **kwargs)
        except httpx.HTTPError as error:
            self.tally.error(f"{what}: {type(error).__name__}")
            return None
        if response.status_code not in ok:
            self.tally.error(f"{what}: HTTP {response.status_code}")
        return response


@dataclass
class Message:
    """One shopper message and whom it was for."""

    sent: Sent
    to: str  # "bot" or "agent"

    @property
    def reply_ms(self) -> Optional[float]:
        answered = self.sent.answered_at
        return (answered - self.sent.sent_at) * 1000 if answered is not None else None


class SimulatedShopper:
    def __init__(self, stage: Stage, name: str, scenario: Scenario) -> None:
        self.stage, self.name, self.scenario = stage, name, scenario
        self.token = issue_guest_token(name, DEV_SHOPPER_TOKEN_SECRET, TOKEN_TTL_SECONDS)
        self.conversation_id = GUEST_PREFIX + name
        self.page = PageShopper(stage.front_url, self.token, name)
        self.messages: List[Message] = []
        self.order_id, self.phone = stage.orders.of(scenario.order)
        self.opened_at = time.monotonic()
        self.handed_off = False
        self.served_by_agent = False
        self.outcome = "running"

    async def converse(self) -> None:
        try:
            await self.page.open()
        except asyncio.TimeoutError:
            self.stage.tally.error("chat socket: not ready within 60 s")
            self.outcome = "chat never opened"
            await self.page.close()
            return
        try:
            self.outcome = await self._follow_the_scenario()
        except asyncio.CancelledError:
            self.outcome = "cut off at the end of the run"
            raise
        finally:
            await self._leave()

    async def _leave(self) -> None:
        await self.page.wait_all_acked(timeout=ACK_GRACE_SECONDS)
        await self.page.close()

    async def _follow_the_scenario(self) -> str:
        for index, step in enumerate(self.scenario.steps):
            if index and not await self._think():
                return "left at the end of the run"
            message = await self._step(step)
            if message is None:
                return "gave up: no acknowledgement"
            if message.sent.owner in HANDED_OFF:
                return await self._with_a_person()
        return "finished"

    async def _think(self) -> bool:
        await self.stage.pause(self.stage.pace.think)
        return not self.stage.stop_writing.is_set()

    async def _step(self, step: Step) -> Optional[Message]:
        text, button = self._fill(step.text), None
        if step.press:
            found = self.page.button(text)
            if found is None:
                self.stage.tally.count(f"button not offered, typed instead: {self.scenario.name} / {text}")
            else:
                text, button = found["title"], found["token"]
        photo_ids = await self._upload(step.photos) if step.photos else []
        return await self._say(text, "bot", photo_ids, button)

    def _fill(self, text: str) -> str:
        return text.replace("{order}", self.order_id).replace("{phone}", self.phone)

    async def _upload(self, count: int) -> List[str]:
        started = time.monotonic()
        response = await self.stage.post("/api/photos", (201,), "photo upload", files=self.stage.photos.files(count),
                                         headers={"Authorization": f"Bearer {self.token}"})
        if response is None or response.status_code != 201:
            return []
        self.stage.tally.upload_ms.append((time.monotonic() - started) * 1000)
        return [photo["id"] for photo in response.json()["photos"]]

    async def _say(self, text: str, to: str, photo_ids: Sequence[str] = (), button: Optional[str] = None
                   ) -> Optional[Message]:
        """Send one message and wait for its acknowledgement and its answer (None: never acknowledged)."""
        sent = await self.page.say(text, photo_ids, button)
        message = Message(sent, to)
        self.messages.append(message)
        if not await self.page.wait_until(lambda: sent.acked_at is not None, self.stage.pace.reply_timeout):
            self.stage.tally.error(f"message not acknowledged within {self.stage.pace.reply_timeout:g} s")
            return None
        answer_wait = ANSWER_AFTER_ACK_SECONDS if to == "bot" else self.stage.pace.reply_timeout
        if not await self.page.wait_until(lambda: sent.answered_at is not None, answer_wait):
            self.stage.tally.count(f"acknowledged without an answer from the {to}")
        return message

    async def _with_a_person(self) -> str:
        """Wait for an agent, write K lines to them, then go on with the bot once given back."""
        self.handed_off = True
        pace = self.stage.pace
        ending = self.stage.stop_writing.is_set
        await self.page.wait_until(lambda: self._agent_spoke() or ending(), pace.agent_wait)
        if not self._agent_spoke():
            return "left at the end of the run" if ending() else "left: no agent in time"
        self.served_by_agent = True
        for line in self.stage.scenarios.lines_to_agent(self.scenario, pace.agent_messages):
            if not await self._think():
                return "left at the end of the run"
            message = await self._say(self._fill(line), "agent")
            if message is None or message.sent.answered_at is None:
                return "left: the agent did not answer"
        if not await self.page.wait_until(lambda: self.page.owner == "bot" or ending(), pace.reply_timeout):
            return "left: never given back to the bot"
        for line in self.stage.scenarios.lines_after_return(self.scenario):
            if not await self._think():
                return "left at the end of the run"
            if await self._say(self._fill(line), "bot") is None:
                return "gave up: no acknowledgement"
        return "finished"

    def _agent_spoke(self) -> bool:
        return any(line.get("from") == "agent" for line in self.page.lines)


class SimulatedAgent:
    def __init__(self, stage: Stage, agent_id: str) -> None:
        self.stage, self.agent_id = stage, agent_id
        self.session: Optional[str] = None
        self.socket: Optional[websockets.WebSocketClientProtocol] = None
        self.waiting: List[Dict[str, Any]] = []  # the latest queue frame's rows
        self.tried: Set[str] = set()
        self.queue_changed = asyncio.Event()
        self.inboxes: Dict[str, asyncio.Queue] = {}  # conversation id -> its lines from the console socket
        self.chats = asyncio.Semaphore(CHATS_PER_AGENT)
        self.serving: Set[asyncio.Task] = set()
        self.ready = asyncio.Event()

    async def work_shift(self) -> None:
        """At the console until cancelled (the chats under way end with it); a dropped console socket
        is an error, and reopened."""
        try:
            while True:
                try:
                    await self._at_the_console()
                except (websockets.WebSocketException, OSError, asyncio.TimeoutError, HandshakeRefused) as error:
                    self.stage.tally.error(f"console socket: {type(error).__name__}")
                await asyncio.sleep(CONSOLE_RETRY_SECONDS)
        finally:
            await cancel_all(list(self.serving))

    async def _at_the_console(self) -> None:
        if self.session is None and not await self._sign_in():
            return
        async with connect(f"{self.stage.socket_url}/ws/agent") as socket:
            self.socket = socket
            await open_with_hello(socket, {"type": "hello", "session": self.session})
            self.ready.set()
            await first_to_end(self._read(), self._serve_the_queue())

    async def _sign_in(self) -> bool:
        body = {"agent_id": self.agent_id, "password": AGENT_PASSWORD}
        response = await self.stage.post("/api/agent/session", (200,), "agent sign-in", json=body)
        if response is None or response.status_code != 200:
            return False
        self.session = response.json()["session"]
        return True

    @property
    def headers(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.session}"}

    async def _read(self) -> None:
        async for frame in frames(self.socket):
            kind = frame.get("type")
            if kind == "queue":
                self.waiting = frame.get("tickets") or []
                self.queue_changed.set()
            elif kind == "line" and frame.get("conversation_id") in self.inboxes:
                self.inboxes[frame["conversation_id"]].put_nowait(frame["line"])
            elif kind == "error":
                self.stage.tally.error(f"console error frame: {frame.get('code')}")

    async def _serve_the_queue(self) -> None:
        while True:
            await self.chats.acquire()
            try:
                row = await self._next_ticket()
                claimed = await self._still_waiting_once_read(row) and await self._claim(row["ticket_id"])
            except BaseException:  # cancelled, or the console socket dropped: the chat slot is free again
                self.chats.release()
                raise
            if claimed:
                self.stage.tally.ticket_reasons[(row.get("ticket") or {}).get("reason", "?")] += 1
                task = asyncio.create_task(self._serve(row["ticket_id"], row["ticket"]["conversation_id"]))
                self.serving.add(task)
                task.add_done_callback(self.serving.discard)
            else:
                self.chats.release()

    async def _next_ticket(self) -> Dict[str, Any]:
        """A waiting ticket this agent has not tried, one of the first QUEUE_GLANCE (the next to serve
        come first): colleagues looking at the same queue do not all pick the same one."""
        while True:
            untried = [row for row in self.waiting if row["ticket_id"] not in self.tried]
            if untried:
                row = self.stage.rng.choice(untried[:QUEUE_GLANCE])
                self.tried.add(row["ticket_id"])
                return row
            self.queue_changed.clear()
            await self.queue_changed.wait()

    async def _still_waiting_once_read(self, row: Dict[str, Any]) -> bool:
        """An agent reads a ticket before claiming it; meanwhile a colleague may have taken it (the
        live queue no longer lists it)."""
        await self.stage.pause(self.stage.pace.agent_think)
        if any(waiting["ticket_id"] == row["ticket_id"] for waiting in self.waiting):
            return True
        self.stage.tally.count("ticket taken by a colleague while reading it")
        return False

    async def _claim(self, ticket_id: str) -> bool:
        response = await self.stage.post(f"/api/agent/tickets/{ticket_id}/claim", (200, 409), "claim",
                                          headers=self.headers)
        if response is not None and response.status_code == 409:
            self.stage.tally.count("claim lost to a colleague (409)")
        return response is not None and response.status_code == 200

    async def _serve(self, ticket_id: str, conversation_id: str) -> None:
        """Greet, answer the shopper's next K lines, give the conversation back to the bot."""
        inbox = self.inboxes[conversation_id] = asyncio.Queue()
        script, pace = self.stage.scenarios.agent, self.stage.pace
        try:
            greeting_id = await self._write(conversation_id, script.greeting)
            if greeting_id is None:
                return
            await send_frame(self.socket, {"type": "watch", "conversation_id": conversation_id, "after": greeting_id})
            for number in range(pace.agent_messages):
                if not await self._shopper_wrote(inbox):
                    self.stage.tally.count("agent gave back a shopper who had left")
                    break
                await self.stage.pause(pace.agent_think)
                if await self._write(conversation_id, script.reply(number)) is None:
                    return
            await self._give_back(ticket_id, script.return_note)
        finally:
            self.inboxes.pop(conversation_id, None)
            self.chats.release()
            with contextlib.suppress(websockets.WebSocketException, OSError):
                if self.socket is not None:
                    await send_frame(self.socket, {"type": "unwatch", "conversation_id": conversation_id})

    @staticmethod
    async def _shopper_wrote(inbox: asyncio.Queue) -> bool:
        deadline = time.monotonic() + AGENT_PATIENCE_SECONDS
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = await asyncio.wait_for(inbox.get(), remaining)
            except asyncio.TimeoutError:
                return False
            if line.get("from") == "shopper":
                return True
        return False

    async def _write(self, conversation_id: str, text: str) -> Optional[str]:
        """The agent's line to the shopper; its feed id (None: refused)."""
        started = time.monotonic()
        response = await self.stage.post(f"/api/agent/conversations/{conversation_id}/messages", (201,),
                                         "agent message", json={"text": text}, headers=self.headers)
        if response is None or response.status_code != 201:
            return None
        line_id = response.json()["message_id"]
        self.stage.tally.agent_lines_posted[(conversation_id, line_id)] = started
        return line_id

    async def _give_back(self, ticket_id: str, note: str) -> None:
        await self.stage.post(f"/api/agent/tickets/{ticket_id}/return", (200,), "give back to the bot",
                              json={"note": note}, headers=self.headers)
