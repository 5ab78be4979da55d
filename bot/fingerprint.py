"""Content fingerprints: "is the trained model stale?" and Rasa component cache keys.

Rasa fingerprints a component by its config and its training data. It does not see
files a component reads on its own (the jieba dictionary, the anger examples) nor our
components' code, so those are hashed here and handed to Rasa through
`GraphComponent.fingerprint_addon`, and into the project fingerprint that names the
model file (`models/shouhou-<fingerprint>.tar.gz`).

Run `python -m bot.fingerprint` to print the current project fingerprint.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Iterable, List, Union

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
MODEL_PREFIX = "shouhou-"

# Everything a trained model depends on: the list, the code of our own NLU
# components, and how `rasa train` is called (which folders it is given). The dev split
# (data/eval) is not trained on, so it is left out.
MODEL_INPUTS = ("config.yml", "domain.yml", "data", "bot", "scripts/rasa_cli.py", "scripts/train.py")
EXCLUDED_DIRS = {"eval", "__pycache__"}
# Not model inputs: loaded by the Rasa server at run time (its stores and entry point), or this file.
RUNTIME_ONLY = {
    "bot/tracker_store.py", "bot/strict_tracker_store.py", "bot/lock_store.py", "bot/rasa_server.py", "bot/fingerprint.py",
    "bot/event_validation.py", "bot/pooled_endpoints.py", "bot/incremental_tracker.py",
    "bot/action_calls.py", "bot/graph_runner.py",
}


def _files_under(path: Path) -> List[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not EXCLUDED_DIRS.intersection(p.relative_to(path).parts) and p.suffix != ".pyc"
    )


def digest_paths(paths: Iterable[Union[str, Path]], root: Path = PROJECT_ROOT) -> str:
    """sha256 over the relative names and contents of every file under `paths`."""
    digest = hashlib.sha256()
    for raw in paths:
        path = Path(raw)
        path = path if path.is_absolute() else root / path
        for file in _files_under(path):
            try:
                name = file.relative_to(root).as_posix()
            except ValueError:
                name = file.name
            if name in RUNTIME_ONLY:
                continue
            digest.update(name.encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def module_path(module_name: str) -> Path:
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:
        raise ImportError(f"cannot locate module {module_name}")
    return Path(spec.origin)


def project_fingerprint(root: Path = PROJECT_ROOT) -> str:
    return digest_paths(MODEL_INPUTS, root=root)[:16]


def model_path(root: Path = PROJECT_ROOT) -> Path:
    """Where the model for the current inputs is (or will be) stored."""
    return root / "models" / f"{MODEL_PREFIX}{project_fingerprint(root)}.tar.gz"


if __name__ == "__main__":
    print(project_fingerprint())
