"""The set-up's own promises: stale-model detection and a clear message without Python 3.10."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.fingerprint import project_fingerprint

ROOT = Path(__file__).resolve().parent.parent


def copy_project_inputs(target: Path) -> None:
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, target / name)
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copytree(ROOT / "bot", target / "bot", ignore=shutil.ignore_patterns("__pycache__"))


def test_fingerprint_changes_with_every_model_input_but_not_the_dev_split(tmp_path):
    copy_project_inputs(tmp_path)
    original = project_fingerprint(tmp_path)
    assert project_fingerprint(tmp_path) == original

    (tmp_path / "data" / "eval" / "nlu.yml").write_text("changed", encoding="utf-8")
    assert project_fingerprint(tmp_path) == original

    seen = {original}
    for path in ("bot/dictionary/products.txt", "data/nlu/greet.yml", "data/anger/waiting.yml", "config.yml", "domain.yml"):
        with open(tmp_path / path, "a", encoding="utf-8") as file:
            file.write("\n# changed\n")
        changed = project_fingerprint(tmp_path)
        assert changed not in seen, path
        seen.add(changed)


def test_setup_says_what_is_missing_without_python_310(tmp_path):
    if shutil.which("python3.10", path="/usr/bin:/bin"):
        pytest.skip("this machine has a system python3.10")
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy(ROOT / "scripts" / "setup_venv.sh", scripts / "setup_venv.sh")
    (tmp_path / "requirements.lock").write_text("six==1.16.0\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON": "/bin/false"}
    result = subprocess.run(["bash", str(scripts / "setup_venv.sh")], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "Python 3.10 is required" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_setup_is_a_no_op_when_the_venv_matches_the_lock():
    result = subprocess.run(["bash", "scripts/setup_venv.sh"], cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 0
    assert result.stdout == ""


def test_the_lock_pins_every_package_by_name_and_version_only():
    """A `name @ file:///…` line installs on the machine that wrote it and nowhere else."""
    pin = re.compile(r"^[A-Za-z0-9_.-]+==[^\s@]+$")
    lines = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    unpinned = [line for line in lines if line and not line.startswith("#") and not pin.match(line)]
    assert unpinned == []
