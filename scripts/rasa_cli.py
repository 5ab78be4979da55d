"""How this project calls the `rasa` command: its paths, data folders and environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict, List

from scripts.settings import PROJECT_ROOT

# Trained on; data/eval (the dev split) and data/anger (read by AngerScorer itself) are not.
DIALOGUE_AND_NLU_DATA = ("data/nlu", "data/rules", "data/stories")
NLU_DATA = "data/nlu"
DEV_SPLIT = "data/eval/nlu.yml"
DEV_SPLIT_ANGER = "data/eval/anger.yml"
ENTITY_STRESS = "data/eval/entity_stress.yml"  # numbers in contexts training lacks (scripts/make_entity_stress.py)


def training_data() -> List[str]:
    """The training folders that exist. Never name a missing one: `rasa train --data` replaces
    a path that does not exist with the whole `data/` folder, dev split included (git keeps
    no empty folder, so a fresh clone has no data/stories/ until a story is written)."""
    existing = [path for path in DIALOGUE_AND_NLU_DATA if (PROJECT_ROOT / path).is_dir()]
    if NLU_DATA not in existing:
        sys.exit(f"error: {NLU_DATA}/ is missing; nothing to train on")
    return existing


def executable(name: str = "rasa") -> str:
    """A console script of the running venv (rasa, pytest…)."""
    return str(Path(sys.executable).with_name(name))


def environment(extra: Dict[str, str] | None = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def train_command(config: str, out: Path, fixed_model_name: str, nlu_only: bool = False) -> List[str]:
    command = [executable(), "train"]
    if nlu_only:
        command += ["nlu", "--nlu", NLU_DATA]
    else:
        command += ["--data", *training_data(), "--domain", "domain.yml"]
    return command + ["--config", config, "--out", str(out), "--fixed-model-name", fixed_model_name]
