"""Train the model unless one already matches the current inputs.

The model is named by the project fingerprint (bot/fingerprint.py: config.yml,
domain.yml, data/ without the dev split, bot/ with the jieba dictionary), so a
model file that exists is never stale. Prints the model's path.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

from bot.fingerprint import MODEL_PREFIX, model_path
from scripts import rasa_cli
from scripts.settings import PROJECT_ROOT

logger = logging.getLogger("train")
MODELS_KEPT = 3


def prune_old_models(keep: Path) -> None:
    models = sorted(keep.parent.glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [m for m in models if m != keep][MODELS_KEPT - 1 :]:
        old.unlink()


def ensure_model() -> Path:
    target = model_path()
    if target.exists():
        print(f"model up to date: {target.relative_to(PROJECT_ROOT)}")
        return target
    print(f"training {target.relative_to(PROJECT_ROOT)} (inputs changed or no model yet)…", flush=True)
    started = time.monotonic()
    command = rasa_cli.train_command("config.yml", target.parent, target.name.removesuffix(".tar.gz"))
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_cli.environment())
    if result.returncode != 0 or not target.exists():
        sys.exit(f"error: training failed (exit {result.returncode}); the output above says why")
    prune_old_models(target)
    print(f"trained {target.relative_to(PROJECT_ROOT)} in {time.monotonic() - started:.0f} s")
    return target


if __name__ == "__main__":
    ensure_model()
