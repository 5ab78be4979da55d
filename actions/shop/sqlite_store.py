"""Tables of the embedded store (stdlib sqlite3) and the mapping between rows and models.

Synchronous and stateless: callers pass a connection and own the transaction. Used by
SqliteShopRepository (behaviour) and the seed (bulk load). Times are stored as ISO 8601
text in the store's timezone, money as decimal text, photo ids as a JSON list.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import List, Optional

from actions.shop.case_states import FINAL_STATUSES
from actions.shop.clock import to_store_time
from actions.shop.models import CaseEvent, Order, OrderItem, ReturnCase, TrackingEvent

BUSY_TIMEOUT_SECONDS = 10.0
CASE_ID_PREFIX = "TH"

_FINAL = ", ".join(f"'{status.value}'" for status in sorted(FINAL_STATUSES))

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, shopper_id TEXT NOT NULL, phone TEXT NOT NULL, status TEXT NOT NULL,
    placed_at TEXT NOT NULL, paid_at TEXT, shipped_at TEXT, signed_at TEXT, signed_by TEXT,
    carrier TEXT, tracking_number TEXT, payment_method TEXT NOT NULL,
    freight_insurance INTEGER NOT NULL DEFAULT 0, address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS orders_by_shopper ON orders (shopper_id, placed_at);
CREATE TABLE IF NOT EXISTS order_items (
    order_id TEXT NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE, position INTEGER NOT NULL,
    sku TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL DEFAULT '', category TEXT NOT NULL,
    unit_price TEXT NOT NULL, quantity INTEGER NOT NULL, stock INTEGER NOT NULL, opened INTEGER,
    PRIMARY KEY (order_id, sku)
);
CREATE TABLE IF NOT EXISTS tracking_events (
    order_id TEXT NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE, position INTEGER NOT NULL,
    time TEXT NOT NULL, location TEXT NOT NULL, description TEXT NOT NULL,
    PRIMARY KEY (order_id, position)
);
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders (order_id), sku TEXT NOT NULL,
    shopper_id TEXT NOT NULL, reason TEXT NOT NULL, resolution TEXT NOT NULL, status TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', photo_ids TEXT NOT NULL DEFAULT '[]',
    needs_review INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_by_shopper ON cases (shopper_id, created_at);
CREATE INDEX IF NOT EXISTS cases_by_order ON cases (order_id, created_at);
-- At most one open case per order, item and reason, whoever writes it.
CREATE UNIQUE INDEX IF NOT EXISTS one_open_case ON cases (order_id, sku, reason)
    WHERE status NOT IN ({_FINAL});
CREATE TABLE IF NOT EXISTS case_events (
    case_id TEXT NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE, position INTEGER NOT NULL,
    time TEXT NOT NULL, status TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (case_id, position)
);
"""

DATA_TABLES = ("case_events", "cases", "tracking_events", "order_items", "orders")


def connect(db_path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit: BEGIN IMMEDIATE … COMMIT)."""
    connection = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def create_schema(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA journal_mode = WAL")
    connection.executescript(SCHEMA)


def time_text(moment: Optional[datetime]) -> Optional[str]:
    return None if moment is None else to_store_time(moment).isoformat(timespec="microseconds")


def read_time(text: Optional[str]) -> Optional[datetime]:
    return None if text is None else datetime.fromisoformat(text)


def get_meta(connection: sqlite3.Connection, key: str) -> Optional[str]:
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row["value"]


def set_meta(connection: sqlite3.Connection, key: str, value: str) -> None:
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def insert_order(connection: sqlite3.Connection, order: Order) -> None:
    connection.execute(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            order.order_id, order.shopper_id, order.phone, order.status.value, time_text(order.placed_at),
            time_text(order.paid_at), time_text(order.shipped_at), time_text(order.signed_at), order.signed_by,
            order.carrier, order.tracking_number, order.payment_method.value, int(order.freight_insurance),
            order.address,
        ),
    )
    connection.executemany(
        "INSERT INTO order_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (order.order_id, position, i.sku, i.name, i.spec, i.category.value, str(i.unit_price), i.quantity,
             i.stock, None if i.opened is None else int(i.opened))
            for position, i in enumerate(order.items)
        ],
    )
    connection.executemany(
        "INSERT INTO tracking_events VALUES (?, ?, ?, ?, ?)",
        [(order.order_id, n, time_text(e.time), e.location, e.description) for n, e in enumerate(order.tracking)],
    )


def load_order(connection: sqlite3.Connection, order_id: str) -> Optional[Order]:
    row = connection.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return None if row is None else _order_from_row(connection, row)


def load_orders_of(connection: sqlite3.Connection, shopper_id: str) -> List[Order]:
    rows = connection.execute(
        "SELECT * FROM orders WHERE shopper_id = ? ORDER BY placed_at DESC, order_id DESC", (shopper_id,)
    ).fetchall()
    return [_order_from_row(connection, row) for row in rows]


def _order_from_row(connection: sqlite3.Connection, row: sqlite3.Row) -> Order:
    items = connection.execute(
        "SELECT * FROM order_items WHERE order_id = ? ORDER BY position", (row["order_id"],)
    ).fetchall()
    events = connection.execute(
        "SELECT * FROM tracking_events WHERE order_id = ? ORDER BY position", (row["order_id"],)
    ).fetchall()
    return Order(
        order_id=row["order_id"], shopper_id=row["shopper_id"], phone=row["phone"], status=row["status"],
        placed_at=read_time(row["placed_at"]), paid_at=read_time(row["paid_at"]),
        shipped_at=read_time(row["shipped_at"]), signed_at=read_time(row["signed_at"]), signed_by=row["signed_by"],
        carrier=row["carrier"], tracking_number=row["tracking_number"], payment_method=row["payment_method"],
        freight_insurance=bool(row["freight_insurance"]), address=row["address"],
        items=[
            OrderItem(
                sku=i["sku"], name=i["name"], spec=i["spec"], category=i["category"], unit_price=Decimal(i["unit_price"]),
                quantity=i["quantity"], stock=i["stock"], opened=None if i["opened"] is None else bool(i["opened"]),
            )
            for i in items
        ],
        tracking=[TrackingEvent(time=read_time(e["time"]), location=e["location"], description=e["description"])
                  for e in events],
    )


def insert_case(connection: sqlite3.Connection, case: ReturnCase) -> None:
    """Insert a case with its whole history (raises sqlite3.IntegrityError for a second open case)."""
    connection.execute(
        "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            case.case_id, case.order_id, case.sku, case.shopper_id, case.reason.value, case.resolution.value,
            case.status.value, case.description, json.dumps(case.photo_ids), int(case.needs_review),
            time_text(case.created_at), time_text(case.updated_at),
        ),
    )
    for event in case.history:
        append_case_event(connection, case.case_id, event)


def append_case_event(connection: sqlite3.Connection, case_id: str, event: CaseEvent) -> None:
    connection.execute(
        "INSERT INTO case_events VALUES (?, (SELECT COUNT(*) FROM case_events WHERE case_id = ?), ?, ?, ?)",
        (case_id, case_id, time_text(event.time), event.status.value, event.note),
    )


def update_case_status(connection: sqlite3.Connection, case_id: str, event: CaseEvent) -> None:
    connection.execute(
        "UPDATE cases SET status = ?, updated_at = ? WHERE case_id = ?",
        (event.status.value, time_text(event.time), case_id),
    )
    append_case_event(connection, case_id, event)


def load_case(connection: sqlite3.Connection, case_id: str) -> Optional[ReturnCase]:
    row = connection.execute("SELECT * FROM cases WHERE case_id = ?", (case_id,)).fetchone()
    return None if row is None else _case_from_row(connection, row)


def load_open_case(connection: sqlite3.Connection, order_id: str, sku: str, reason: str) -> Optional[ReturnCase]:
    row = connection.execute(
        f"SELECT * FROM cases WHERE order_id = ? AND sku = ? AND reason = ? AND status NOT IN ({_FINAL})",
        (order_id, sku, reason),
    ).fetchone()
    return None if row is None else _case_from_row(connection, row)


def load_cases(connection: sqlite3.Connection, shopper_id: Optional[str], order_id: Optional[str]) -> List[ReturnCase]:
    rows = connection.execute(
        "SELECT * FROM cases WHERE (:shopper IS NULL OR shopper_id = :shopper) AND (:order IS NULL OR order_id = :order)"
        " ORDER BY created_at DESC, case_id DESC",
        {"shopper": shopper_id, "order": order_id},
    ).fetchall()
    return [_case_from_row(connection, row) for row in rows]


def _case_from_row(connection: sqlite3.Connection, row: sqlite3.Row) -> ReturnCase:
    events = connection.execute(
        "SELECT * FROM case_events WHERE case_id = ? ORDER BY position", (row["case_id"],)
    ).fetchall()
    return ReturnCase(
        case_id=row["case_id"], order_id=row["order_id"], sku=row["sku"], shopper_id=row["shopper_id"],
        reason=row["reason"], resolution=row["resolution"], status=row["status"], description=row["description"],
        photo_ids=json.loads(row["photo_ids"]), needs_review=bool(row["needs_review"]),
        created_at=read_time(row["created_at"]), updated_at=read_time(row["updated_at"]),
        history=[CaseEvent(time=read_time(e["time"]), status=e["status"], note=e["note"]) for e in events],
    )


def next_case_id(connection: sqlite3.Connection, created_at: datetime) -> str:
    """The next return number of that store-local day: TH + yyyymmdd + a 6-digit daily sequence."""
    day_prefix = CASE_ID_PREFIX + to_store_time(created_at).strftime("%Y%m%d")
    row = connection.execute(
        "SELECT MAX(case_id) AS last FROM cases WHERE case_id LIKE ? AND length(case_id) = ?",
        (day_prefix + "%", len(day_prefix) + 6),
    ).fetchone()
    sequence = int(row["last"][len(day_prefix):]) + 1 if row["last"] else 1
    return f"{day_prefix}{sequence:06d}"
