"""SqliteShopRepository on a real SQLite file seeded as of a fixed time: every method, idempotency, refusals."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Dict, Tuple

import pytest

from actions.shop.errors import CaseNotFoundError, InvalidCaseRequestError
from actions.shop.models import CaseRequest, CaseStatus, OrderStatus, Reason, Resolution
from actions.shop.repository import CaseTransitionError, ShopError
from actions.shop.sqlite_repository import SqliteShopRepository
from tests.test_actions.shop_fixtures import FIXED_NOW, seeded_store, ticking_clock

S = CaseStatus


@pytest.fixture()
def store(tmp_path: Path) -> Tuple[Path, Dict[str, str]]:
    return seeded_store(tmp_path)


@pytest.fixture()
def repo(store) -> SqliteShopRepository:
    return SqliteShopRepository(store[0], clock=ticking_clock(FIXED_NOW))


@pytest.fixture()
def labels(store) -> Dict[str, str]:
    return store[1]


def milk_request(order_id: str, **changes) -> CaseRequest:
    fields = dict(order_id=order_id, sku="MP23-800", shopper_id="u1001", reason=Reason.QUALITY,
                  resolution=Resolution.REFUND, description="奶粉打开全是结块", photo_ids=["ph-1"])
    return CaseRequest(**{**fields, **changes})


def count_cases(db_path: Path, order_id: str) -> int:
    with sqlite3.connect(db_path) as connection:
        return connection.execute("SELECT COUNT(*) FROM cases WHERE order_id = ?", (order_id,)).fetchone()[0]


async def test_get_order_returns_the_whole_order(repo, labels) -> None:
    order = await repo.get_order(labels["caked_milk_powder"])
    assert (order.shopper_id, order.phone, order.status) == ("u1001", "13912870456", OrderStatus.SIGNED)
    assert [(i.sku, i.quantity) for i in order.items] == [("MP23-800", 2), ("RC25-258", 1)]
    assert order.items[0].name == "飞鹤星飞帆奶粉 3段 800g" and str(order.items[0].unit_price) == "268.00"
    assert order.total == order.items[0].unit_price * 2 + order.items[1].unit_price
    times = [event.time for event in order.tracking]
    assert times == sorted(times) and order.tracking[-1].time == order.signed_at
    assert order.signed_at == FIXED_NOW - timedelta(days=2, hours=3)
    assert order.signed_at.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("typed", ["{id}", " {id} ", "\u3000{id}\t", "{id}\n"])
async def test_order_lookup_strips_surrounding_spaces(repo, labels, typed: str) -> None:
    order_id = labels["tshirt_l_got_m"]
    assert (await repo.get_order(typed.format(id=order_id))).order_id == order_id


@pytest.mark.parametrize("mangle", [lambda i: i[:-1], lambda i: i + "0", lambda i: i[:8] + " " + i[8:],
                                    lambda i: i[1:], lambda i: "%" + i[4:], lambda i: "", lambda i: "不存在的订单"])
async def test_order_lookup_is_exact(repo, labels, mangle) -> None:
    assert await repo.get_order(mangle(labels["tshirt_l_got_m"])) is None


async def test_list_orders_newest_first_and_only_the_shoppers(repo, labels) -> None:
    orders = await repo.list_orders("u1007")
    assert len(orders) == 5 and {o.shopper_id for o in orders} == {"u1007"}
    assert [o.placed_at for o in orders] == sorted((o.placed_at for o in orders), reverse=True)
    assert labels["many_signed_orders"] in {o.order_id for o in orders}
    assert [o.order_id for o in await repo.list_orders(" u1006 ")] == [labels["only_recent_order"]]
    assert await repo.list_orders("u9999") == [] and await repo.list_orders("u100") == []


async def test_create_case_opens_a_case_under_review(repo, labels, store) -> None:
    case = await repo.create_case(milk_request(labels["caked_milk_powder"]))
    assert case.case_id == "TH20251123000001"
    assert (case.status, case.reason, case.resolution, case.shopper_id) == (
        S.REVIEWING, Reason.QUALITY, Resolution.REFUND, "u1001")
    assert case.photo_ids == ["ph-1"] and case.description == "奶粉打开全是结块"
    assert [e.status for e in case.history] == [S.REVIEWING] and case.created_at == FIXED_NOW
    assert await repo.get_case(case.case_id) == case
    assert await SqliteShopRepository(store[0]).get_case(f" {case.case_id} ") == case


async def test_create_case_is_idempotent_per_order_item_and_reason(repo, labels, store) -> None:
    order_id = labels["caked_milk_powder"]
    first = await repo.create_case(milk_request(order_id))
    again = await repo.create_case(milk_request(f" {order_id} ", description="再说一遍：结块", photo_ids=[]))
    assert again == first
    other_reason = await repo.create_case(milk_request(order_id, reason=Reason.WRONG_ITEM))
    other_item = await repo.create_case(milk_request(order_id, sku="RC25-258"))
    assert len({first.case_id, other_reason.case_id, other_item.case_id}) == 3
    assert other_item.case_id == "TH20251123000003"
    assert count_cases(store[0], order_id) == 3


async def test_a_closed_case_does_not_block_a_new_one(repo, labels) -> None:
    first = await repo.create_case(milk_request(labels["caked_milk_powder"]))
    await repo.advance_case(first.case_id, S.CLOSED, "买家撤销")
    second = await repo.create_case(milk_request(labels["caked_milk_powder"]))
    assert second.case_id != first.case_id and second.status == S.REVIEWING


def test_concurrent_requests_from_separate_connections_make_one_case(store) -> None:
    db_path, labels = store
    request = milk_request(labels["caked_milk_powder"])
    start = threading.Barrier(8)

    def open_case(_: int) -> str:
        repository = SqliteShopRepository(db_path)  # its own connections, as another process would have
        start.wait()
        return asyncio.run(repository.create_case(request)).case_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        case_ids = set(pool.map(open_case, range(8)))
    assert len(case_ids) == 1
    assert count_cases(db_path, labels["caked_milk_powder"]) == 1


async def test_the_database_itself_refuses_a_second_open_case(repo, labels, store) -> None:
    case = await repo.create_case(milk_request(labels["caked_milk_powder"]))
    with sqlite3.connect(store[0]) as connection, pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        connection.execute(
            "INSERT INTO cases SELECT 'TH20990101000001', order_id, sku, shopper_id, reason, resolution, '待寄回',"
            " description, photo_ids, needs_review, created_at, updated_at FROM cases WHERE case_id = ?",
            (case.case_id,),
        )


@pytest.mark.parametrize("changes,message", [
    ({"order_id": "209912310000000000"}, "does not exist"),
    ({"sku": "TS01-WH-L"}, "not on order"),
    ({"shopper_id": "u1002"}, "does not belong"),
])
async def test_create_case_refuses_a_wrong_request_and_writes_nothing(repo, labels, store, changes, message) -> None:
    with pytest.raises(InvalidCaseRequestError, match=message):
        await repo.create_case(milk_request(**{"order_id": labels["caked_milk_powder"], **changes}))
    assert count_cases(store[0], labels["caked_milk_powder"]) == 0


async def test_advance_case_walks_the_return_path_and_records_each_step(repo, labels) -> None:
    case = await repo.create_case(milk_request(labels["caked_milk_powder"]))
    path = [S.AWAITING_RETURN, S.RETURNED, S.INSPECTING, S.REFUNDING, S.REFUNDED]
    for status in path:
        case = await repo.advance_case(case.case_id, status, f"→ {status.value}")
    assert case.status == S.REFUNDED
    assert [e.status for e in case.history] == [S.REVIEWING, *path]
    assert case.history[-1].note == "→ 已退款" and case.updated_at == case.history[-1].time > case.created_at
    assert await repo.get_case(case.case_id) == case


async def test_a_refused_transition_changes_nothing(repo, labels) -> None:
    case = await repo.create_case(milk_request(labels["caked_milk_powder"]))
    with pytest.raises(CaseTransitionError, match="审核中"):
        await repo.advance_case(case.case_id, S.REFUNDED)
    assert await repo.get_case(case.case_id) == case


async def test_unknown_cases(repo) -> None:
    assert await repo.get_case("TH20251123999999") is None
    assert await repo.get_case("") is None
    with pytest.raises(CaseNotFoundError, match="TH20251123999999"):
        await repo.advance_case("TH20251123999999", S.CLOSED)


async def test_list_cases_by_shopper_order_or_both(repo, labels) -> None:
    seeded = await repo.list_cases(shopper_id="u1007")
    assert [(c.status, c.order_id) for c in seeded] == [(S.REFUNDING, labels["case_refunding"])]
    first = await repo.create_case(milk_request(labels["caked_milk_powder"]))
    second = await repo.create_case(milk_request(labels["caked_milk_powder"], sku="RC25-258"))
    assert [c.case_id for c in await repo.list_cases(shopper_id="u1001")] == [second.case_id, first.case_id]
    assert [c.case_id for c in await repo.list_cases(order_id=labels["caked_milk_powder"])] == [
        second.case_id, first.case_id]
    assert await repo.list_cases(shopper_id="u1002", order_id=labels["caked_milk_powder"]) == []
    assert await repo.list_cases(shopper_id="u9999") == []
    with pytest.raises(ValueError, match="shopper_id"):
        await repo.list_cases()


async def test_a_new_file_gets_the_schema_in_wal_mode(tmp_path: Path) -> None:
    db_path = tmp_path / "nested" / "empty.db"
    repository = SqliteShopRepository(db_path)
    assert await repository.list_orders("u1001") == [] and await repository.get_order("2025") is None
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"orders", "order_items", "tracking_events", "cases", "case_events"} <= tables


async def test_a_broken_database_is_a_shop_error(tmp_path: Path, store) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ShopError, match="garbage.db"):
        SqliteShopRepository(garbage)
    db_path, labels = store
    with sqlite3.connect(db_path) as connection:
        connection.execute("UPDATE orders SET status = '已发货' WHERE order_id = ?", (labels["lost"],))
    with pytest.raises(ShopError, match="malformed record"):
        await SqliteShopRepository(db_path).get_order(labels["lost"])
