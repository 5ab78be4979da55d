"""The trainers' routes on the real service and Redis, writing into a copy of data/ (Rasa is not
running here: parsing gets its clear error; the browser test parses with the real model)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from handoff.review.inbox import Reason, ReviewInbox
from handoff.settings import HandoffSettings
from tests.test_handoff.conftest import sign_in

PROJECT_DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(PROJECT_DATA, copy)
    return copy


@pytest.fixture()
def client(console_client: TestClient, settings: HandoffSettings, data_copy: Path) -> TestClient:
    settings.training_data_dir = data_copy
    return console_client


def observe(redis_url: str, text: str, **kwargs) -> str:
    async def run() -> str:
        redis = Redis.from_url(redis_url)
        try:
            return await ReviewInbox(redis, 3600).observe(text, kwargs.pop("reason", Reason.low_confidence), "u1001", **kwargs)
        finally:
            await redis.close()

    return asyncio.run(run())


def test_only_trainers_and_supervisors_use_the_trainer_routes(client):
    assert client.get("/api/trainer/meta").status_code == 401
    refused = client.get("/api/trainer/meta", headers=sign_in(client, "kefu.wang"))
    assert refused.status_code == 403 and refused.json()["detail"]["message"] == "请使用训练师账号"
    meta = client.get("/api/trainer/meta", headers=sign_in(client, "xunlian.zhao")).json()
    assert "report_broken" in meta["intents"] and "product" in meta["entities"]
    assert client.get("/api/trainer/meta", headers=sign_in(client, "zhuguan")).status_code == 200
    trainer_claims = client.post("/api/agent/tickets/AAAAAAAAAAAAAAAA/claim", headers=sign_in(client, "xunlian.zhao"))
    assert trainer_claims.status_code == 403, "trainers do not take conversations"


def test_a_labelled_message_is_written_into_the_training_data_and_leaves_the_inbox(client, redis_url, data_copy):
    key = observe(redis_url, "保温杯盖子拧不紧 一直漏水", predicted_intent="inform", confidence=0.42)
    trainer = sign_in(client, "xunlian.zhao")
    items = client.get("/api/trainer/inbox", headers=trainer).json()["items"]
    assert [(i["key"], i["predicted_intent"], i["count"]) for i in items] == [(key, "inform", 1)]
    body = {"intent": "report_broken", "spans": [{"start": 0, "end": 3, "entity": "product"}], "anger": "calm"}
    labelled = client.post(f"/api/trainer/inbox/{key}/label", json=body, headers=trainer)
    assert labelled.status_code == 200, labelled.text
    assert labelled.json()["written_to"][0].startswith("nlu/report_broken.yml:")
    assert "- [保温杯](product)盖子拧不紧 一直漏水" in (data_copy / "nlu" / "report_broken.yml").read_text(encoding="utf-8")
    assert "保温杯盖子拧不紧 一直漏水" in (data_copy / "anger" / "labelled.yml").read_text(encoding="utf-8")
    assert client.get("/api/trainer/inbox", headers=trainer).json()["items"] == []
    again = client.post(f"/api/trainer/inbox/{key}/label", json=body, headers=trainer)
    assert again.status_code == 409 and again.json()["detail"]["code"] == "item_closed"


def test_a_duplicate_is_refused_and_a_conflict_needs_force(client, redis_url, data_copy):
    trainer = sign_in(client, "xunlian.zhao")
    duplicate = observe(redis_url, "坏了")
    refused = client.post(f"/api/trainer/inbox/{duplicate}/label", json={"intent": "report_broken"}, headers=trainer)
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "exact_duplicate"
    conflict = observe(redis_url, "坏了!!")
    other = client.post(f"/api/trainer/inbox/{conflict}/label", json={"intent": "complain"}, headers=trainer)
    assert other.status_code == 409 and other.json()["detail"]["code"] == "conflict"
    assert "命令行" not in other.json()["detail"]["message"]
    forced = client.post(f"/api/trainer/inbox/{conflict}/label", json={"intent": "complain", "force": True}, headers=trainer)
    assert forced.status_code == 200 and forced.json()["warnings"], "written, with the conflict named"


def test_a_trainer_ignores_a_message_and_sees_the_daily_counts(client, redis_url):
    trainer = sign_in(client, "xunlian.zhao")
    key = observe(redis_url, "哈哈哈哈", reason=Reason.fallback)
    assert client.post(f"/api/trainer/inbox/{key}/ignore", headers=trainer).status_code == 204
    assert client.get("/api/trainer/inbox", headers=trainer).json()["items"] == []
    days = client.get("/api/trainer/inbox/daily", params={"days": 7}, headers=trainer).json()["days"]
    assert len(days) == 7 and list(days.values())[-1] == 1
    assert client.post("/api/trainer/inbox/nope/ignore", headers=trainer).status_code == 404


def test_parsing_without_rasa_gives_a_clear_error(client):
    answer = client.post("/api/trainer/parse", json={"text": "杯子碎了"}, headers=sign_in(client, "xunlian.zhao"))
    assert answer.status_code == 503 and answer.json()["detail"]["message"] == "模型暂时无法解析，请稍后重试"
