"""Reading the labelled anger examples of data/anger/ (and the dev split's anger file).

Each YAML file is a mapping with up to two lists of strings, `angry:` and `calm:`.
A file that does not have that shape is an error naming the file, never skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Union

import yaml

LABELS = ("angry", "calm")


class AngerDataError(ValueError):
    """A labelled anger file is missing, malformed or empty."""


@dataclass(frozen=True)
class AngerExample:
    text: str
    angry: bool


def _read_file(path: Path) -> List[AngerExample]:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise AngerDataError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(content, dict) or not set(content) <= set(LABELS):
        raise AngerDataError(f"{path}: expected a mapping with the lists 'angry' and/or 'calm'")
    examples = []
    for label in LABELS:
        items = content.get(label) or []
        if not isinstance(items, list):
            raise AngerDataError(f"{path}: '{label}' must be a list of strings")
        for item in items:
            if not isinstance(item, (str, int, float)) or not str(item).strip():
                raise AngerDataError(f"{path}: '{label}' has a non-text or empty item: {item!r}")
            examples.append(AngerExample(text=str(item), angry=label == "angry"))
    return examples


def load_examples(path: Union[str, Path]) -> List[AngerExample]:
    """All examples of one file, or of every *.yml/*.yaml file under a directory."""
    path = Path(path)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
    else:
        raise AngerDataError(f"{path}: no such file or directory")
    examples = [example for file in files for example in _read_file(file)]
    if not any(e.angry for e in examples) or all(e.angry for e in examples):
        raise AngerDataError(f"{path}: needs both angry and calm examples")
    return examples
