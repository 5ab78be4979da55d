"""The retraining routes' refusals and reports on the real service and Redis (Rasa is not running
here; a real retraining, from labelling to the new model live, is the browser test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from handoff import redis_keys
from handoff.settings import HandoffSettings
from tests.test_handoff.conftest import sign_in


@pytest.fixture()
def models_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    (folder / "reports" / "shouhou-candidate").mkdir(parents=True)
    (folder / "shouhou-candidate.tar.gz").write_bytes(b"not really a model")
    (folder / "reports" / "shouhou-candidate" / "summary.json").write_text('{"macro_f1": 0.9}')
    return folder


@pytest.fixture()
def client(console_client: TestClient, settings: HandoffSettings, models_dir: Path) -> TestClient:
    settings.trainer_models_dir = models_dir
    return console_client


def job(redis_client, **fields) -> None:
    redis_client.hset(redis_keys.RETRAIN_JOB, mapping=fields)


def test_retraining_needs_the_live_bot_and_a_trainer(client):
    assert client.post("/api/trainer/retrain", json={}, headers=sign_in(client, "kefu.wang")).status_code == 403
    down = client.post("/api/trainer/retrain", json={"epochs": 5}, headers=sign_in(client, "xunlian.zhao"))
    assert down.status_code == 503 and down.json()["detail"]["message"] == "线上机器人暂时连不上，请稍后再试"
    assert client.get("/api/trainer/retrain", headers=sign_in(client, "xunlian.zhao")).json() == {"status": "none"}


def test_a_candidate_goes_live_only_when_confirmed_compared_and_not_regressed(client, redis_client):
    trainer = sign_in(client, "xunlian.zhao")
    url = "/api/trainer/models/shouhou-candidate.tar.gz/activate"
    assert client.post(url, json={}, headers=trainer).json()["detail"]["code"] == "confirm_required"
    assert client.post(url, json={"confirm": True}, headers=trainer).json()["detail"]["code"] == "not_compared"
    comparison = {"may_go_live": False, "regressions": ["整体 macro-F1 从 0.960 降到 0.930"]}
    job(redis_client, status="ready", candidate="shouhou-candidate.tar.gz", comparison=json.dumps(comparison))
    regressed = client.post(url, json={"confirm": True}, headers=trainer)
    assert regressed.status_code == 409 and "0.930" in regressed.json()["detail"]["message"]
    job(redis_client, comparison=json.dumps({"may_go_live": True, "regressions": []}))
    down = client.post(url, json={"confirm": True}, headers=trainer)
    assert down.status_code == 503, "approved, and refused only because Rasa is not running here"


@pytest.mark.parametrize("name", ["shouhou-nope.tar.gz", "..%2Fsecret", "other-model.tar.gz"])
def test_only_known_models_are_named(client, name):
    answer = client.post(f"/api/trainer/models/{name}/activate", json={"confirm": True},
                         headers=sign_in(client, "xunlian.zhao"))
    assert answer.status_code == 404


def test_a_models_reports_are_served_to_trainers_only_by_their_names(client):
    trainer = sign_in(client, "xunlian.zhao")
    base = "/api/trainer/models/shouhou-candidate.tar.gz/reports"
    assert client.get(f"{base}/summary.json", headers=trainer).json() == {"macro_f1": 0.9}
    assert client.get(f"{base}/intent_confusion_matrix.png", headers=trainer).status_code == 404  # not evaluated
    assert client.get(f"{base}/..%2F..%2Fshouhou-candidate.tar.gz", headers=trainer).status_code == 404
    assert client.get(f"{base}/summary.json", headers=sign_in(client, "kefu.wang")).status_code == 403
    versions = client.get("/api/trainer/models", headers=trainer).json()
    assert versions["serving"] is None and versions["versions"] == []
