"""The clock of our signed tokens (shopper tokens, agent sessions): whole unix seconds."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Optional


def unix_seconds(now: Optional[datetime] = None) -> int:
    """`now` (timezone-aware) or the current time, in whole unix seconds."""
    if now is None:
        return int(time.time())
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return int(now.timestamp())


def is_int_claim(value: object) -> bool:
    """A JWT time claim must be an integer (and JSON true is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)
