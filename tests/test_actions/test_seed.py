"""The demo store: what it holds, where its dates fall, that it is reproducible and kept fresh."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Dict, List

import pytest

from actions.shop.case_states import check_transition
from actions.shop.demo_catalog import SHOPPERS
from actions.shop.models import CaseRequest, CaseStatus, Category, Order, OrderStatus, PaymentMethod, Reason, Resolution
from actions.shop.seed import ensure_seeded, labelled_orders, seed, seeded_at
from actions.shop.sqlite_repository import SqliteShopRepository
from tests.test_actions.shop_fixtures import FIXED_NOW, seeded_store

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def all_orders(db_path: Path) -> List[Order]:
    repository = SqliteShopRepository(db_path)
    with sqlite3.connect(db_path) as connection:
        shoppers = [row[0] for row in connection.execute("SELECT DISTINCT shopper_id FROM orders")]
    return [o for s in sorted(shoppers) for o in asyncio.run(repository.list_orders(s))]


def all_cases(db_path: Path):
    repository = SqliteShopRepository(db_path)
    return [c for s in SHOPPERS for c in asyncio.run(repository.list_cases(shopper_id=s.shopper_id))]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Dict:
    db_path, labels = seeded_store(tmp_path_factory.mktemp("demo"))
    orders = all_orders(db_path)
    return {"db": db_path, "labels": labels, "orders": orders, "by_id": {o.order_id: o for o in orders}}


def signed_age(order: Order) -> timedelta:
    return FIXED_NOW - order.signed_at


def test_size_shoppers_and_phones(demo) -> None:
    orders = demo["orders"]
    assert len(orders) >= 60
    phones_by_shopper: Dict[str, set] = {}
    for order in orders:
        phones_by_shopper.setdefault(order.shopper_id, set()).add(order.phone)
    assert len(phones_by_shopper) >= 15
    assert all(re.fullmatch(r"u\d{4}", shopper) for shopper in phones_by_shopper)
    assert all(len(phones) == 1 for phones in phones_by_shopper.values())
    phones = [next(iter(p)) for p in phones_by_shopper.values()]
    assert len(set(phones)) == len(phones) and all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)


def test_order_numbers_are_eighteen_digits_starting_with_the_order_date(demo) -> None:
    for order in demo["orders"]:
        assert re.fullmatch(r"20\d{16}", order.order_id)
        assert order.order_id[:8] == order.placed_at.strftime("%Y%m%d")
    assert len(demo["by_id"]) == len(demo["orders"])


def test_every_category_status_payment_and_carrier_is_present(demo) -> None:
    orders = demo["orders"]
    assert {i.category for o in orders for i in o.items} == set(Category)
    assert {o.status for o in orders} == set(OrderStatus)
    assert {o.payment_method for o in orders} == set(PaymentMethod)
    assert {o.carrier for o in orders if o.carrier} == {"中通", "顺丰", "京东", "圆通", "韵达"}
    assert {o.freight_insurance for o in orders} == {True, False}
    assert sum(len(o.items) > 1 for o in orders) >= 3
    stocks = [i.stock for o in orders for i in o.items]
    assert 0 in stocks and sum(s > 0 for s in stocks) > len(stocks) / 2
    specs = " ".join(i.spec for o in orders for i in o.items)
    assert all(word in specs for word in ("白色", "L码", "ml", "g", "cm"))


def test_personal_care_items_say_whether_they_were_opened(demo) -> None:
    care = [i for o in demo["orders"] for i in o.items if i.category == Category.PERSONAL_CARE]
    assert {i.opened for i in care} == {True, False}
    assert all(i.opened is None for o in demo["orders"] for i in o.items if i.category != Category.PERSONAL_CARE)


def test_times_run_in_order_and_match_the_status(demo) -> None:
    for order in demo["orders"]:
        steps = [t for t in (order.placed_at, order.paid_at, order.shipped_at, order.signed_at) if t is not None]
        assert steps == sorted(steps) and steps[-1] <= FIXED_NOW, order.order_id
        assert [e.time for e in order.tracking] == sorted(e.time for e in order.tracking)
        assert all(order.shipped_at <= e.time <= FIXED_NOW for e in order.tracking)
        if order.status == OrderStatus.PENDING_PAYMENT:
            assert order.paid_at is None and order.shipped_at is None
        if order.status in (OrderStatus.TO_SHIP, OrderStatus.CANCELLED):
            assert order.shipped_at is None and not order.tracking
        if order.status == OrderStatus.IN_TRANSIT:
            assert order.signed_at is None and order.tracking and order.carrier and order.tracking_number
        if order.status == OrderStatus.SIGNED and order.items[0].category != Category.VIRTUAL:
            assert order.tracking[-1].time == order.signed_at and "签收" in order.tracking[-1].description
            assert order.tracking[0].description.find("揽收") > 0 and order.signed_by


@pytest.mark.parametrize("window,fresh_only", [(DAY, True), (7 * DAY, False), (15 * DAY, False)])
def test_sign_for_times_spread_around_each_window(demo, window: timedelta, fresh_only: bool) -> None:
    signed = [o for o in demo["orders"] if o.status == OrderStatus.SIGNED]
    if fresh_only:
        signed = [o for o in signed if any(i.category == Category.FRESH for i in o.items)]
    ages = [signed_age(o) for o in signed]
    assert any(window - HOUR < a < window for a in ages), "none just inside"
    assert any(window < a < window + HOUR for a in ages), "none just outside"
    assert any(a < window - HOUR for a in ages) and any(a > window + HOUR for a in ages)


def test_deliveries_that_went_wrong(demo) -> None:
    in_transit = [o for o in demo["orders"] if o.status == OrderStatus.IN_TRANSIT]
    stuck = [o for o in in_transit if FIXED_NOW - o.tracking[-1].time >= 4 * DAY]
    lost = [o for o in in_transit if "遗失" in o.tracking[-1].description]
    assert len(stuck) >= 2 and len(lost) == 1
    assert {demo["labels"]["stuck"], demo["labels"]["lost"]} <= {o.order_id for o in stuck + lost}
    assert any(FIXED_NOW - o.tracking[-1].time < DAY for o in in_transit), "no parcel moving normally"
    signed_by = Counter(o.signed_by for o in demo["orders"] if o.signed_by)
    assert signed_by["家人"] >= 1 and signed_by["快递柜"] + signed_by["驿站"] >= 1 and signed_by["本人"] > 10
    cities = " ".join(e.location for o in demo["orders"] for e in o.tracking)
    assert all(city in cities for city in ("杭州", "北京", "成都", "转运中心"))


def story(demo, label: str) -> Order:
    return demo["by_id"][demo["labels"][label]]


def test_the_five_stories(demo) -> None:
    milk = story(demo, "caked_milk_powder")
    assert milk.items[0].category == Category.BABY and "奶粉" in milk.items[0].name
    assert 2 * DAY <= signed_age(milk) < 3 * DAY
    family = story(demo, "family_signed")
    assert family.signed_by == "家人" and "家人" in family.tracking[-1].description
    assert 15 * DAY <= signed_age(family) < 16 * DAY
    necklace = story(demo, "engraved_necklace")
    assert necklace.items[0].category == Category.CUSTOM and "项链" in necklace.items[0].name
    assert 29 * DAY < signed_age(necklace) < 31 * DAY
    bag = story(demo, "wrong_brand_handbag")
    assert bag.items[0].category == Category.SHOES_BAGS and "包" in bag.items[0].name
    assert 3 * DAY <= signed_age(bag) < 4 * DAY
    shirt = story(demo, "tshirt_l_got_m")
    assert shirt.items[0].category == Category.APPAREL and "T恤" in shirt.items[0].name
    assert "L码" in shirt.items[0].spec and 3 * DAY <= signed_age(shirt) < 4 * DAY
    assert len({o.shopper_id for o in (milk, family, necklace, bag, shirt)}) == 5


def test_a_shopper_with_one_recent_order_and_one_with_several(demo) -> None:
    only = [o for o in demo["orders"] if o.shopper_id == "u1006"]
    assert [o.order_id for o in only] == [demo["labels"]["only_recent_order"]]
    assert only[0].status == OrderStatus.SIGNED and signed_age(only[0]) < 7 * DAY
    several = [o for o in demo["orders"] if o.shopper_id == "u1007"]
    assert len(several) >= 3 and all(o.status == OrderStatus.SIGNED for o in several)


def test_existing_cases_cover_every_state_with_valid_histories(demo) -> None:
    cases = all_cases(demo["db"])
    assert {c.status for c in cases} == set(CaseStatus)
    for case in cases:
        assert re.fullmatch(r"TH\d{14}", case.case_id) and case.case_id[2:10] == case.created_at.strftime("%Y%m%d")
        assert case.history[0].status == CaseStatus.REVIEWING and case.history[-1].status == case.status
        for before, after in zip(case.history, case.history[1:], strict=False):
            check_transition(before.status, after.status)
            assert before.time < after.time
        order = demo["by_id"][case.order_id]
        assert order.item(case.sku) and order.shopper_id == case.shopper_id and order.signed_at < case.created_at


def dump(db_path: Path):
    return [o.json() for o in all_orders(db_path)], [c.json() for c in all_cases(db_path)]


def test_the_same_now_gives_the_same_store(tmp_path: Path, demo) -> None:
    again, _ = seeded_store(tmp_path)
    assert dump(again) == dump(demo["db"])
    later, labels = seeded_store(tmp_path / "later", FIXED_NOW + DAY)
    assert set(labels) == set(demo["labels"])
    later_milk = asyncio.run(SqliteShopRepository(later).get_order(labels["caked_milk_powder"]))
    assert later_milk.signed_at == story(demo, "caked_milk_powder").signed_at + DAY


def test_seed_replaces_what_was_there(tmp_path: Path) -> None:
    db_path, labels = seeded_store(tmp_path)
    repository = SqliteShopRepository(db_path)
    asyncio.run(repository.create_case(CaseRequest(
        order_id=labels["tshirt_l_got_m"], sku="TS01-WH-L", shopper_id="u1005", reason=Reason.WRONG_ITEM,
        resolution=Resolution.EXCHANGE)))
    before = len(all_cases(db_path))
    assert seed(db_path, FIXED_NOW) == labels
    assert len(all_cases(db_path)) == before - 1
    assert labelled_orders(db_path) == labels


def test_naive_times_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        seed(tmp_path / "shop.db", datetime(2025, 11, 23, 15, 0))


def test_ensure_seeded_reseeds_only_when_missing_empty_or_stale(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="actions.shop.seed")
    db_path = tmp_path / "var" / "shop.db"
    assert ensure_seeded(db_path, FIXED_NOW) is True and "creating the demo store" in caplog.text
    assert seeded_at(db_path) == FIXED_NOW
    asyncio.run(SqliteShopRepository(db_path).create_case(CaseRequest(
        order_id=labelled_orders(db_path)["tshirt_l_got_m"], sku="TS01-WH-L", shopper_id="u1005",
        reason=Reason.WRONG_ITEM, resolution=Resolution.EXCHANGE)))
    cases = len(all_cases(db_path))

    assert ensure_seeded(db_path, FIXED_NOW + 23 * HOUR) is False and "kept" in caplog.text
    assert len(all_cases(db_path)) == cases and seeded_at(db_path) == FIXED_NOW
    assert ensure_seeded(db_path, FIXED_NOW + 2 * HOUR, max_age=HOUR) is True and "reseeding" in caplog.text
    assert len(all_cases(db_path)) == cases - 1 and seeded_at(db_path) == FIXED_NOW + 2 * HOUR


def test_ensure_seeded_fills_an_empty_store_and_never_touches_a_real_one(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="actions.shop.seed")
    empty = tmp_path / "empty.db"
    SqliteShopRepository(empty)  # schema only
    assert ensure_seeded(empty, FIXED_NOW) is True and len(all_orders(empty)) >= 60

    real = tmp_path / "real.db"
    SqliteShopRepository(real)
    with sqlite3.connect(real) as connection:
        connection.execute("INSERT INTO orders VALUES ('201901010000000001', 'c1', '13800000000', '已签收',"
                           " '2019-01-01T10:00:00+08:00', NULL, NULL, NULL, NULL, NULL, NULL, '余额', 0, '')")
    assert ensure_seeded(real, FIXED_NOW + 400 * DAY) is False and "left as it is" in caplog.text
    assert [o.order_id for o in all_orders(real)] == ["201901010000000001"]


def test_command_line_seeds_and_lists_the_stories(tmp_path: Path) -> None:
    db_path = tmp_path / "cli.db"
    command = [sys.executable, "-m", "actions.shop.seed", "--db", str(db_path)]
    first = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    labels = labelled_orders(db_path)
    assert "creating the demo store" in first.stderr and labels["caked_milk_powder"] in first.stderr
    second = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert "kept" in second.stderr and labelled_orders(db_path) == labels
    forced = subprocess.run(command + ["--force"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0 and "seeded the demo store" in forced.stderr


def test_the_demo_guide_names_the_seeded_shoppers() -> None:
    guide = (PROJECT_ROOT / "docs" / "demo-store.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"\|\s*`(u\d{4})`\s*\|\s*`(1[3-9]\d{9})`", guide))
    assert len(listed) >= 7
    phones = {s.shopper_id: s.phone for s in SHOPPERS}
    assert all(phones[shopper] == phone for shopper, phone in listed.items())
