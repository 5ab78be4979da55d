"""The retraining job: validate the data, train a candidate, evaluate it and the live model on the
dev split, compare them. The trainers' page starts it (one at a time); it can also run by hand:

    python -m trainer.retrain [--live-model models/shouhou-<fp>.tar.gz] [--data-dir data] [--models-dir models]
                              [--epochs 5] [--tolerance 0.01] [--intent-tolerance 0.05]

Trains on the NLU, rules and anger data of `--data-dir` (the folder the trainers' labels are
written to) into `--models-dir`, with the project's config.yml and domain.yml; the candidate is
named shouhou-<time>[-e<epochs>]. Progress, the log and the result go to one Redis hash
(handoff/redis_keys.py RETRAIN_JOB) that the page reads, and to stdout. `--epochs` trains DIET with
fewer epochs (the tests do). Going live is a separate, confirmed step (the page; trainer/versions.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import redis

from handoff import redis_keys
from scripts import rasa_cli
from scripts.settings import PROJECT_ROOT
from trainer.versions import (
    INTENT_TOLERANCE,
    MODELS_DIR,
    TOLERANCE,
    compare,
    evaluate,
    model_path_of,
    read_versions,
    record_version,
)

WORK_DIR = PROJECT_ROOT / "var" / "trainer"
DIET_EPOCHS = re.compile(r"^(\s*epochs:\s*)\d+", re.MULTILINE)
ANGER_EXAMPLES = re.compile(r"^(\s*examples_path:\s*)data/anger\s*$", re.MULTILINE)
TRAINING_FOLDERS = ("nlu", "rules", "stories")


class StepFailed(RuntimeError):
    pass


class JobRecord:
    """The job's state in Redis: status (running, failed, ready), step, log lines, result."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._key = redis_keys.RETRAIN_JOB

    def start(self) -> None:
        self._redis.delete(self._key)
        self._redis.hset(self._key, mapping={
            "status": "running", "step": "", "log": "[]", "started_at": time.time(), "pid": os.getpid(), "host": socket.gethostname(),
        })

    def step(self, name: str, line: str) -> None:
        self._redis.hset(self._key, "step", name)
        self.say(line)

    def say(self, line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        log: List[str] = json.loads(self._redis.hget(self._key, "log") or "[]")
        self._redis.hset(self._key, "log", json.dumps((log + [line])[-200:], ensure_ascii=False))

    def finish(self, status: str, **fields: str) -> None:
        self._redis.hset(self._key, mapping={"status": status, "finished_at": time.time(), **fields})
        self._redis.delete(redis_keys.RETRAIN_LOCK)  # the next job may start


@dataclass(frozen=True)
class Options:
    live_model: Path
    data_dir: Path
    models_dir: Path
    epochs: Optional[int]
    tolerance: float
    intent_tolerance: float


def run(job: JobRecord, options: Options) -> None:
    folders = [str(options.data_dir / name) for name in TRAINING_FOLDERS if (options.data_dir / name).is_dir()]
    job.step("validate", "检查训练数据（rasa data validate 和数据卫生检查）…")
    _check(rasa_cli.executable(), "data", "validate", "--data", *folders, "--domain", "domain.yml", "--config", "config.yml")
    _check(sys.executable, "-m", "scripts.data_hygiene", "--nlu-dir", str(options.data_dir / "nlu"))
    job.step("train", "训练新模型…" + (f"（DIET {options.epochs} 轮）" if options.epochs else ""))
    started = time.monotonic()
    candidate = train_candidate(options, folders)
    job.say(f"新模型 {candidate.name} 训练完成，用时 {time.monotonic() - started:.0f} 秒")
    job.step("evaluate", "在开发集上评估新模型和线上模型…")
    after, before = evaluate(candidate), evaluate(options.live_model)
    job.step("compare", "对比各意图的 F1…")
    comparison = compare(before, after, options.tolerance, options.intent_tolerance)
    record_version(options.models_dir, options.live_model, before, serving=True)
    record_version(options.models_dir, candidate, after)
    verdict = "可以上线" if comparison.may_go_live else "有退步，不能上线：" + "；".join(comparison.regressions)
    job.say(f"macro-F1 {before['macro_f1']:.3f} → {after['macro_f1']:.3f}，情绪 F1 {before['anger_f1']:.3f} → "
            f"{after['anger_f1']:.3f}。{verdict}")
    job.finish("ready", candidate=candidate.name, comparison=json.dumps(comparison.to_dict(), ensure_ascii=False))


def train_candidate(options: Options, folders: List[str]) -> Path:
    """A new model of the data folders, with the project's config (fewer DIET epochs if asked, the
    anger examples of the same data folder)."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    config = (PROJECT_ROOT / "config.yml").read_text(encoding="utf-8")
    if options.epochs:
        config = DIET_EPOCHS.sub(rf"\g<1>{options.epochs}", config)
    config = ANGER_EXAMPLES.sub(rf"\g<1>{options.data_dir / 'anger'}", config)
    config_file = WORK_DIR / "config.yml"
    config_file.write_text(config, encoding="utf-8")
    name = "shouhou-" + time.strftime("%Y%m%d-%H%M%S") + (f"-e{options.epochs}" if options.epochs else "")
    _check(rasa_cli.executable(), "train", "--data", *folders, "--domain", "domain.yml", "--config", str(config_file),
           "--out", str(options.models_dir), "--fixed-model-name", name)
    target = options.models_dir / f"{name}.tar.gz"
    if not target.exists():
        raise StepFailed(f"training did not write {target.name}")
    return target


def live_model_of(models_dir: Path) -> Optional[Path]:
    """The version recorded live, else the newest model of the folder."""
    recorded = read_versions(models_dir).get("live")
    path = model_path_of(models_dir, recorded) if recorded else None
    if path is not None and path.is_file():
        return path
    models = sorted(models_dir.glob("shouhou-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def _check(*command: str) -> None:
    result = subprocess.run(list(command), cwd=PROJECT_ROOT, env=rasa_cli.environment(), capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stdout[-1500:] + "\n" + result.stderr[-1500:]).strip()
        raise StepFailed(f"{Path(command[0]).name} {' '.join(command[1:3])} failed (exit {result.returncode}):\n{tail}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--live-model", type=Path, default=None,
                        help="the model Rasa serves now (default: the one recorded live, else the newest)")
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT / "data")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--epochs", type=int, default=None, help="DIET epochs for the candidate (default: config.yml)")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    parser.add_argument("--intent-tolerance", type=float, default=INTENT_TOLERANCE)
    args = parser.parse_args(argv)
    live = args.live_model or live_model_of(args.models_dir)
    if live is None:
        parser.error("no model in the models folder: run `make train` first")
    options = Options(live.resolve(), args.data_dir.resolve(), args.models_dir.resolve(), args.epochs,
                      args.tolerance, args.intent_tolerance)
    job = JobRecord(redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")))
    job.start()
    try:
        run(job, options)
    except Exception as error:  # noqa: BLE001 — whatever failed, the page must say so
        job.say(f"失败：{error}")
        job.finish("failed", error=str(error)[:2000])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
