"""Fault injection on the multi-instance stack (`make run-cluster`): nginx in front of two gateways,
two Rasa servers and two action servers on one Redis with its persistence on.

Shoppers are page-like WebSocket clients (bench/chat_socket.py: resend of unacknowledged
messages after a reconnect, 重发 after an error). While they talk, one instance of a service is
killed with SIGKILL, or Redis is restarted; afterwards every shopper message must be in the
conversation exactly once, in the order it was sent, and answered (or with the agent).
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import httpx
import pytest
import redis

from bench.chat_socket import PageShopper, Sent
from handoff.agents import AgentStore, Role
from handoff.settings import DEV_SHOPPER_TOKEN_SECRET
from handoff.shopper_tokens import issue_shopper_token
from scripts.cluster import FAIL_SECONDS, running_cluster
from scripts.embedded_redis import ensure_embedded_redis
from scripts.stack import TOKEN, Assistant, free_port
from trainer.versions import record_live, record_version

pytestmark = [pytest.mark.faults, pytest.mark.server]

ACTIONS_UNAVAILABLE = "再发一次"  # in each variation of utter_actions_unavailable (domain.yml)
CALM_SCRIPT = ["你好", "我想问下退货的规则", "七天无理由怎么算", "退款一般几天到账", "好的谢谢", "再问一下运费谁出"]
STACK_TRACE_MARKS = ("Traceback", "Exception", "Error", "error", "stack")
AGENT_PASSWORD = "faults-agent-password"


class RedisServer:
    """The embedded Redis (AOF on, as `make run` starts it), on its own port, restartable."""

    def __init__(self, port: int, data_dir: Path) -> None:
        self.port, self.data_dir = port, data_dir
        self.url = ensure_embedded_redis(port, data_dir)

    def stop(self) -> None:
        redis.Redis.from_url(self.url).shutdown()  # flushes the append-only file

    def start(self) -> None:
        ensure_embedded_redis(self.port, self.data_dir)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path_factory.mktemp("faults-redis"))
    yield server
    try:
        redis.Redis.from_url(server.url).shutdown(nosave=True)
    except redis.ConnectionError:
        pass


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    """The trainers' models folder of the cluster (versions.json, candidates)."""
    return tmp_path_factory.mktemp("faults-models")


@pytest.fixture(scope="module")
def cluster(trained_model, redis_server, models_dir, tmp_path_factory) -> Iterator[Assistant]:
    extra = {"TRAINER_MODELS_DIR": str(models_dir)}
    with running_cluster(trained_model, redis_server.url, tmp_path_factory.mktemp("faults"), extra_env=extra) as stack:
        asyncio.run(create_accounts(redis_server.url))
        yield stack


async def create_accounts(redis_url: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        await AgentStore(client).create("kefu.faults", "客服小故", AGENT_PASSWORD)
        await AgentStore(client).create("xunlian.faults", "训练师小故", AGENT_PASSWORD, role=Role.trainer)
    finally:
        await client.close()


def shopper(stack: Assistant, name: str, shopper_id: Optional[str] = None) -> PageShopper:
    """A page-like chat client; a new shopper of its own unless `shopper_id` (a demo store shopper) is given."""
    token = issue_shopper_token(shopper_id or f"{name}-{uuid.uuid4().hex[:6]}", DEV_SHOPPER_TOKEN_SECRET, 3600)
    return PageShopper(stack.handoff_url, token, name)


async def talk(person: PageShopper, script: Sequence[str], pause: float = 0.2) -> None:
    """A shopper who reads the answer before writing again."""
    for text in script:
        sent = await person.say(text)
        assert await person.wait_answered(sent, timeout=90), f"{person.name}: {text!r} got no answer"
        await asyncio.sleep(pause)


def assert_each_message_once_in_order_and_answered(person: PageShopper) -> None:
    sent_ids = list(person.sent)
    in_feed = [line.get("client_id") for line in person.shopper_lines()]
    errors = {s.client_id: s.errors for s in person.sent.values() if s.errors}
    assert in_feed == sent_ids, f"{person.name}: the conversation holds {in_feed}, the shopper sent {sent_ids}; errors {errors}"
    assert all(s.acked_at for s in person.sent.values()), f"{person.name}: a message was never acknowledged"
    lines = person.lines
    for index, line in enumerate(lines):
        if line.get("from") != "shopper":
            continue
        following = next((i for i in range(index + 1, len(lines)) if lines[i].get("from") == "shopper"), len(lines))
        answers = [other for other in lines[index + 1 : following] if other.get("from") != "shopper"]
        assert answers or person.owner == "agent", f"{person.name}: {line.get('text')!r} was not answered"
    for line in lines:
        text = line.get("text") or ""
        assert not any(mark in text for mark in STACK_TRACE_MARKS), f"{person.name} was shown {text!r}"


async def run_while(jobs: Sequence, fault, after_acks: int, people: Sequence[PageShopper]) -> None:
    """Run the conversations; once `after_acks` messages are acknowledged, inject the fault."""

    async def inject() -> None:
        while sum(1 for p in people for s in p.sent.values() if s.acked_at) < after_acks:
            await asyncio.sleep(0.05)
        await asyncio.get_running_loop().run_in_executor(None, fault)

    await asyncio.gather(inject(), *jobs)


async def open_all(people: Sequence[PageShopper]) -> None:
    await asyncio.gather(*(p.open() for p in people))


async def close_all(people: Sequence[PageShopper]) -> None:
    await asyncio.gather(*(p.close() for p in people))


@pytest.mark.parametrize("victim", ["rasa-1", "actions-1"])
async def test_killing_one_instance_in_the_middle_of_conversations_loses_and_doubles_nothing(cluster, victim):
    people = [shopper(cluster, f"{victim}-s{i}") for i in range(12)]
    await open_all(people)
    try:
        await run_while([talk(p, CALM_SCRIPT) for p in people], lambda: cluster.kill(victim), 20, people)
        for person in people:
            assert_each_message_once_in_order_and_answered(person)
        apologies = sum(ACTIONS_UNAVAILABLE in (line.get("text") or "") for p in people for line in p.lines)
        # only an action call in flight on the killed action server fails; a Rasa kill fails none
        assert apologies <= (len(people) if victim.startswith("actions") else 0), apologies
    finally:
        await close_all(people)
        cluster.start(victim)


async def test_every_action_server_down_gives_a_polite_reply_and_the_retry_works(cluster):
    person = shopper(cluster, "no-actions")
    await person.open()
    try:
        cluster.kill("actions-1")
        cluster.kill("actions-2")
        started = time.monotonic()
        sent = await person.say("我的快递到哪了")
        assert await person.wait_answered(sent, timeout=20)
        assert time.monotonic() - started < 5
        answer = [line["text"] for line in person.lines if line.get("from") == "bot"]
        assert any(ACTIONS_UNAVAILABLE in text for text in answer), answer
        cluster.start_many(["actions-1", "actions-2"])
        await asyncio.sleep(FAIL_SECONDS + 0.5)  # nginx tries a failed instance again after this; the shopper waits a moment
        again = await person.say("我的快递到哪了")
        assert await person.wait_answered(again, timeout=60)
        at = next(i for i, line in enumerate(person.lines) if line.get("client_id") == again.client_id)
        later = [line["text"] for line in person.lines[at + 1 :] if line.get("from") == "bot"]
        assert later and not any(ACTIONS_UNAVAILABLE in text for text in later), later
        assert_each_message_once_in_order_and_answered(person)
    finally:
        await person.close()
        for name in ("actions-1", "actions-2"):
            if cluster.services[name].process.poll() is not None:
                cluster.start(name)


class Agent:
    """An agent at the console over HTTP, typing into a conversation; retries what failed."""

    def __init__(self, stack: Assistant) -> None:
        self.http = httpx.AsyncClient(base_url=stack.handoff_url, timeout=30)
        self.sent: List[str] = []

    async def sign_in(self) -> None:
        reply = await self.http.post("/api/agent/session", json={"agent_id": "kefu.faults", "password": AGENT_PASSWORD})
        reply.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {reply.json()['session']}"

    async def claim_ticket_of(self, conversation_id: str) -> None:
        for _ in range(100):
            queue = (await self.http.get("/api/agent/tickets")).json()
            mine = [t for t in queue.get("tickets", []) if t["ticket"]["conversation_id"] == conversation_id]
            if mine:
                (await self.http.post(f"/api/agent/tickets/{mine[0]['ticket_id']}/claim")).raise_for_status()
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"no ticket for {conversation_id}")

    async def type_lines(self, conversation_id: str, count: int) -> None:
        for number in range(count):
            text = f"客服回复第{number + 1}条"
            for _ in range(50):  # the console shows 发送失败 and the agent sends it again
                try:
                    reply = await self.http.post(f"/api/agent/conversations/{conversation_id}/messages", json={"text": text})
                    if reply.status_code == 201:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
            else:
                raise AssertionError(f"the agent could not send {text!r}")
            self.sent.append(text)
            await asyncio.sleep(0.15)


async def test_killing_a_gateway_during_a_handoff_with_an_agent_typing(cluster):
    angry = shopper(cluster, "angry")
    calm = [shopper(cluster, f"gw-s{i}") for i in range(8)]
    agent = Agent(cluster)
    await open_all([angry, *calm])
    try:
        await agent.sign_in()
        first = await angry.say("等了三天了还没人管！！！你们到底怎么回事，气死我了，转人工")
        assert await angry.wait_answered(first, timeout=60)
        await agent.claim_ticket_of(angry.conversation_id)

        async def shopper_to_agent() -> None:
            for number in range(10):
                await angry.say(f"我补充第{number + 1}点情况")
                await asyncio.sleep(0.25)

        jobs = [agent.type_lines(angry.conversation_id, 12), shopper_to_agent(), *(talk(p, CALM_SCRIPT) for p in calm)]
        await run_while(jobs, lambda: cluster.kill("gateway-1"), 15, [angry, *calm])
        assert await angry.wait_all_acked(timeout=90)
        for person in calm:
            assert_each_message_once_in_order_and_answered(person)
        sent_ids = list(angry.sent)
        assert [line.get("client_id") for line in angry.shopper_lines()] == sent_ids
        await asyncio.sleep(1)  # the last agent line reaches the page
        agent_lines = [line["text"] for line in angry.lines if line.get("from") == "agent"]
        first_seen = list(dict.fromkeys(agent_lines))
        assert first_seen == agent.sent, f"the shopper read {agent_lines}"
        assert angry.connections >= 1 and any(p.connections > 1 for p in [angry, *calm])  # some reconnected
    finally:
        await close_all([angry, *calm])
        await agent.http.aclose()
        cluster.start("gateway-1")


async def test_redis_restart_a_clear_message_within_two_seconds_and_the_form_resumes(cluster, redis_server):
    person = shopper(cluster, "redis", shopper_id="u1001")  # the caked milk powder story (docs/demo-store.md)
    await person.open()
    rasa = httpx.AsyncClient(base_url=cluster.rasa_url, params={"token": TOKEN}, timeout=30)
    tracker_path = "/conversations/{}/tracker"
    try:
        await talk(person, ["我买的奶粉打开全是结块的"])  # an after-sales form starts and asks
        before = (await rasa.get(tracker_path.format(person.conversation_id))).json()
        assert before["active_loop"].get("name"), "the form should be active before the restart"

        redis_server.stop()
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=cluster.handoff_url, timeout=10) as http:
            reply = await http.post("/api/chat/messages", json={"text": "在吗"}, headers={"Authorization": f"Bearer {person.token}"})
        assert time.monotonic() - started < 2
        assert reply.status_code == 503 and "繁忙" in reply.json()["detail"]["message"], reply.text
        straight_to_rasa = {"sender": person.conversation_id, "message": "还在吗"}
        await rasa.post("/webhooks/rest/webhook", json=straight_to_rasa)  # no store: the turn must fail
        await asyncio.sleep(1)
        redis_server.start()

        for name in ("rasa-1", "rasa-2"):  # each process, not only the one the balancer picks
            own = cluster.services[name].health_url.rstrip("/")
            after = httpx.get(own + tracker_path.format(person.conversation_id), params={"token": TOKEN}, timeout=30).json()
            assert after["active_loop"] == before["active_loop"] and after["slots"] == before["slots"], name
            texts = [e.get("text") for e in after["events"] if e.get("event") == "user"]
            assert "在吗" not in texts and "还在吗" not in texts, f"{name} kept a turn made while Redis was down"
        await talk(person, ["退款"])  # the page reconnected by itself; the form goes on
        assert person.connections >= 2
        resumed = (await rasa.get(tracker_path.format(person.conversation_id))).json()
        assert [e["name"] for e in resumed["events"] if e.get("event") == "action"].count("action_session_start") == 1
        assert_each_message_once_in_order_and_answered(person)
    finally:
        redis_server.start()
        await person.close()
        await rasa.aclose()


async def test_one_hundred_conversations_each_a_burst_of_twenty_messages_stay_in_order(cluster):
    people = [shopper(cluster, f"burst{i}") for i in range(100)]
    await open_all(people)
    rasa = httpx.AsyncClient(base_url=cluster.rasa_url, params={"token": TOKEN}, timeout=60)
    try:
        texts = ["在吗", "你好", "我想问下", "快递到哪了", "谢谢", "好的"]

        async def burst(person: PageShopper) -> List[Sent]:
            return [await person.say(f"{texts[n % len(texts)]} {chr(0x4E00 + n)}") for n in range(20)]

        await asyncio.gather(*(burst(p) for p in people))
        results = await asyncio.gather(*(p.wait_all_acked(timeout=300) for p in people))
        unacked = {p.name: [(s.client_id, s.tries, s.errors) for s in p.sent.values() if not s.acked_at]
                   for p in people if any(not s.acked_at for s in p.sent.values())}
        connections = {p.name: p.connections for p in people if p.name in unacked}
        assert all(results), f"unacknowledged: {unacked}; connections {connections}"
        await asyncio.sleep(1)
        for person in people:
            assert_each_message_once_in_order_and_answered(person)
            await assert_rasa_took_them_one_at_a_time(rasa, person)
    finally:
        await close_all(people)
        await rasa.aclose()


async def assert_rasa_took_them_one_at_a_time(rasa: httpx.AsyncClient, person: PageShopper) -> None:
    """In the tracker, the shopper's messages in the order sent, each answered before the next began."""
    tracker = (await rasa.get(f"/conversations/{person.conversation_id}/tracker")).json()
    events = tracker["events"]
    user_texts = [e["text"] for e in events if e.get("event") == "user"]
    assert user_texts == [s.text for s in person.sent.values()], f"{person.name}: Rasa saw {user_texts}"
    previous: Optional[Dict] = None
    for event in events:
        if event.get("event") == "user":
            assert previous is None or previous.get("name") == "action_listen", f"{person.name}: turns overlapped"
        if event.get("event") == "action":
            previous = event


def test_a_model_put_live_is_loaded_into_every_rasa_server(cluster, models_dir, trained_model):
    """The trainers' 上线 goes through the balancer, which would reach one Rasa server only."""
    earlier = models_dir / "shouhou-earlier-version.tar.gz"  # a version that was live before (a roll back)
    shutil.copy(trained_model, earlier)
    record_version(models_dir, earlier, {})
    record_live(models_dir, earlier.name, "xunlian.faults")
    with httpx.Client(base_url=cluster.handoff_url, timeout=120) as http:
        session = http.post("/api/agent/session", json={"agent_id": "xunlian.faults", "password": AGENT_PASSWORD})
        http.headers["Authorization"] = f"Bearer {session.json()['session']}"
        reply = http.post(f"/api/trainer/models/{earlier.name}/activate", json={"confirm": True})
    assert reply.status_code == 200, reply.text
    for name in ("rasa-1", "rasa-2"):
        status = httpx.get(cluster.services[name].health_url + "status", params={"token": TOKEN}, timeout=30).json()
        assert Path(status["model_file"]).name == earlier.name, f"{name} serves {status['model_file']}"
