"""SqliteShopRepository: the embedded store behind the ShopRepository interface (stdlib sqlite3).

One short-lived connection per call (SQLite opens in microseconds), so the repository can be
shared by coroutines and threads alike. Writes run in BEGIN IMMEDIATE transactions: two
processes opening the same case serialise on the write lock, and the partial UNIQUE index
`one_open_case` refuses a second open case for the same order, item and reason even if some
other writer forgets to check first.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, List, Optional

from pydantic import ValidationError

from actions.shop import sqlite_store as store
from actions.shop.case_states import INITIAL_STATUS, check_transition
from actions.shop.clock import store_now
from actions.shop.errors import CaseNotFoundError, InvalidCaseRequestError
from actions.shop.models import CaseEvent, CaseRequest, CaseStatus, Order, ReturnCase
from actions.shop.repository import ShopError

logger = logging.getLogger(__name__)


def clean_id(raw: str) -> str:
    """Ids are matched exactly; only surrounding spaces (half or full width) are dropped."""
    return raw.strip()


class SqliteShopRepository:
    def __init__(self, db_path: Path, clock: Callable[[], datetime] = store_now) -> None:
        self.db_path = Path(db_path)
        self._clock = clock
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as connection:
            store.create_schema(connection)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection whose database and data errors surface as ShopError."""
        try:
            connection = store.connect(self.db_path)
        except sqlite3.Error as error:
            raise ShopError(f"cannot open the shop database {self.db_path}: {error}") from error
        try:
            yield connection
        except sqlite3.Error as error:
            raise ShopError(f"shop database {self.db_path}: {error}") from error
        except ValidationError as error:
            raise ShopError(f"shop database {self.db_path} holds a malformed record: {error}") from error
        finally:
            connection.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one write transaction, committed on success, rolled back on any error."""
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    async def get_order(self, order_id: str) -> Optional[Order]:
        with self._connection() as connection:
            return store.load_order(connection, clean_id(order_id))

    async def list_orders(self, shopper_id: str) -> List[Order]:
        with self._connection() as connection:
            return store.load_orders_of(connection, clean_id(shopper_id))

    async def create_case(self, request: CaseRequest) -> ReturnCase:
        request = request.copy(update={"order_id": clean_id(request.order_id), "sku": clean_id(request.sku)})
        with self._write() as connection:
            self._check_request(connection, request)
            existing = store.load_open_case(connection, request.order_id, request.sku, request.reason.value)
            if existing is not None:
                logger.info("case %s is already open for order %s item %s (%s): returned as it is",
                            existing.case_id, request.order_id, request.sku, request.reason.value)
                return existing
            case = self._new_case(connection, request)
            store.insert_case(connection, case)
        logger.info("opened case %s for order %s item %s (%s)", case.case_id, case.order_id, case.sku,
                    case.reason.value)
        return case

    @staticmethod
    def _check_request(connection: sqlite3.Connection, request: CaseRequest) -> None:
        order = store.load_order(connection, request.order_id)
        if order is None:
            raise InvalidCaseRequestError(f"order {request.order_id!r} does not exist")
        if order.shopper_id != clean_id(request.shopper_id):
            raise InvalidCaseRequestError(f"order {request.order_id} does not belong to shopper {request.shopper_id!r}")
        if order.item(request.sku) is None:
            raise InvalidCaseRequestError(f"item {request.sku!r} is not on order {request.order_id}")

    def _new_case(self, connection: sqlite3.Connection, request: CaseRequest) -> ReturnCase:
        now = self._clock()
        return ReturnCase(
            case_id=store.next_case_id(connection, now),
            order_id=request.order_id,
            sku=request.sku,
            shopper_id=clean_id(request.shopper_id),
            reason=request.reason,
            resolution=request.resolution,
            status=INITIAL_STATUS,
            description=request.description,
            photo_ids=request.photo_ids,
            needs_review=request.needs_review,
            created_at=now,
            updated_at=now,
            history=[CaseEvent(time=now, status=INITIAL_STATUS, note="售后申请已提交，等待审核")],
        )

    async def get_case(self, case_id: str) -> Optional[ReturnCase]:
        with self._connection() as connection:
            return store.load_case(connection, clean_id(case_id))

    async def advance_case(self, case_id: str, status: CaseStatus, note: str = "") -> ReturnCase:
        case_id, status = clean_id(case_id), CaseStatus(status)
        with self._write() as connection:
            case = store.load_case(connection, case_id)
            if case is None:
                raise CaseNotFoundError(f"no case has the return number {case_id!r}")
            check_transition(case.status, status)
            store.update_case_status(connection, case_id, CaseEvent(time=self._clock(), status=status, note=note))
            updated = store.load_case(connection, case_id)
        logger.info("case %s: %s → %s", case_id, case.status.value, status.value)
        return updated

    async def list_cases(
        self, *, shopper_id: Optional[str] = None, order_id: Optional[str] = None
    ) -> List[ReturnCase]:
        if shopper_id is None and order_id is None:
            raise ValueError("list_cases needs a shopper_id, an order_id or both")
        with self._connection() as connection:
            return store.load_cases(
                connection,
                None if shopper_id is None else clean_id(shopper_id),
                None if order_id is None else clean_id(order_id),
            )
