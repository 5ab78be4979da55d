"""Shared helpers of the shop tests: one fixed seeding time and a seeded SQLite store in tmp_path."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Dict

from actions.shop.clock import STORE_TZ
from actions.shop.seed import seed

FIXED_NOW = datetime(2025, 11, 23, 15, 0, 0, tzinfo=STORE_TZ)


def seeded_store(tmp_path: Path, now: datetime = FIXED_NOW) -> "tuple[Path, Dict[str, str]]":
    """A demo store seeded as of `now` at tmp_path/shop.db, and its {label: order_id}."""
    db_path = tmp_path / "shop.db"
    return db_path, seed(db_path, now)


def ticking_clock(start: datetime, step: timedelta = timedelta(minutes=1)) -> Callable[[], datetime]:
    """A clock that moves `step` forward at each reading (for ordering in time)."""
    moments = iter(start + step * n for n in range(10**6))
    return lambda: next(moments)
