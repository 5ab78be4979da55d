"""Handoff benchmark: angry shoppers reach agents, and messages flow between them.

Starts the whole assistant (scripts/stack.py) on a fresh Redis database, signs in N agents and
lets M shoppers (default 50 and 5) each send an angry first message through the gateway. The
gateway queues a ticket; the agents poll the queue, claim tickets and send each shopper a few
messages; the shoppers read them from their outbox cursor. Measured:

- ticket visible: from the shopper's triggering message (sent) to the ticket first seen in
  the queue by an agent (agents poll every `--poll` seconds: the resolution of this figure);
- agent → shopper delivery: from the agent's POST to the shopper seeing it (shoppers poll);
- messages lost or doubled (each agent message carries a unique number) and out of order.

Polling stands in for the WebSockets of the chat page and the console until they exist, so
these figures include up to one polling interval. Not a test: prints a table and writes
bench/results/handoff.json.

    make bench-handoff         # or: python -m bench.handoff [--shoppers 50 --agents 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence

import httpx
import redis
from redis.asyncio import Redis

from bench.stack_bench import percentiles, redis_and_model, write_results
from handoff.agents import AgentStore
from handoff.settings import DEV_SHOPPER_TOKEN_SECRET
from handoff.shopper_tokens import issue_guest_token
from scripts.settings import PROJECT_ROOT
from scripts.stack import Assistant, running_assistant

RESULTS = PROJECT_ROOT / "bench" / "results" / "handoff.json"
PASSWORD = "bench-password-123"
ANGRY = "等了三天了还没人管！！！你们到底怎么回事，气死我了"
MESSAGES_PER_SHOPPER = 3



class Run:
    def __init__(self, assistant: Assistant, shoppers: int, agents: int, poll: float) -> None:
        self.assistant, self.poll = assistant, poll
        self.shoppers = [f"bench-{i}" for i in range(shoppers)]
        self.agents = [f"bench.agent{i}" for i in range(agents)]
        self.sent_at: Dict[str, float] = {}  # conversation → triggering message sent
        self.visible: List[float] = []
        self.delivery: List[float] = []
        self.sent: Dict[str, List[int]] = {}  # conversation → agent message numbers, in order
        self.received: Dict[str, List[int]] = {}
        self.agent_sent_at: Dict[int, float] = {}
        self.errors = 0
        self.done = asyncio.Event()

    async def shopper(self, client: httpx.AsyncClient, name: str) -> None:
        token = issue_guest_token(name, DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
        headers = {"Authorization": f"Bearer {token}"}
        conversation = f"guest:{name}"
        self.sent_at[conversation] = time.perf_counter()
        reply = await client.post(f"{self.assistant.handoff_url}/api/chat/messages", json={"text": ANGRY}, headers=headers)
        if reply.status_code != 200 or reply.json()["owner"] == "bot":
            self.errors += 1
            return
        cursor, got = "0-0", self.received.setdefault(conversation, [])
        while len(got) < MESSAGES_PER_SHOPPER and not self.done.is_set():
            updates = await client.get(f"{self.assistant.handoff_url}/api/chat/updates", params={"after": cursor},
                                       headers=headers)
            for update in updates.json()["messages"]:
                cursor = update["id"]
                number = int(update["message"]["text"].rsplit("#", 1)[1])
                self.delivery.append((time.perf_counter() - self.agent_sent_at[number]) * 1000)
                got.append(number)
            await asyncio.sleep(self.poll)

    async def agent(self, client: httpx.AsyncClient, agent_id: str, numbers: "asyncio.Queue[int]") -> None:
        session = await client.post(f"{self.assistant.handoff_url}/api/agent/session",
                                    json={"agent_id": agent_id, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {session.json()['session']}"}
        seen = set()
        while not self.done.is_set():
            queue = (await client.get(f"{self.assistant.handoff_url}/api/agent/tickets", headers=headers)).json()
            for ticket in queue["tickets"]:
                conversation = ticket["ticket"]["conversation_id"]
                if ticket["ticket_id"] not in seen and conversation in self.sent_at:
                    seen.add(ticket["ticket_id"])
                    self.visible.append((time.perf_counter() - self.sent_at[conversation]) * 1000)
            for ticket in queue["tickets"][:1]:
                claim = await client.post(f"{self.assistant.handoff_url}/api/agent/tickets/{ticket['ticket_id']}/claim",
                                          headers=headers)
                if claim.status_code == 200:
                    await self.serve(client, headers, ticket["ticket"]["conversation_id"], numbers)
            await asyncio.sleep(self.poll)

    async def serve(self, client: httpx.AsyncClient, headers: Dict, conversation: str, numbers: "asyncio.Queue[int]") -> None:
        for _ in range(MESSAGES_PER_SHOPPER):
            number = numbers.get_nowait()
            self.agent_sent_at[number] = time.perf_counter()
            self.sent.setdefault(conversation, []).append(number)
            response = await client.post(f"{self.assistant.handoff_url}/api/agent/conversations/{conversation}/messages",
                                         json={"text": f"您好，客服在处理您的问题 #{number}"}, headers=headers)
            if response.status_code != 201:
                self.errors += 1

    def figures(self, seconds: float) -> Dict:
        lost = sum(len(set(sent) - set(self.received.get(c, []))) for c, sent in self.sent.items())
        doubled = sum(len(got) - len(set(got)) for got in self.received.values())
        out_of_order = sum(got != sorted(got) for got in self.received.values())
        return {
            "shoppers": len(self.shoppers), "agents": len(self.agents), "poll_seconds": self.poll,
            "ticket_visible_ms": percentiles(self.visible), "agent_to_shopper_ms": percentiles(self.delivery),
            "agent_messages": sum(len(s) for s in self.sent.values()), "lost": lost, "doubled": doubled,
            "conversations_out_of_order": out_of_order, "errors": self.errors, "seconds": seconds,
        }


async def measure(assistant: Assistant, shoppers: int, agents: int, poll: float, limit: float) -> Dict:
    run = Run(assistant, shoppers, agents, poll)
    client_redis = Redis.from_url(assistant.env["REDIS_URL"])
    for agent_id in run.agents:
        await AgentStore(client_redis).create(agent_id, "客服", PASSWORD)
    await client_redis.close()
    numbers: "asyncio.Queue[int]" = asyncio.Queue()
    for number in range(shoppers * MESSAGES_PER_SHOPPER):
        numbers.put_nowait(number)
    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=shoppers + agents + 10)) as client:
        workers = [asyncio.create_task(run.agent(client, a, numbers)) for a in run.agents]
        try:
            await asyncio.wait_for(asyncio.gather(*(run.shopper(client, s) for s in run.shoppers)), timeout=limit)
        finally:
            run.done.set()
            await asyncio.gather(*workers, return_exceptions=True)
    return run.figures(time.perf_counter() - began)


def table(f: Dict) -> str:
    v, d = f["ticket_visible_ms"], f["agent_to_shopper_ms"]
    return "\n".join([
        f"{f['shoppers']} angry shoppers, {f['agents']} agents, polling every {f['poll_seconds']} s, {f['seconds']:.0f} s",
        f"ticket visible to an agent  p50/p95/p99 {v['p50']:.0f} / {v['p95']:.0f} / {v['p99']:.0f} ms (target p95 <= 1000)",
        f"agent -> shopper delivery   p50/p95/p99 {d['p50']:.0f} / {d['p95']:.0f} / {d['p99']:.0f} ms (target p95 <= 200)",
        f"agent messages {f['agent_messages']}: lost {f['lost']}, doubled {f['doubled']}, "
        f"conversations out of order {f['conversations_out_of_order']}, errors {f['errors']}",
    ])


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between polls of the queue and the outbox")
    parser.add_argument("--limit", type=float, default=300, help="stop after this many seconds")
    args = parser.parse_args(argv)
    redis_url, model = redis_and_model("bench-handoff")
    bench_url = redis_url.rsplit("/", 1)[0] + "/13"  # its own database, emptied first
    redis.Redis.from_url(bench_url).flushdb()
    with tempfile.TemporaryDirectory() as workdir, running_assistant(model, bench_url, Path(workdir)) as assistant:
        figures = asyncio.run(measure(assistant, args.shoppers, args.agents, args.poll, args.limit))
    redis.Redis.from_url(bench_url).flushdb()
    write_results(RESULTS, figures, model, table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
