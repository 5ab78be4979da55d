"""The store's clock: every time the store records is timezone-aware, in China Standard Time.

Stored times keep one offset (+08:00) so that they sort as text in SQLite and read
naturally to shoppers and agents; comparisons with naive datetimes fail loudly.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

STORE_TZ = timezone(timedelta(hours=8), "CST")


def store_now() -> datetime:
    """The current time in the store's timezone."""
    return datetime.now(STORE_TZ)


def to_store_time(moment: datetime) -> datetime:
    """`moment` in the store's timezone; a naive datetime is refused (its meaning is unknown)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: the store needs timezone-aware times")
    return moment.astimezone(STORE_TZ)
