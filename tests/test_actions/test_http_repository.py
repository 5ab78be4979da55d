"""HttpShopRepository against a real HTTP server implementing docs/shop-api.md (tests/test_actions/shop_contract_app.py).

The server runs uvicorn on a loopback port over a real SqliteShopRepository, so every answer the
adapter gets can be compared with what the embedded store says directly.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, NamedTuple

import pytest

from actions.shop.errors import CaseNotFoundError, InvalidCaseRequestError
from actions.shop.http_repository import HttpShopRepository, idempotency_key
from actions.shop.models import CaseRequest, CaseStatus, Reason, Resolution
from actions.shop.repository import CaseTransitionError, ShopError
from actions.shop.sqlite_repository import SqliteShopRepository
from tests.test_actions.shop_contract_app import Faults, create_contract_app, serve
from tests.test_actions.shop_fixtures import seeded_store

TOKEN = "test-token-5f1c"
TIMEOUT = 0.5
S = CaseStatus


class Store(NamedTuple):
    url: str
    db_path: Path
    labels: Dict[str, str]
    local: SqliteShopRepository  # the same store, read directly
    faults: Faults


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    db_path, labels = seeded_store(tmp_path)
    local = SqliteShopRepository(db_path)
    faults = Faults(slow_seconds=TIMEOUT * 3)
    with serve(create_contract_app(local, TOKEN, faults)) as url:
        yield Store(url, db_path, labels, local, faults)


@pytest.fixture()
def connect(store: Store) -> Callable[..., HttpShopRepository]:
    """A client for the test's own event loop (use it as `async with connect() as shop`)."""

    def make(token: str = TOKEN, retries: int = 2, url: str = store.url) -> HttpShopRepository:
        return HttpShopRepository(url, token, timeout_seconds=TIMEOUT, retries=retries, backoff_seconds=0.05)

    return make


def shirt_request(store: Store, **changes) -> CaseRequest:
    fields = dict(order_id=store.labels["tshirt_l_got_m"], sku="TS01-WH-L", shopper_id="u1005",
                  reason=Reason.WRONG_ITEM, resolution=Resolution.EXCHANGE, description="买的L码发来M码",
                  photo_ids=["ph-9"])
    return CaseRequest(**{**fields, **changes})


def count_cases(store: Store) -> int:
    with sqlite3.connect(store.db_path) as connection:
        return connection.execute("SELECT COUNT(*) FROM cases").fetchone()[0]


async def test_orders_come_back_exactly_as_the_store_has_them(store, connect) -> None:
    async with connect() as shop:
        for label in ("caked_milk_powder", "lost", "fresh_just_outside_24h"):
            order_id = store.labels[label]
            assert await shop.get_order(order_id) == await store.local.get_order(order_id)
        assert await shop.list_orders("u1007") == await store.local.list_orders("u1007")
        assert await shop.get_order(f"\u3000{store.labels['lost']} ") == await store.local.get_order(store.labels["lost"])
        assert await shop.get_order(store.labels["lost"][:-1]) is None
        assert await shop.get_order("20251123/../orders") is None
        assert await shop.get_order("  ") is None
        assert await shop.list_orders("u9999") == []
    assert store.faults.requests[0][2]["authorization"] == f"Bearer {TOKEN}"


async def test_cases_round_trip(store, connect) -> None:
    async with connect() as shop:
        case = await shop.create_case(shirt_request(store))
        assert case.status == S.REVIEWING and case.photo_ids == ["ph-9"]
        assert await shop.get_case(case.case_id) == case == await store.local.get_case(case.case_id)
        moved = await shop.advance_case(case.case_id, S.AWAITING_RETURN, "请寄回")
        assert [e.status for e in moved.history] == [S.REVIEWING, S.AWAITING_RETURN] and moved.history[-1].note == "请寄回"
        assert await shop.list_cases(shopper_id="u1005") == await store.local.list_cases(shopper_id="u1005")
        assert [c.case_id for c in await shop.list_cases(order_id=store.labels["tshirt_l_got_m"])] == [case.case_id]
        assert await shop.list_cases(shopper_id="u1007", order_id=store.labels["case_refunding"]) != []
        assert await shop.get_case("TH20990101000001") is None
        with pytest.raises(ValueError):
            await shop.list_cases()


async def test_the_same_case_request_twice_opens_one_case(store, connect) -> None:
    async with connect() as shop:
        first = await shop.create_case(shirt_request(store))
        again = await shop.create_case(shirt_request(store, description="再问一次"))
    assert again == first and count_cases(store) == 9
    keys = [h["idempotency-key"] for m, p, h in store.faults.requests if (m, p) == ("POST", "/cases")]
    assert keys == [idempotency_key(first.order_id, first.sku, first.reason.value)] * 2


async def test_refusals_keep_their_meaning(store, connect) -> None:
    async with connect() as shop:
        with pytest.raises(InvalidCaseRequestError, match="not on order"):
            await shop.create_case(shirt_request(store, sku="MP23-800"))
        with pytest.raises(InvalidCaseRequestError, match="does not exist"):
            await shop.create_case(shirt_request(store, order_id="209912310000000000"))
        case = await shop.create_case(shirt_request(store))
        with pytest.raises(CaseTransitionError, match="已退款"):
            await shop.advance_case(case.case_id, S.REFUNDED)
        with pytest.raises(CaseNotFoundError):
            await shop.advance_case("TH20990101000001", S.CLOSED)
    assert store.faults.count("POST", "/cases") == 3  # a 4xx answer is final: never retried


async def test_a_slow_store_times_out_after_the_retries(store, connect) -> None:
    order_path = f"/orders/{store.labels['lost']}"
    store.faults.queue("GET", order_path, "slow", "slow")
    started = time.monotonic()
    async with connect(retries=1) as shop:
        with pytest.raises(ShopError, match=r"did not answer within 0.5 s \(2 attempts\)"):
            await shop.get_order(store.labels["lost"])
    assert time.monotonic() - started < 4 * TIMEOUT
    assert store.faults.count("GET", order_path) == 2


async def test_a_503_then_a_200_is_retried_and_succeeds(store, connect) -> None:
    order_path = f"/orders/{store.labels['lost']}"
    store.faults.queue("GET", order_path, "503")
    async with connect() as shop:
        order = await shop.get_order(store.labels["lost"])
    assert order.order_id == store.labels["lost"] and store.faults.count("GET", order_path) == 2


async def test_a_store_that_keeps_failing_is_a_shop_error(store, connect) -> None:
    store.faults.queue("GET", "/orders", "503", "503", "503")
    async with connect(retries=2) as shop:
        with pytest.raises(ShopError, match=r"HTTP 503: 系统维护中 \(3 attempts\)"):
            await shop.list_orders("u1001")


async def test_a_retried_case_request_whose_first_answer_was_lost_opens_one_case(store, connect) -> None:
    store.faults.queue("POST", "/cases", "503-after")  # the case is made, then the answer is lost
    async with connect() as shop:
        case = await shop.create_case(shirt_request(store))
    assert store.faults.count("POST", "/cases") == 2 and count_cases(store) == 9
    assert await store.local.list_cases(order_id=case.order_id) == [case]


async def test_a_retried_transition_whose_first_answer_was_lost_is_not_an_error(store, connect) -> None:
    async with connect() as shop:
        case = await shop.create_case(shirt_request(store))
        store.faults.queue("POST", f"/cases/{case.case_id}/status", "503-after")
        moved = await shop.advance_case(case.case_id, S.CLOSED, "买家撤销")
    assert moved.status == S.CLOSED and [e.status for e in moved.history] == [S.REVIEWING, S.CLOSED]


async def test_a_wrong_token_is_refused_once_and_clearly(store, connect) -> None:
    async with connect(token="wrong") as shop:
        with pytest.raises(ShopError, match="refused our API token.*401"):
            await shop.get_order(store.labels["lost"])
    assert store.faults.count("GET", f"/orders/{store.labels['lost']}") == 1


@pytest.mark.parametrize("fault,message", [("not-json", "not JSON"), ("wrong-shape", "malformed reply")])
async def test_a_reply_that_is_not_the_contract_is_a_shop_error(store, connect, fault, message) -> None:
    store.faults.queue("GET", "/orders", fault)
    store.faults.queue("GET", f"/orders/{store.labels['lost']}", fault)
    async with connect() as shop:
        with pytest.raises(ShopError, match=message):
            await shop.list_orders("u1001")
        with pytest.raises(ShopError, match=message):
            await shop.get_order(store.labels["lost"])


async def test_an_unreachable_store_is_a_shop_error(connect) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with connect(url=f"http://127.0.0.1:{closed_port}", retries=1) as shop:
        with pytest.raises(ShopError, match=r"could not be reached.*\(2 attempts\)"):
            await shop.get_order("202511230000000001")


def test_constructor_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="http"):
        HttpShopRepository("ftp://store.example", TOKEN)
    with pytest.raises(ValueError, match="retries"):
        HttpShopRepository("http://127.0.0.1:9", TOKEN, retries=-1)
