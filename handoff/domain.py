"""What the Rasa domain (domain.yml) declares, for the handoff service: the intents an agent or a
trainer may name, and the entities a trainer may mark. Read once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import FrozenSet

import yaml

from handoff.settings import PROJECT_ROOT


@lru_cache(maxsize=1)
def _domain(domain_path: Path = PROJECT_ROOT / "domain.yml") -> dict:
    return yaml.safe_load(domain_path.read_text(encoding="utf-8"))


def domain_intents() -> FrozenSet[str]:
    return frozenset(_domain()["intents"])


def domain_entities() -> FrozenSet[str]:
    return frozenset(_domain().get("entities") or [])
