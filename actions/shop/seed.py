"""Create the demo store in SQLite, relative to a given time, and keep it fresh.

    python -m actions.shop.seed [--db PATH] [--force]

seeds var/shop.db when it is missing or was seeded more than a day ago (with --force: always),
then lists the story orders with today's order numbers (they start with the order date, so
they change at each reseed). The seed is deterministic for a given `now`.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Dict, List, Optional

from actions.shop import sqlite_store as store
from actions.shop.clock import store_now, to_store_time
from actions.shop.demo_orders import build_orders
from actions.shop.demo_plans import CASE_PLANS, STORIES, CasePlan
from actions.shop.models import CaseEvent, Order, ReturnCase

logger = logging.getLogger(__name__)

SEEDED_AT_KEY = "seeded_at"
LABEL_KEY_PREFIX = "label:"  # meta rows "label:<plan label>" → order id
DEFAULT_MAX_AGE = timedelta(days=1)


def seed(db_path: Path, now: datetime) -> Dict[str, str]:
    """Replace everything in the store at `db_path` with the demo store as of `now`; return {label: order_id}."""
    now = to_store_time(now)
    orders, labels = build_orders(now)
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    connection = store.connect(db_path)
    try:
        store.create_schema(connection)
        connection.execute("BEGIN IMMEDIATE")
        try:
            _replace_contents(connection, orders, labels, now)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    finally:
        connection.close()
    logger.info("seeded the demo store %s as of %s: %d orders, %d cases", db_path, now.isoformat(timespec="minutes"),
                len(orders), len(CASE_PLANS))
    return labels


def _replace_contents(connection: sqlite3.Connection, orders: List[Order], labels: Dict[str, str], now: datetime):
    for table in store.DATA_TABLES:
        connection.execute(f"DELETE FROM {table}")
    connection.execute("DELETE FROM meta")
    for order in orders:
        store.insert_order(connection, order)
    by_id = {order.order_id: order for order in orders}
    for plan in sorted(CASE_PLANS, key=lambda p: -p.steps[0][0]):
        case = build_case(plan, by_id[labels[plan.order_label]], now)
        store.insert_case(connection, case.copy(update={"case_id": store.next_case_id(connection, case.created_at)}))
    for label, order_id in labels.items():
        store.set_meta(connection, LABEL_KEY_PREFIX + label, order_id)
    store.set_meta(connection, SEEDED_AT_KEY, now.isoformat())


def build_case(plan: CasePlan, order: Order, now: datetime) -> ReturnCase:
    """The case as it stands after its planned steps (its return number is given when it is stored)."""
    history = [CaseEvent(time=now - ago, status=status, note=note) for ago, status, note in plan.steps]
    return ReturnCase(
        case_id="", order_id=order.order_id, sku=plan.sku, shopper_id=order.shopper_id, reason=plan.reason,
        resolution=plan.resolution, status=history[-1].status, description=plan.description,
        photo_ids=list(plan.photo_ids), needs_review=plan.needs_review, created_at=history[0].time,
        updated_at=history[-1].time, history=history,
    )


def seeded_at(db_path: Path) -> Optional[datetime]:
    """When the store at `db_path` was seeded, or None for a missing file or a store nobody seeded."""
    if not Path(db_path).exists():
        return None
    connection = store.connect(Path(db_path))
    try:
        store.create_schema(connection)
        value = store.get_meta(connection, SEEDED_AT_KEY)
    finally:
        connection.close()
    return None if value is None else datetime.fromisoformat(value)


def labelled_orders(db_path: Path) -> Dict[str, str]:
    """{label: order_id} of the hand-written demo orders in the store at `db_path`."""
    connection = store.connect(Path(db_path))
    try:
        rows = connection.execute("SELECT key, value FROM meta WHERE key LIKE ?", (LABEL_KEY_PREFIX + "%",)).fetchall()
    finally:
        connection.close()
    return {row["key"][len(LABEL_KEY_PREFIX):]: row["value"] for row in rows}


def _has_orders(db_path: Path) -> bool:
    connection = store.connect(Path(db_path))
    try:
        return connection.execute("SELECT 1 FROM orders LIMIT 1").fetchone() is not None
    finally:
        connection.close()


def ensure_seeded(db_path: Path, now: datetime, max_age: timedelta = DEFAULT_MAX_AGE) -> bool:
    """Seed when the file is missing or empty, or was seeded more than `max_age` before `now`.

    A store with orders that no seed wrote (a real one) is never touched. Returns True when it seeded.
    """
    db_path = Path(db_path)
    if not db_path.exists():
        logger.info("no shop database at %s: creating the demo store", db_path)
        seed(db_path, now)
        return True
    last = seeded_at(db_path)
    if last is None:
        if _has_orders(db_path):
            logger.info("%s holds orders no seed wrote: left as it is", db_path)
            return False
        logger.info("%s has no orders: seeding the demo store", db_path)
        seed(db_path, now)
        return True
    age = to_store_time(now) - last
    if age > max_age:
        logger.info("the demo store %s was seeded %s ago (more than %s): reseeding", db_path, age, max_age)
        seed(db_path, now)
        return True
    logger.info("the demo store %s was seeded %s ago: kept", db_path, age)
    return False


def main(argv: Optional[List[str]] = None) -> None:
    from actions.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m actions.shop.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=None, help="database file (default: SHOP_DB_PATH or var/shop.db)")
    parser.add_argument("--force", action="store_true", help="reseed even if the store is fresh")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    db_path = args.db or get_settings().shop_db_path
    now = store_now().replace(microsecond=0)
    if args.force:
        seed(db_path, now)
    else:
        ensure_seeded(db_path, now)
    labels = labelled_orders(db_path)
    for label, description in STORIES.items():
        logger.info("  %-22s %s  %s", label, labels.get(label, "(missing)"), description)


if __name__ == "__main__":
    main()
