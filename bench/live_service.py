"""What the benchmarks that talk to the live handoff service share: its WebSocket frames (the chat
page's /ws/chat and the console's /ws/agent speak the same hello/ready/frames), agent accounts,
and running or stopping many asyncio jobs. Used by bench/handoff.py and bench/load.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator, Awaitable, Dict, Sequence, Tuple

import websockets
from redis.asyncio import Redis
from websockets.legacy.client import Connect

from handoff.agents import AgentStore

MAX_FRAME_BYTES = 16 * 1024 * 1024  # a queue frame carries every waiting ticket


class HandshakeRefused(Exception):
    """The socket's first answer was not `ready`."""


def stream_order(line_id: str) -> Tuple[int, int]:
    """A feed line id ("<ms>-<seq>", a Redis stream id) as something that sorts."""
    milliseconds, _, sequence = line_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def connect(url: str) -> Connect:
    return websockets.connect(url, max_size=MAX_FRAME_BYTES, close_timeout=1)


async def send_frame(socket: websockets.WebSocketClientProtocol, frame: Dict[str, Any]) -> None:
    await socket.send(json.dumps(frame, ensure_ascii=False))


async def open_with_hello(socket: websockets.WebSocketClientProtocol, hello: Dict[str, Any]) -> None:
    """Send the hello frame and wait for `ready` (HandshakeRefused on anything else)."""
    await send_frame(socket, hello)
    frame = json.loads(await socket.recv())
    if frame.get("type") != "ready":
        raise HandshakeRefused(frame.get("code") or frame.get("type"))


async def frames(socket: websockets.WebSocketClientProtocol) -> AsyncIterator[Dict[str, Any]]:
    """The socket's frames as dicts; ConnectionClosed when the service closes it (even cleanly)."""
    async for raw in socket:
        yield json.loads(raw)
    raise websockets.ConnectionClosedOK(None, None)


async def first_to_end(*jobs: Awaitable[None]) -> None:
    """Run jobs together until one ends (its error raised); the others are cancelled, also when
    this is cancelled."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def happened_within(event: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), max(seconds, 0.0))
        return True
    except asyncio.TimeoutError:
        return False


async def cancel_all(jobs: Sequence[asyncio.Task]) -> None:
    for job in jobs:
        job.cancel()
    await asyncio.gather(*jobs, return_exceptions=True)


async def create_agent_accounts(redis_url: str, agent_ids: Sequence[str], password: str, display_name: str = "客服") -> None:
    client = Redis.from_url(redis_url)
    try:
        for agent_id in agent_ids:
            await AgentStore(client).create(agent_id, display_name, password)
    finally:
        await client.close()
