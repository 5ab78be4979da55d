"""The Rasa server's endpoint calls reuse kept-alive connections, with Rasa's own request code."""

from __future__ import annotations

import asyncio
import json
from typing import Set, Tuple

import aiohttp
import pytest
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from bot import pooled_endpoints


@pytest.fixture()
def pooled(monkeypatch):
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    pooled_endpoints.install()


async def serve(peers: Set[Tuple[str, int]]) -> Tuple[web.AppRunner, str]:
    async def webhook(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername"))
        body = await request.json()
        return web.json_response({"events": [], "responses": [{"text": body["next_action"]}]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/webhook"


async def call_many(times: int, concurrently: bool) -> Tuple[list, Set]:
    peers: Set[Tuple[str, int]] = set()
    runner, url = await serve(peers)
    endpoint = EndpointConfig(url)
    try:
        calls = [endpoint.request(json={"next_action": f"action_{i}"}, method="post") for i in range(times)]
        if concurrently:
            answers = await asyncio.gather(*calls)
        else:
            answers = [await call for call in calls]
    finally:
        await pooled_endpoints.close_sessions()
        await runner.cleanup()
    return answers, peers


def test_calls_one_after_another_share_one_connection(pooled):
    answers, peers = asyncio.run(call_many(20, concurrently=False))
    assert [a["responses"][0]["text"] for a in answers] == [f"action_{i}" for i in range(20)]
    assert len(peers) == 1  # Rasa's own session per request connects 20 times


def test_bodies_are_the_same_json_as_the_standard_librarys():
    body = {"tracker": {"events": [{"event": "user", "text": "退款/退货 😊 \"引号\"", "timestamp": 1764470000.123456,
                                    "parse_data": {"intent": {"confidence": 0.1 + 0.2}}}]}, "n": None, "ok": True}
    assert json.loads(pooled_endpoints.encode_json(body)) == body
    assert json.loads(pooled_endpoints.encode_json({"nan": float("nan")}).replace("NaN", "null")) == {"nan": None}

    class Unusual:
        pass

    with pytest.raises(TypeError):
        pooled_endpoints.encode_json({"x": Unusual()})  # refused as the standard library refuses it


def test_concurrent_calls_each_get_their_own_answer(pooled):
    answers, peers = asyncio.run(call_many(30, concurrently=True))
    assert [a["responses"][0]["text"] for a in answers] == [f"action_{i}" for i in range(30)]
    assert 1 <= len(peers) <= 30


def test_a_server_gone_and_back_is_reached_on_a_new_connection(pooled):
    async def scenario():
        peers: Set[Tuple[str, int]] = set()
        runner, url = await serve(peers)
        endpoint = EndpointConfig(url)
        assert (await endpoint.request(json={"next_action": "a"}, method="post"))["responses"][0]["text"] == "a"
        port = int(url.split(":")[2].split("/")[0])
        await runner.cleanup()  # the action server restarts: its connections are closed
        app = web.Application()

        async def webhook(request: web.Request) -> web.Response:
            return web.json_response({"events": [], "responses": [{"text": "back"}]})

        app.router.add_post("/webhook", webhook)
        again = web.AppRunner(app)
        await again.setup()
        await web.TCPSite(again, "127.0.0.1", port).start()
        await asyncio.sleep(0.05)
        try:
            return await endpoint.request(json={"next_action": "b"}, method="post")
        finally:
            await pooled_endpoints.close_sessions()
            await again.cleanup()

    assert asyncio.run(scenario())["responses"][0]["text"] == "back"


def test_without_a_running_event_loop_a_session_is_still_made(pooled):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        session = EndpointConfig("http://127.0.0.1:1").session()
        assert isinstance(session, aiohttp.ClientSession)  # Rasa's own, closed by its user
        loop.run_until_complete(session.close())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
