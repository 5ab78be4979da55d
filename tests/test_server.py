"""The assistant as `make run` starts it: Rasa server + action server, trackers in a real Redis."""

from __future__ import annotations

import json
from typing import Iterator

import httpx
import pytest
import redis

from scripts.stack import TOKEN, running_assistant

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(trained_model, redis_url, tmp_path_factory) -> Iterator[str]:
    redis.Redis.from_url(redis_url).flushdb()
    try:
        with running_assistant(trained_model, redis_url, tmp_path_factory.mktemp("assistant")) as assistant:
            yield assistant.rasa_url
    finally:
        redis.Redis.from_url(redis_url).flushdb()


def test_http_api_refuses_requests_without_the_token(server):
    assert httpx.get(f"{server}/status").status_code == 401
    assert httpx.get(f"{server}/status", params={"token": "wrong"}).status_code == 401
    assert httpx.get(f"{server}/status", params={"token": TOKEN}).status_code == 200


def test_model_parse_carries_anger(server):
    response = httpx.post(f"{server}/model/parse", params={"token": TOKEN}, json={"text": "等了半小时都没人回？？？垃圾"})
    assert response.status_code == 200
    assert response.json()["anger"]["angry"] is True


def test_rest_channel_answers_in_chinese_and_tracker_lands_in_redis(server, redis_url):
    reply = httpx.post(f"{server}/webhooks/rest/webhook", json={"sender": "shopper-1", "message": "我买的杯子收到就碎了"}, timeout=30)
    assert reply.status_code == 200
    assert any("抱歉" in message.get("text", "") for message in reply.json())

    tracker = httpx.get(f"{server}/conversations/shopper-1/tracker", params={"token": TOKEN}).json()
    assert tracker["latest_message"]["intent"]["name"] == "report_broken"
    assert "anger" in tracker["latest_message"]

    client = redis.Redis.from_url(redis_url)
    stored = client.lrange("shouhou:tracker:events:shopper-1", 0, -1)  # bot/tracker_store.py
    assert stored, "the tracker was not stored in Redis"
    user_events = [e for e in map(json.loads, stored) if e["event"] == "user"]
    assert user_events[-1]["text"] == "我买的杯子收到就碎了"
    assert "anger" in user_events[-1]["parse_data"]
