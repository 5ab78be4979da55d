"""How many cases each fuzz test generates, and the tally of the cases that really ran.

Every test asks `examples(n)` for its share; FUZZ_SCALE multiplies all shares (FUZZ_SCALE=10
runs ten times as many cases, FUZZ_SCALE=0.1 a quick smoke run). Each test counts the cases
its body ran with `Tally.tick()`; conftest.py prints the counts and their total at the end.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings

SCALE_VARIABLE = "FUZZ_SCALE"
# The issue asks for at least this many generated cases over the suite.
TOTAL_GOAL = 10_000

CASES: Counter = Counter()


def scale() -> float:
    raw = os.environ.get(SCALE_VARIABLE, "1")
    try:
        value = float(raw)
    except ValueError as error:
        raise ValueError(f"{SCALE_VARIABLE} must be a number, got {raw!r}") from error
    if value <= 0:
        raise ValueError(f"{SCALE_VARIABLE} must be positive, got {raw!r}")
    return value


def examples(default: int) -> int:
    return max(1, round(default * scale()))


def fuzz_settings(default_examples: int, **overrides: Any) -> settings:
    """Hypothesis settings of the suite: no deadline (the machine is shared and busy), no example
    database in the work tree, and the fixtures shared by all examples of one test allowed."""
    options = dict(
        max_examples=examples(default_examples),
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    options.update(overrides)
    return settings(**options)


@dataclass
class Tally:
    """The cases one test ran (shrinking and replays included: each is a call of the system under test)."""

    test_id: str

    def tick(self, count: int = 1) -> None:
        CASES[self.test_id] += count
