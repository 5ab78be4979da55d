"""The Rasa test stories in tests/stories/ against the trained model's dialogue policies.

`rasa test core` takes each story's intents and entities as written and checks every action
the policies predict. The user texts are not sent through the NLU (`--e2e`): two trainings
on identical data differ on borderline messages (DIET on a multi-threaded CPU is not
deterministic), and the NLU has its own tests (tests/test_bot/) and measured figures
(`make eval`), while the dialogue (RulePolicy, MemoizationPolicy) is deterministic and
must pass exactly. `RASA_STORIES_E2E=1` adds the NLU check for a trainer's model.
Every story is run and all failures are reported at once (`--fail-on-prediction-errors`
stops at the first one and writes no failed-stories file), so the test asserts on Rasa's
failed and successful story files instead.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import List, Set

import pytest
import yaml

from scripts import rasa_cli
from scripts.settings import PROJECT_ROOT

STORIES_DIR = PROJECT_ROOT / "tests" / "stories"
RULES_DIR = PROJECT_ROOT / "data" / "rules"
FAILED, SUCCESSFUL = "failed_test_stories.yml", "successful_test_stories.yml"
MIN_STORIES = 30
RUN_TIMEOUT_SECONDS = 900
E2E = ["--e2e"] if os.environ.get("RASA_STORIES_E2E") == "1" else []


def _steps(directory: Path, pattern: str, section: str) -> List[dict]:
    steps: List[dict] = []
    for path in sorted(directory.glob(pattern)):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get(section) or []:
            steps += block.get("steps") or []
    return steps


def story_names() -> List[str]:
    names: List[str] = []
    for path in sorted(STORIES_DIR.glob("test_*.yml")):
        names += [story["story"] for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]]
    return names


def _named(steps: List[dict], key: str) -> Set[str]:
    return {str(step[key]) for step in steps if key in step}


def story_command(model: Path, out: Path) -> List[str]:
    return [
        rasa_cli.executable(), "test", "core", *E2E,
        "--model", str(model), "--stories", str(STORIES_DIR), "--out", str(out),
        "--successes", "--no-plot",
    ]  # fmt: skip


def stories_in(path: Path) -> int:
    """How many stories a file Rasa wrote holds (Rasa writes no file when there are none)."""
    if not path.exists():
        return 0
    return len((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("stories") or [])


def test_there_are_enough_stories_with_unique_names():
    names = story_names()
    assert len(names) >= MIN_STORIES
    assert len(set(names)) == len(names), "two test stories share a name; Rasa's report would mix them up"


def test_every_intent_and_every_rule_action_appears_in_a_story():
    domain_intents = set(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])
    story_steps = _steps(STORIES_DIR, "test_*.yml", "stories")
    rule_actions = _named(_steps(RULES_DIR, "*.yml", "rules"), "action")
    assert (domain_intents | {"nlu_fallback"}) - _named(story_steps, "intent") == set()
    assert rule_actions - _named(story_steps, "action") == set()


def test_every_story_passes_with_the_trained_model(trained_model: Path, tmp_path: Path):
    result = subprocess.run(
        story_command(trained_model, tmp_path),
        cwd=PROJECT_ROOT,
        env=rasa_cli.environment(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, f"rasa test core failed to run:\n{result.stderr[-3000:]}"
    failed = tmp_path / FAILED
    if stories_in(failed):
        pytest.fail(f"{stories_in(failed)} test stories failed:\n{failed.read_text(encoding='utf-8')}")
    assert stories_in(tmp_path / SUCCESSFUL) == len(story_names()), "not every test story was run"
