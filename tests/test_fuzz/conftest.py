"""Fixtures of the fuzz suite. The handoff app, its settings and the shoppers' tokens are the
handoff tests' own fixtures (tests/test_handoff/conftest.py), imported here; this file adds the
case tally and a sandbox for the folders the trainers' routes write to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff.settings import HandoffSettings
from tests.conftest import PROJECT_ROOT
from tests.test_fuzz import budget
from tests.test_handoff.conftest import (  # noqa: F401 (fixtures)
    console_client,
    settings,
    shopper_token,
)


@pytest.fixture()
def cases(request: pytest.FixtureRequest) -> budget.Tally:
    return budget.Tally(request.node.nodeid.split("::", 1)[-1])


@pytest.fixture()
def sandboxed_settings(settings: HandoffSettings, tmp_path: Path) -> HandoffSettings:  # noqa: F811
    """Whatever a fuzzed request may write (labelled examples, models, saved stories) lands in tmp_path."""
    settings.training_data_dir = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", settings.training_data_dir)
    settings.trainer_models_dir = tmp_path / "models"
    settings.trainer_models_dir.mkdir()
    settings.saved_stories_dir = tmp_path / "saved_stories"
    return settings


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not budget.CASES:
        return
    terminalreporter.section("fuzz cases")
    for test_id, count in sorted(budget.CASES.items()):
        terminalreporter.write_line(f"{count:>7,}  {test_id}")
    total = sum(budget.CASES.values())
    goal = "" if total >= budget.TOTAL_GOAL else f"  (below the goal of {budget.TOTAL_GOAL:,}: FUZZ_SCALE={budget.scale():g})"
    terminalreporter.write_line(f"{total:>7,}  cases in total{goal}")
