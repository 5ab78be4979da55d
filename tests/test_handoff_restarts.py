"""Nothing lost, nothing doubled: a handoff in progress goes on across a restart of Redis (with
its persistence, as `make run` starts it) and of the handoff service. The agent's console
reconnects from the last line it had; a message resent after a failure is handled once."""

from __future__ import annotations

import asyncio
import json
from typing import Iterator, List

import httpx
import pytest
import redis
import websockets
from redis.asyncio import Redis

from handoff.agents import AgentStore
from handoff.settings import DEV_SHOPPER_TOKEN_SECRET
from handoff.shopper_tokens import issue_guest_token
from scripts.embedded_redis import ensure_embedded_redis
from scripts.stack import TOKEN, free_port, running_assistant

pytestmark = pytest.mark.server

ANGRY = "等了三天了还没人管！！！你们到底怎么回事，气死我了"
PASSWORD = "restart-password-1"


@pytest.fixture()
def own_redis(tmp_path) -> Iterator[tuple]:
    port, data_dir = free_port(), tmp_path / "redis"
    url = ensure_embedded_redis(port, data_dir)
    yield url, port, data_dir
    redis.Redis.from_url(url).shutdown(nosave=True)


async def create_agent(url: str) -> None:
    client = Redis.from_url(url)
    try:
        await AgentStore(client).create("kefu.wang", "客服小王", PASSWORD)
    finally:
        await client.close()


async def shopper_lines(ws_url: str, session: str, conversation_id: str, after: str, until: str) -> List[tuple]:
    """(id, text) of the shopper's lines the console gets after `after`, up to the one with `until`."""
    lines: List[tuple] = []
    async with websockets.connect(ws_url) as socket:
        await socket.send(json.dumps({"type": "hello", "session": session}))
        await socket.send(json.dumps({"type": "watch", "conversation_id": conversation_id, "after": after}))
        while not any(until in text for _, text in lines):
            frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=20))
            if frame["type"] == "line" and frame["line"]["from"] == "shopper":
                lines.append((frame["id"], frame["line"]["text"]))
    return lines


async def test_a_handoff_goes_on_across_restarts_of_redis_and_of_the_service(trained_model, own_redis, tmp_path):
    url, port, data_dir = own_redis
    with running_assistant(trained_model, url, tmp_path) as assistant:
        await create_agent(url)
        ws_url = assistant.handoff_url.replace("http://", "ws://") + "/ws/agent"
        async with httpx.AsyncClient(base_url=assistant.handoff_url, timeout=60) as http:
            tokens = {name: issue_guest_token(name, DEV_SHOPPER_TOKEN_SECRET, 3600) for name in ("restart-a", "restart-b")}

            async def write(name: str, text: str, client_id: str) -> httpx.Response:
                return await http.post("/api/chat/messages", json={"text": text, "client_id": client_id},
                                       headers={"Authorization": f"Bearer {tokens[name]}"})

            for name in tokens:
                assert (await write(name, ANGRY, f"{name}-0")).json()["owner"] == "waiting"
            session = (await http.post("/api/agent/session", json={"agent_id": "kefu.wang", "password": PASSWORD})).json()["session"]
            agent = {"Authorization": f"Bearer {session}"}
            queue = (await http.get("/api/agent/tickets", headers=agent)).json()["tickets"]
            ticket_of = {t["ticket"]["conversation_id"]: t["ticket_id"] for t in queue}
            assert (await http.post(f"/api/agent/tickets/{ticket_of['guest:restart-a']}/claim", headers=agent)).status_code == 200
            seen = await shopper_lines(ws_url, session, "guest:restart-a", "0-0", until="气死我了")
            last_id = seen[-1][0]

            # Redis restarts while the shopper writes: a clear error, then the resend is handled once.
            redis.Redis.from_url(url).shutdown(save=True)
            down = await write("restart-a", "我还在等", "restart-a-1")
            assert down.status_code == 503 and "没有发送成功" in down.json()["detail"]["message"]
            ensure_embedded_redis(port, data_dir)
            again = await write("restart-a", "我还在等", "restart-a-1")
            assert again.status_code == 200 and again.json()["owner"] == "agent", again.text
            assert (await write("restart-a", "我还在等", "restart-a-1")).json()["duplicate"] is True

            # The service restarts too; the shopper writes again.
            assistant.restart("handoff service")
            assert (await write("restart-a", "第二条消息", "restart-a-2")).status_code == 200

            # The console reconnects from the last line it had: each message once, in order.
            later = await shopper_lines(ws_url, session, "guest:restart-a", last_id, until="第二条消息")
            assert [text for _, text in later] == ["我还在等", "第二条消息"]
            still_waiting = (await http.get("/api/agent/tickets", headers=agent)).json()["tickets"]
            assert [t["ticket_id"] for t in still_waiting] == [ticket_of["guest:restart-b"]], "the unclaimed ticket stayed"

        events = httpx.get(f"{assistant.rasa_url}/conversations/guest:restart-a/tracker", params={"token": TOKEN}).json()["events"]
        assert [e["text"] for e in events if e["event"] == "user"] == [ANGRY, "我还在等", "第二条消息"]
