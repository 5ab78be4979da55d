"""Retraining from the trainers' page: one job at a time, the model versions with their reports,
and putting a version live on the running Rasa server.

POST /api/trainer/retrain                 {epochs?} -> 202: validate, train, evaluate and compare (trainer/retrain.py)
GET  /api/trainer/retrain                 the job: status, step, log, candidate, comparison (per-intent F1 before -> after)
GET  /api/trainer/models                  the versions with their figures, and the one Rasa serves now
POST /api/trainer/models/{model}/activate the candidate (if it does not regress) or an earlier version (roll back)
GET  /api/trainer/models/{model}/reports/{file}  Rasa's confusion matrix and confidence histogram images, summary.json

The job runs as its own process (`python -m trainer.retrain`), so training never blocks the
service; its state lives in Redis. Going live is Rasa's `PUT /model`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Dict, Optional, Union

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from handoff import redis_keys
from handoff.deps import CurrentTrainer, RasaDep, RedisDep, SettingsDep
from handoff.errors import api_error
from handoff.rasa_client import RasaClient, RasaUnavailable
from handoff.settings import PROJECT_ROOT, HandoffSettings
from trainer.versions import model_path_of, read_versions, record_live, report_dir

logger = logging.getLogger(__name__)

router = APIRouter(tags=["trainer"])

REPORT_FILES = {"intent_confusion_matrix.png", "intent_histogram.png", "summary.json", "intent_report.json"}
LOCK_SECONDS = 3600
LOG_FILE = PROJECT_ROOT / "var" / "trainer" / "retrain.log"


class RetrainIn(BaseModel):
    epochs: Optional[int] = Field(None, ge=1, le=500)  # fewer DIET epochs (quick checks, tests)


@router.post("/api/trainer/retrain", status_code=202)
async def start_retraining(
    body: RetrainIn, trainer: CurrentTrainer, redis: RedisDep, rasa: RasaDep, settings: SettingsDep
) -> Dict:
    live = await _live_model(rasa, settings)
    await _forget_a_dead_job(redis)
    if not await redis.set(redis_keys.RETRAIN_LOCK, trainer.agent_id, nx=True, ex=LOCK_SECONDS):
        raise api_error(409, "retraining_running", "已经有一次训练在进行，请等它完成")
    # The page reads the new job from now on, not the last one's result.
    await redis.delete(redis_keys.RETRAIN_JOB)
    await redis.hset(redis_keys.RETRAIN_JOB, mapping={"status": "running", "step": "", "log": "[]",
                                                      "started_at": time.time()})
    command = [
        sys.executable, "-m", "trainer.retrain", "--live-model", live,
        "--data-dir", str(settings.training_data_dir), "--models-dir", str(settings.trainer_models_dir),
        "--tolerance", str(settings.retrain_tolerance), "--intent-tolerance", str(settings.retrain_intent_tolerance),
    ]
    if body.epochs:
        command += ["--epochs", str(body.epochs)]
    await _spawn(command)
    logger.info("%s started retraining (live model %s)", trainer.agent_id, live)
    return {"status": "running"}


@router.get("/api/trainer/retrain")
async def retraining(trainer: CurrentTrainer, redis: RedisDep) -> Dict:
    fields = {_text(k): _text(v) for k, v in (await redis.hgetall(redis_keys.RETRAIN_JOB)).items()}
    if not fields:
        return {"status": "none"}
    job: Dict[str, Any] = {**fields, "log": json.loads(fields.get("log") or "[]")}
    if "comparison" in fields:
        job["comparison"] = json.loads(fields["comparison"])
    return job


@router.get("/api/trainer/models")
async def models(trainer: CurrentTrainer, rasa: RasaDep, settings: SettingsDep) -> Dict:
    versions = read_versions(settings.trainer_models_dir)
    try:
        serving = Path(await _live_model(rasa, settings)).name
    except Exception:  # noqa: BLE001 — the list is still worth showing
        serving = None
    return {**versions, "serving": serving}


class ActivateIn(BaseModel):
    confirm: bool = False  # the trainer confirmed in the page


async def load_everywhere(settings: HandoffSettings, model_file: str) -> None:
    """Into every Rasa server (a balancer would pick one): going live again repeats it on all."""
    for url in settings.rasa_instance_urls or [settings.rasa_url]:
        client = RasaClient(url, settings.rasa_token.get_secret_value() if settings.rasa_token else None)
        try:
            await client.replace_model(model_file)
        finally:
            await client.aclose()


@router.post("/api/trainer/models/{model}/activate")
async def activate(
    model: str, body: ActivateIn, trainer: CurrentTrainer, redis: RedisDep, settings: SettingsDep
) -> Dict:
    if not body.confirm:
        raise api_error(422, "confirm_required", "请确认后再上线")
    path = _model_file(settings, model)
    versions = read_versions(settings.trainer_models_dir)
    was_live = any(entry["model"] == path.name for entry in versions["history"])
    if not was_live:  # a new candidate: only the one the last job approved
        job = {_text(k): _text(v) for k, v in (await redis.hgetall(redis_keys.RETRAIN_JOB)).items()}
        comparison = json.loads(job.get("comparison") or "{}")
        if job.get("candidate") != path.name or not comparison:
            raise api_error(409, "not_compared", "这个模型还没有和线上模型对比过，请先训练并对比")
        if not comparison.get("may_go_live"):
            raise api_error(409, "regressed", "新模型有退步，不能上线：" + "；".join(comparison.get("regressions") or []))
    try:
        await load_everywhere(settings, str(path))
    except RasaUnavailable as error:
        raise api_error(503, "bot_unavailable", "线上机器人暂时无法加载新模型，请稍后重试") from error
    record_live(settings.trainer_models_dir, path.name, trainer.agent_id)
    logger.info("%s put %s live", trainer.agent_id, path.name)
    return {"serving": path.name}


@router.get("/api/trainer/models/{model}/reports/{file_name}")
async def report_file(model: str, file_name: str, trainer: CurrentTrainer, settings: SettingsDep) -> FileResponse:
    known = _model_file(settings, model)  # a known model, nothing else
    path = report_dir(known.parent, known.name) / file_name
    if file_name not in REPORT_FILES or not path.is_file():
        raise api_error(404, "report_not_found", "这个模型还没有这份报告")
    return FileResponse(path)


async def _forget_a_dead_job(redis: RedisDep) -> None:
    """A job process that died (killed, the machine restarted) leaves its lock: free it. Only the
    machine that runs the job can tell (another instance's pids are not ours); elsewhere the
    lock's own expiry frees it."""
    pid, status, host = await redis.hmget(redis_keys.RETRAIN_JOB, "pid", "status", "host")
    if pid is None or _text(status or b"") != "running" or _text(host or b"") != socket.gethostname():
        return
    if _alive(int(pid)):
        return
    await redis.hset(redis_keys.RETRAIN_JOB, mapping={"status": "failed", "error": "训练进程意外退出"})
    await redis.delete(redis_keys.RETRAIN_LOCK)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _live_model(rasa: RasaDep, settings: HandoffSettings) -> str:
    try:
        status = await rasa.status()
    except RasaUnavailable as error:
        raise api_error(503, "bot_unavailable", "线上机器人暂时连不上，请稍后再试") from error
    model_file = Path(status.get("model_file") or "")
    if model_file.is_absolute():
        return str(model_file)
    # Rasa names the file only: a recorded version, the trainers' models folder, or the project's.
    for candidate in (model_path_of(settings.trainer_models_dir, model_file.name),
                      settings.trainer_models_dir / model_file.name, PROJECT_ROOT / "models" / model_file.name):
        if candidate is not None and candidate.is_file():
            return str(candidate)
    raise api_error(409, "live_model_unknown", f"找不到线上模型 {model_file.name} 的文件，无法对比")


def _model_file(settings: HandoffSettings, model: str) -> Path:
    """A model by its name (with or without .tar.gz): a recorded version, or one in the models
    folder; 404 otherwise."""
    name = model if model.endswith(".tar.gz") else f"{model}.tar.gz"
    if "/" in model or ".." in model or not name.startswith("shouhou-"):
        raise api_error(404, "model_not_found", "找不到这个模型")
    path = model_path_of(settings.trainer_models_dir, name) or settings.trainer_models_dir / name
    if not path.is_file():
        raise api_error(404, "model_not_found", "找不到这个模型")
    return path


async def _spawn(command: list) -> None:
    """The job as its own process, detached from this request; its output in var/trainer/retrain.log."""
    LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOG_FILE.open("ab") as log:
        await asyncio.create_subprocess_exec(*command, cwd=PROJECT_ROOT, env=dict(os.environ), stdout=log,
                                             stderr=asyncio.subprocess.STDOUT, start_new_session=True)


def _text(value: Union[bytes, str]) -> str:
    return value.decode() if isinstance(value, bytes) else value
