"""Handoff benchmark: angry shoppers reach agents, and lines flow both ways over the live sockets.

Starts the whole assistant (scripts/stack.py) on a fresh Redis database, opens M shoppers' chats
and signs in N agents (default 50 and 5), all on loopback and through the same WebSockets the chat
page (/ws/chat) and the console (/ws/agent) use:

1. every agent signs in (POST /api/agent/session), opens its console socket and reads `queue` frames;
2. every shopper opens its chat socket and sends an angry first message as a `message` frame; the
   gateway hands the conversation off (the ack must say owner "waiting", or "agent" when an agent
   was quicker than the end of the turn; "bot" is an error);
3. agents claim tickets one at a time (a 409 means a colleague won it: not an error), watch the
   conversation on their socket and post K numbered messages (POST …/conversations/{id}/messages);
4. each shopper, once it sees the first agent line, sends K numbered messages on its socket, each
   after the ack of the one before.

Measured (p50/p95/p99, with targets):

- ticket visible (p95 <= 1000 ms): from the shopper sending the angry frame to the first `queue`
  frame, at any agent, listing that conversation's ticket (the bot's turn and the handoff action
  run in between);
- agent -> shopper delivery (p95 <= 200 ms): from the start of the agent's POST to the shopper's
  `line` frame;
- shopper -> agent delivery (p95 <= 200 ms): from the shopper sending its frame to the agent's
  `line` frame;
- each way (all 0): messages lost (expected but not arrived when the run ends, never sent
  included), doubled (a line arriving again: same line id or same number), conversations out of
  order (numbers not in sending order, or line ids not increasing) and misdelivered (a number sent
  to another conversation);
- errors: non-2xx answers (409 on a claim aside), error frames, broken sockets, and conversations
  still unfinished when --timeout stops the run.

Where the time goes: each latency is also cut at the service's own stamp (the ticket's created_at,
the feed line's "at"; same machine, same clock): "until queued" / "until in feed" is the bot's turn
or the HTTP handling, the rest is the fan-out to the reading socket.

Not a test: prints a table and writes bench/results/handoff.json.

    make bench-handoff   # or: python -m scripts.run --redis-only -- python -m bench.handoff
                         #     [--shoppers 50 --agents 5 --messages 3 --timeout 120 --ramps 0,10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import sys
import tempfile
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Set

import httpx
import redis
import websockets

from bench.live_service import (
    HandshakeRefused,
    cancel_all,
    connect,
    create_agent_accounts,
    first_to_end,
    frames,
    happened_within,
    open_with_hello,
    send_frame,
    stream_order,
)
from bench.stack_bench import at_least_one, latency, redis_and_model, write_results
from handoff.settings import DEV_SHOPPER_TOKEN_SECRET
from handoff.shopper_tokens import issue_guest_token
from scripts.settings import PROJECT_ROOT
from scripts.stack import Assistant, running_assistant

RESULTS = PROJECT_ROOT / "bench" / "results" / "handoff.json"
BENCH_DATABASE = 13  # its own Redis database, emptied before and after (the tests use 15 and 14)
PASSWORD = "bench-password-123"
ANGRY = "等了三天了还没人管！！！你们到底怎么回事，气死我了"
AGENT_TEXT = "您好，客服在处理您的问题 #{number}"
SHOPPER_TEXT = "好的，我再补充一下情况 #{number}"
NUMBER = re.compile(r"#(\d+)\s*$")
TRIGGER_CLIENT_ID = "angry-first"
REPLY_CLIENT_ID = "bench-{number}"
HANDED_OFF = ("waiting", "agent")
HTTP_TIMEOUT_SECONDS = 30
AGENTS_READY_SECONDS = 30  # agents are at their consoles before the shoppers come
SETTLE_SECONDS = 1.0  # after the last expected line: time for a doubled one to show
TARGETS = {
    "ticket_visible_p95_ms": 1000,
    "agent_to_shopper_p95_ms": 200,
    "shopper_to_agent_p95_ms": 200,
    "lost": 0,
    "doubled": 0,
    "conversations_out_of_order": 0,
    "misdelivered": 0,
}


def numbered(line: Dict[str, Any], sender: str) -> Optional[int]:
    """The bench number (#n) of a line from `sender`; None for any other line."""
    match = NUMBER.search(line.get("text") or "") if line.get("from") == sender else None
    return int(match.group(1)) if match else None


def elapsed_ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


@dataclass
class Direction:
    """One way of one conversation: the numbered messages sent, and the lines its reader got."""

    sent_at: Dict[int, float] = field(default_factory=dict)  # number -> when sent; insertion = sending order
    sent_at_wall: Dict[int, float] = field(default_factory=dict)  # the same, on the clock the feed stamps lines with
    attempts: int = 0  # messages tried (refused ones are not in sent_at)
    arrived: List[int] = field(default_factory=list)  # numbers, first arrivals, in arrival order
    delivery_ms: List[float] = field(default_factory=list)  # sent -> arrived, per first arrival
    until_feed_ms: List[float] = field(default_factory=list)  # sent -> written into the feed (the line's "at")
    doubled: int = 0
    misdelivered: int = 0
    ids_out_of_order: bool = False
    _line_ids: Set[str] = field(default_factory=set)
    _last_line_id: Optional[str] = None

    def send(self, number: int) -> None:
        self.attempts += 1
        self.sent_at[number] = time.perf_counter()
        self.sent_at_wall[number] = time.time()

    def refused(self, number: int) -> None:
        self.sent_at.pop(number, None)

    def line(self, line_id: str, line: Dict[str, Any], number: Optional[int]) -> bool:
        """Note a line the reader got (any line, for the id checks); True when it is a numbered
        message arriving for the first time (its delays noted)."""
        if line_id in self._line_ids or (number is not None and number in self.arrived):
            self.doubled += 1
            return False
        if self._last_line_id is not None and stream_order(line_id) <= stream_order(self._last_line_id):
            self.ids_out_of_order = True
        self._line_ids.add(line_id)
        self._last_line_id = line_id
        if number is None:
            return False
        if number not in self.sent_at:
            self.misdelivered += 1
            return False
        self.arrived.append(number)
        self.delivery_ms.append(elapsed_ms(self.sent_at[number]))
        if isinstance(line.get("at"), (int, float)):
            self.until_feed_ms.append((line["at"] - self.sent_at_wall[number]) * 1000)
        return True

    def done(self, messages: int) -> bool:
        return self.attempts >= messages and all(number in self.arrived for number in self.sent_at)

    @property
    def out_of_order(self) -> bool:
        in_sending_order = [number for number in self.sent_at if number in self.arrived]
        return self.ids_out_of_order or self.arrived != in_sending_order


@dataclass
class Conversation:
    conversation_id: str
    to_shopper: Direction = field(default_factory=Direction)
    to_agent: Direction = field(default_factory=Direction)
    triggered_at: Optional[float] = None
    triggered_at_wall: Optional[float] = None  # on the clock the service stamps tickets with
    visible_ms: Optional[float] = None  # angry frame sent -> ticket in a queue frame
    queued_ms: Optional[float] = None  # angry frame sent -> ticket created (its created_at)
    handed_off: bool = False
    given_up: bool = False

    def settled(self, messages: int) -> bool:
        return self.given_up or (
            self.handed_off and self.to_shopper.done(messages) and self.to_agent.done(messages)
        )


class Run:
    """Everything shoppers and agents saw, and what they share: numbers, errors, the end."""

    def __init__(self, handoff_url: str, shoppers: int, agents: int, messages: int) -> None:
        self.handoff_url = handoff_url
        self.socket_url = "ws://" + handoff_url.split("://", 1)[1]
        self.messages = messages
        self.shoppers = [f"bench-{i}" for i in range(shoppers)]
        self.agents = [f"bench.agent{i}" for i in range(agents)]
        self.conversations = {f"guest:{name}": Conversation(f"guest:{name}") for name in self.shoppers}
        self.numbers = itertools.count(1)  # every numbered message, both ways, has its own
        self.errors: Counter = Counter()
        self.claimed = 0
        self.claim_conflicts = 0
        self.queue_frames = 0  # received by all agents: each one is a snapshot of the whole queue
        self.ticket_reasons: Counter = Counter()  # why the bot handed off: anger (the gateway) or a rule
        self.agents_at_console = 0
        self.all_agents_ready = asyncio.Event()
        self.finished = asyncio.Event()

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def agent_ready(self) -> None:
        self.agents_at_console += 1
        if self.agents_at_console == len(self.agents):
            self.all_agents_ready.set()

    def ticket_seen(self, ticket: Dict[str, Any]) -> None:
        conversation = self.conversations.get(ticket["ticket"]["conversation_id"])
        if conversation is None or conversation.visible_ms is not None or conversation.triggered_at is None:
            return
        conversation.visible_ms = elapsed_ms(conversation.triggered_at)
        conversation.queued_ms = (ticket["created_at"] - conversation.triggered_at_wall) * 1000
        self.ticket_reasons[ticket["ticket"]["reason"]] += 1

    def give_up(self, conversation: Conversation) -> None:
        conversation.given_up = True
        self.check_finished()

    def check_finished(self) -> None:
        if all(c.settled(self.messages) for c in self.conversations.values()):
            self.finished.set()

    async def post(self, client: httpx.AsyncClient, path: str, ok: Sequence[int], what: str,
                   **kwargs: Any) -> Optional[httpx.Response]:
        """POST to the service; an answer outside `ok` or no answer counts as an error (None: no answer)."""
        try:
            response = await client.post(self.handoff_url + path, **kwargs)
        except httpx.HTTPError as error:
            self.error(f"{what}: {type(error).__name__}")
            return None
        if response.status_code not in ok:
            self.error(f"{what}: HTTP {response.status_code}")
        return response

    async def guarded(self, what: str, job: Awaitable[None], on_failure: Callable[[], None] = lambda: None) -> None:
        """Run a shopper's or an agent's job; a broken socket or handshake is an error, not a crash."""
        try:
            await job
        except (websockets.WebSocketException, OSError, asyncio.TimeoutError, HandshakeRefused) as error:
            self.error(f"{what}: {type(error).__name__}")
            on_failure()


class ShopperChat:
    """One shopper's chat page: the angry message, then K numbered messages once an agent speaks."""

    def __init__(self, run: Run, name: str) -> None:
        self.run = run
        self.name = name
        self.conversation = run.conversations[f"guest:{name}"]
        self.socket: Optional[websockets.WebSocketClientProtocol] = None
        self.replying = False

    async def chat(self, delay: float) -> None:
        await asyncio.sleep(delay)
        token = issue_guest_token(self.name, DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
        async with connect(f"{self.run.socket_url}/ws/chat") as socket:
            self.socket = socket
            await open_with_hello(socket, {"type": "hello", "token": token, "after": "0-0"})
            self.conversation.triggered_at = time.perf_counter()
            self.conversation.triggered_at_wall = time.time()
            await self.send_message(TRIGGER_CLIENT_ID, ANGRY)
            async for frame in frames(socket):
                await self.on_frame(frame)

    async def send_message(self, client_id: str, text: str) -> None:
        await send_frame(self.socket, {"type": "message", "client_id": client_id, "text": text})

    async def on_frame(self, frame: Dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "line":
            await self.on_line(frame)
        elif kind == "ack":
            await self.on_ack(frame)
        elif kind == "error":
            await self.on_error(frame)

    async def on_line(self, frame: Dict[str, Any]) -> None:
        if not self.conversation.to_shopper.line(frame["id"], frame["line"], numbered(frame["line"], "agent")):
            return
        if not self.replying:  # the first agent line: the shopper answers
            self.replying = True
            await self.send_next_reply()
        self.run.check_finished()

    async def on_ack(self, frame: Dict[str, Any]) -> None:
        if frame.get("duplicate"):
            self.run.error("shopper message acked as a duplicate")
        if frame.get("client_id") == TRIGGER_CLIENT_ID:
            self.on_trigger_handled(frame.get("owner"))
        else:
            await self.send_next_reply()

    def on_trigger_handled(self, owner: Optional[str]) -> None:
        if owner in HANDED_OFF:
            self.conversation.handed_off = True
            return
        self.run.error(f"angry message not handed off (owner {owner})")
        self.run.give_up(self.conversation)

    async def on_error(self, frame: Dict[str, Any]) -> None:
        self.run.error(f"chat socket error frame: {frame.get('code')}")
        client_id = frame.get("client_id")
        if client_id == TRIGGER_CLIENT_ID:
            self.run.give_up(self.conversation)
        elif isinstance(client_id, str) and client_id.startswith("bench-"):
            self.conversation.to_agent.refused(int(client_id.rsplit("-", 1)[1]))
            await self.send_next_reply()

    async def send_next_reply(self) -> None:
        """The shopper's next numbered message, until K were sent."""
        to_agent = self.conversation.to_agent
        if to_agent.attempts >= self.run.messages:
            self.run.check_finished()
            return
        number = next(self.run.numbers)
        to_agent.send(number)
        await self.send_message(REPLY_CLIENT_ID.format(number=number), SHOPPER_TEXT.format(number=number))


class AgentConsole:
    """One agent at the console: reads the live queue, claims tickets one at a time, serves each."""

    def __init__(self, run: Run, agent_id: str, index: int, client: httpx.AsyncClient) -> None:
        self.run = run
        self.agent_id = agent_id
        self.index = index
        self.client = client
        self.headers: Dict[str, str] = {}
        self.socket: Optional[websockets.WebSocketClientProtocol] = None
        self.waiting: List[Dict[str, Any]] = []  # the latest queue frame's tickets
        self.tried: Set[str] = set()
        self.queue_changed = asyncio.Event()

    async def work_shift(self) -> None:
        session = await self.sign_in()
        if session is None:
            return
        self.headers = {"Authorization": f"Bearer {session}"}
        async with connect(f"{self.run.socket_url}/ws/agent") as socket:
            self.socket = socket
            await open_with_hello(socket, {"type": "hello", "session": session})
            self.run.agent_ready()
            await first_to_end(self.read(), self.serve_queue())

    async def sign_in(self) -> Optional[str]:
        body = {"agent_id": self.agent_id, "password": PASSWORD}
        response = await self.run.post(self.client, "/api/agent/session", (200,), "sign in", json=body)
        return response.json()["session"] if response is not None and response.status_code == 200 else None

    async def read(self) -> None:
        async for frame in frames(self.socket):
            self.on_frame(frame)

    def on_frame(self, frame: Dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "queue":
            self.on_queue(frame["tickets"])
        elif kind == "line":
            self.on_line(frame)
        elif kind == "error":
            self.run.error(f"console error frame: {frame.get('code')}")

    def on_queue(self, tickets: List[Dict[str, Any]]) -> None:
        self.run.queue_frames += 1
        self.waiting = tickets
        for ticket in tickets:
            self.run.ticket_seen(ticket)
        self.queue_changed.set()

    def on_line(self, frame: Dict[str, Any]) -> None:
        conversation = self.run.conversations.get(frame.get("conversation_id"))
        if conversation is None:
            return
        if conversation.to_agent.line(frame["id"], frame["line"], numbered(frame["line"], "shopper")):
            self.run.check_finished()

    async def serve_queue(self) -> None:
        while True:
            ticket = await self.next_ticket()
            if await self.claim(ticket["ticket_id"]):
                await self.serve(self.run.conversations[ticket["ticket"]["conversation_id"]])

    async def next_ticket(self) -> Dict[str, Any]:
        """A waiting ticket this agent has not tried yet: its own share first (fewer 409s)."""
        while True:
            untried = [t for t in self.waiting if t["ticket_id"] not in self.tried]
            if untried:
                ticket = min(untried, key=lambda t: not self.my_share(t["ticket_id"]))  # stable: queue order kept
                self.tried.add(ticket["ticket_id"])
                return ticket
            self.queue_changed.clear()
            await self.queue_changed.wait()

    def my_share(self, ticket_id: str) -> bool:
        return zlib.crc32(ticket_id.encode()) % len(self.run.agents) == self.index

    async def claim(self, ticket_id: str) -> bool:
        response = await self.run.post(self.client, f"/api/agent/tickets/{ticket_id}/claim", (200, 409), "claim",
                                       headers=self.headers)
        if response is not None and response.status_code == 409:
            self.run.claim_conflicts += 1
        won = response is not None and response.status_code == 200
        self.run.claimed += won
        return won

    async def serve(self, conversation: Conversation) -> None:
        await send_frame(self.socket, {"type": "watch", "conversation_id": conversation.conversation_id, "after": "0-0"})
        for _ in range(self.run.messages):
            await self.say(conversation)
        self.run.check_finished()

    async def say(self, conversation: Conversation) -> None:
        number = next(self.run.numbers)
        conversation.to_shopper.send(number)
        path = f"/api/agent/conversations/{conversation.conversation_id}/messages"
        response = await self.run.post(self.client, path, (201,), "agent message", headers=self.headers,
                                       json={"text": AGENT_TEXT.format(number=number)})
        if response is None or response.status_code != 201:
            conversation.to_shopper.refused(number)


async def measure(assistant: Assistant, options: argparse.Namespace) -> Dict:
    run = Run(assistant.handoff_url, options.shoppers, options.agents, options.messages)
    await create_agent_accounts(assistant.env["REDIS_URL"], run.agents, PASSWORD)
    began = time.perf_counter()
    limits = httpx.Limits(max_connections=options.agents + 10)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, limits=limits) as client:
        jobs = [asyncio.create_task(run.guarded("console socket", AgentConsole(run, agent_id, i, client).work_shift()))
                for i, agent_id in enumerate(run.agents)]
        await happened_within(run.all_agents_ready, min(AGENTS_READY_SECONDS, options.timeout))
        jobs += [asyncio.create_task(shopper_job(run, name, options.ramp * i / len(run.shoppers)))
                 for i, name in enumerate(run.shoppers)]
        finished = await happened_within(run.finished, options.timeout - (time.perf_counter() - began))
        if finished:
            await asyncio.sleep(SETTLE_SECONDS)
        await cancel_all(jobs)
    return figures(run, options, time.perf_counter() - began, timed_out=not finished)


def shopper_job(run: Run, name: str, delay: float) -> Awaitable[None]:
    chat = ShopperChat(run, name)
    return run.guarded("chat socket", chat.chat(delay), on_failure=lambda: run.give_up(chat.conversation))


def direction_figures(directions: Sequence[Direction], expected: int) -> Dict[str, int]:
    sent = sum(len(d.sent_at) for d in directions)
    arrived = sum(len(d.arrived) for d in directions)
    return {
        "expected": expected, "sent": sent, "arrived": arrived,
        "lost": expected - arrived,  # what did not arrive, sent or not
        "lost_after_sending": sent - arrived,
        "doubled": sum(d.doubled for d in directions),
        "conversations_out_of_order": sum(d.out_of_order for d in directions),
        "misdelivered": sum(d.misdelivered for d in directions),
    }


def joined(lists: Sequence[List[float]]) -> List[float]:
    return [value for values in lists for value in values]


def figures(run: Run, options: argparse.Namespace, seconds: float, timed_out: bool) -> Dict:
    conversations = list(run.conversations.values())
    unfinished = sum(not c.settled(run.messages) for c in conversations)
    if unfinished:  # timed out: each is an error (a timeout)
        run.errors["conversation unfinished at the timeout"] += unfinished
    expected = len(conversations) * run.messages
    result = {
        "transport": "websocket",
        "shoppers": len(run.shoppers), "agents": len(run.agents), "messages_each_way": run.messages,
        "timeout_seconds": options.timeout, "ramp_seconds": options.ramp,
        "ticket_visible_ms": latency([c.visible_ms for c in conversations]),
        "agent_to_shopper_ms": latency(joined([c.to_shopper.delivery_ms for c in conversations])),
        "shopper_to_agent_ms": latency(joined([c.to_agent.delivery_ms for c in conversations])),
        # Where the time goes: until the service wrote the ticket or the line (the rest is the fan-out).
        "until_ticket_queued_ms": latency([c.queued_ms for c in conversations]),
        "agent_to_shopper_until_feed_ms": latency(joined([c.to_shopper.until_feed_ms for c in conversations])),
        "shopper_to_agent_until_feed_ms": latency(joined([c.to_agent.until_feed_ms for c in conversations])),
        "agent_to_shopper": direction_figures([c.to_shopper for c in conversations], expected),
        "shopper_to_agent": direction_figures([c.to_agent for c in conversations], expected),
        "handed_off": sum(c.handed_off for c in conversations),
        "tickets_visible": sum(c.visible_ms is not None for c in conversations),
        "ticket_reasons": dict(run.ticket_reasons),
        "claimed": run.claimed, "claim_conflicts": run.claim_conflicts, "queue_frames": run.queue_frames,
        "errors": sum(run.errors.values()), "error_kinds": dict(run.errors),
        "timed_out": timed_out, "seconds": seconds,
        "targets": TARGETS,
    }
    result["met"] = targets_met(result)
    result["all_met"] = all(result["met"].values())
    return result


def targets_met(f: Dict) -> Dict[str, bool]:
    def p95_within(key: str, target: str) -> bool:
        return f[key]["samples"] > 0 and f[key]["p95"] <= TARGETS[target]

    def none_either_way(count: str) -> bool:
        return f["agent_to_shopper"][count] <= TARGETS[count] and f["shopper_to_agent"][count] <= TARGETS[count]

    return {
        "ticket_visible_p95_ms": p95_within("ticket_visible_ms", "ticket_visible_p95_ms"),
        "agent_to_shopper_p95_ms": p95_within("agent_to_shopper_ms", "agent_to_shopper_p95_ms"),
        "shopper_to_agent_p95_ms": p95_within("shopper_to_agent_ms", "shopper_to_agent_p95_ms"),
        **{count: none_either_way(count) for count in ("lost", "doubled", "conversations_out_of_order", "misdelivered")},
    }


def table(f: Dict) -> str:
    def verdict(target: str) -> str:
        return "met" if f["met"][target] else "MISSED"

    def part_row(label: str, key: str) -> str:
        v = f[key]
        return f"{label:<27} p50/p95/p99 {v['p50']:6.0f} / {v['p95']:6.0f} / {v['p99']:6.0f} ms"

    def latency_row(label: str, key: str, target: str) -> str:
        return f"{part_row(label, key)}  n={f[key]['samples']:<4} target p95 <= {TARGETS[target]}: {verdict(target)}"

    def counts_row(label: str, key: str) -> str:
        d = f[key]
        return (f"{label:<27} sent {d['sent']}/{d['expected']}, arrived {d['arrived']}: lost {d['lost']}, "
                f"doubled {d['doubled']}, out of order {d['conversations_out_of_order']}, "
                f"misdelivered {d['misdelivered']}")

    kinds = ", ".join(f"{kind} x{count}" for kind, count in f["error_kinds"].items())
    reasons = ", ".join(f"{reason} {count}" for reason, count in f["ticket_reasons"].items())
    return "\n".join([
        f"{f['shoppers']} angry shoppers, {f['agents']} agents, {f['messages_each_way']} messages each way, "
        f"over WebSockets, {f['seconds']:.0f} s{' (TIMED OUT)' if f['timed_out'] else ''}",
        latency_row("ticket visible to an agent", "ticket_visible_ms", "ticket_visible_p95_ms"),
        part_row("  of which until queued", "until_ticket_queued_ms"),
        latency_row("agent -> shopper delivery", "agent_to_shopper_ms", "agent_to_shopper_p95_ms"),
        part_row("  of which until in feed", "agent_to_shopper_until_feed_ms"),
        latency_row("shopper -> agent delivery", "shopper_to_agent_ms", "shopper_to_agent_p95_ms"),
        part_row("  of which until in feed", "shopper_to_agent_until_feed_ms"),
        counts_row("agent -> shopper messages", "agent_to_shopper"),
        counts_row("shopper -> agent messages", "shopper_to_agent"),
        f"handed off {f['handed_off']}/{f['shoppers']}, tickets seen {f['tickets_visible']} ({reasons}), claimed {f['claimed']} "
        f"(409s {f['claim_conflicts']}), queue frames {f['queue_frames']}, errors {f['errors']}{': ' + kinds if kinds else ''}",
        f"targets: {'all met' if f['all_met'] else 'missed: ' + ', '.join(k for k, ok in f['met'].items() if not ok)}",
    ])


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=at_least_one, default=50)
    parser.add_argument("--agents", type=at_least_one, default=5)
    parser.add_argument("--messages", type=at_least_one, default=3, help="numbered messages each way per conversation (K)")
    parser.add_argument("--timeout", "--limit", type=float, default=120, help="stop the run after this many seconds")
    parser.add_argument("--ramps", type=ramps, default=[0.0, 10.0],
                        help="comma-separated runs: shoppers open their chats evenly over this many seconds "
                             "(0: all in the same instant); default 0,10")
    args = parser.parse_args(argv)
    redis_url, model = redis_and_model("bench-handoff")
    bench_url = redis_url.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}"
    runs, tables = {}, []
    for ramp in args.ramps:  # a fresh stack and database per run
        args.ramp = ramp
        redis.Redis.from_url(bench_url).flushdb()
        with tempfile.TemporaryDirectory() as workdir, running_assistant(model, bench_url, Path(workdir)) as assistant:
            results = asyncio.run(measure(assistant, args))
        runs[f"arrivals_over_{ramp:g}s"] = results
        tables.append(table(results))
    redis.Redis.from_url(bench_url).flushdb()
    write_results(RESULTS, {"runs": runs}, model, "\n\n".join(tables))
    return 0


def ramps(value: str) -> List[float]:
    try:
        seconds = [float(part) for part in value.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a list of seconds: {value!r}") from error
    if not seconds or any(s < 0 for s in seconds):
        raise argparse.ArgumentTypeError("give one or more seconds >= 0, e.g. 0,10")
    return seconds


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
