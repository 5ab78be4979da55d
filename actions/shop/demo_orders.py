"""The demo store's orders, built relative to `now` (pure and deterministic for a given `now`).

Hand-written plans tell the stories (docs/demo-store.md) and sit on purpose around the return
windows (24 h fresh food, 7 days, 15 days, some within an hour of a boundary); generated plans
fill the store with everyday orders. Every random choice comes from one seeded Random.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, List, Optional, Tuple

from actions.shop import demo_tracking as tracking
from actions.shop.demo_catalog import CARRIERS, PRODUCTS, SHOPPERS_BY_ID, VARIANTS_BY_SKU
from actions.shop.demo_plans import FILLER_SHOPPERS, PLANS, Plan
from actions.shop.models import Category, Order, OrderItem, OrderStatus, PaymentMethod

RANDOM_SEED = 20251123
FILLER_ORDERS = 30
_FILLER_STATUSES = (
    (OrderStatus.SIGNED, 45), (OrderStatus.IN_TRANSIT, 15), (OrderStatus.TO_SHIP, 15),
    (OrderStatus.PENDING_PAYMENT, 10), (OrderStatus.CANCELLED, 15),
)
_SHIPPED_GOODS_ONLY = (OrderStatus.TO_SHIP, OrderStatus.IN_TRANSIT)


def h(hours: float) -> timedelta:
    """`hours` as a whole number of seconds (store times carry no fractions of a second)."""
    return timedelta(seconds=round(hours * 3600))


@dataclass
class Timeline:
    placed_at: datetime
    paid_at: Optional[datetime] = None
    shipped_at: Optional[datetime] = None
    signed_at: Optional[datetime] = None


def build_orders(now: datetime) -> Tuple[List[Order], Dict[str, str]]:
    """All demo orders (hand-written plans first, then generated ones) and {label: order_id} of the labelled ones."""
    rng = random.Random(RANDOM_SEED)
    plans = list(PLANS) + filler_plans(rng)
    taken: set = set()
    orders, labels = [], {}
    for plan in plans:
        order = build_order(plan, now, rng, taken)
        orders.append(order)
        if plan.label:
            labels[plan.label] = order.order_id
    return orders, labels


def filler_plans(rng: random.Random) -> List[Plan]:
    statuses, weights = zip(*_FILLER_STATUSES, strict=True)
    plans = []
    for _ in range(FILLER_ORDERS):
        status = rng.choices(statuses, weights)[0]
        lines = _filler_lines(rng)
        if VARIANTS_BY_SKU[lines[0][0]][0].category == Category.VIRTUAL and status in _SHIPPED_GOODS_ONLY:
            status = OrderStatus.SIGNED  # a top-up or membership is delivered the moment it is paid
        plans.append(Plan(shopper=rng.choice(FILLER_SHOPPERS), lines=lines, status=status,
                          age=_filler_age(status, rng)))
    return plans


def _filler_lines(rng: random.Random) -> Tuple[Tuple[str, int], ...]:
    first = rng.choice(PRODUCTS)
    products = [first]
    if first.category != Category.VIRTUAL and rng.random() < 0.3:
        same_kind = [p for p in PRODUCTS if p.category == first.category and p is not first]
        products.append(rng.choice(same_kind))
    bulk = (Category.FOOD, Category.BABY, Category.FRESH)
    return tuple((rng.choice(p.variants).sku, 2 if p.category in bulk and rng.random() < 0.4 else 1) for p in products)


def _filler_age(status: OrderStatus, rng: random.Random) -> timedelta:
    ranges = {
        OrderStatus.SIGNED: (6, 60 * 24), OrderStatus.IN_TRANSIT: (5, 60), OrderStatus.TO_SHIP: (1, 40),
        OrderStatus.PENDING_PAYMENT: (0.2, 20), OrderStatus.CANCELLED: (24, 40 * 24),
    }
    low, high = ranges[status]
    return h(round(rng.uniform(low, high), 2))


def build_order(plan: Plan, now: datetime, rng: random.Random, taken: set) -> Order:
    shopper = SHOPPERS_BY_ID[plan.shopper]
    items = [_item(sku, quantity, plan, rng) for sku, quantity in plan.lines]
    virtual = all(item.category == Category.VIRTUAL for item in items)
    times = _timeline(plan, now, rng, virtual)
    order = Order(
        order_id=_order_id(times.placed_at, rng, taken), shopper_id=shopper.shopper_id, phone=shopper.phone,
        status=plan.status, placed_at=times.placed_at, paid_at=times.paid_at, items=items,
        payment_method=plan.payment or rng.choice(list(PaymentMethod)),
        freight_insurance=plan.insurance if plan.insurance is not None else (not virtual and rng.random() < 0.4),
        address="" if virtual else shopper.address,
    )
    if times.shipped_at is None or virtual:
        signed = plan.status == OrderStatus.SIGNED
        return order.copy(update={"shipped_at": times.shipped_at, "signed_at": times.signed_at if signed else None})
    return _with_delivery(order, plan, times, now, rng)


def _item(sku: str, quantity: int, plan: Plan, rng: random.Random) -> OrderItem:
    product, variant = VARIANTS_BY_SKU[sku]
    opened = None
    if product.category == Category.PERSONAL_CARE:
        signed = plan.status == OrderStatus.SIGNED
        opened = plan.opened if plan.opened is not None else (signed and rng.random() < 0.5)
    return OrderItem(sku=sku, name=product.name, spec=variant.spec, category=product.category,
                     unit_price=product.price, quantity=quantity, stock=variant.stock, opened=opened)


def _timeline(plan: Plan, now: datetime, rng: random.Random, virtual: bool) -> Timeline:
    """When the order was placed, paid, shipped and signed for, from the plan's age."""
    status = plan.status
    if status in (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED):
        placed = now - plan.age
        paid = placed + h(rng.uniform(0.02, 0.3)) if status == OrderStatus.CANCELLED and rng.random() < 0.5 else None
        return Timeline(placed_at=placed, paid_at=paid)
    if status == OrderStatus.TO_SHIP:
        paid = now - plan.age
        return Timeline(placed_at=paid - h(rng.uniform(0.02, 0.25)), paid_at=paid)
    if status == OrderStatus.IN_TRANSIT:
        shipped = now - plan.age
        paid = shipped - h(rng.uniform(4, 28))
        return Timeline(placed_at=paid - h(rng.uniform(0.02, 0.25)), paid_at=paid, shipped_at=shipped)
    signed = now - plan.age
    shipped = signed - (h(0.02) if virtual else h(rng.uniform(30, 70)))
    paid = shipped - (h(0.01) if virtual else h(rng.uniform(4, 28)))
    return Timeline(placed_at=paid - h(rng.uniform(0.02, 0.25)), paid_at=paid, shipped_at=shipped, signed_at=signed)


def _order_id(placed_at: datetime, rng: random.Random, taken: set) -> str:
    while True:
        order_id = placed_at.strftime("%Y%m%d") + f"{rng.randrange(10 ** 10):010d}"
        if order_id not in taken:
            taken.add(order_id)
            return order_id


def _with_delivery(order: Order, plan: Plan, times: Timeline, now: datetime, rng: random.Random) -> Order:
    carrier = plan.carrier or rng.choice(CARRIERS)
    shopper = SHOPPERS_BY_ID[order.shopper_id]
    origin = VARIANTS_BY_SKU[order.items[0].sku][0].origin
    update = {"carrier": carrier, "tracking_number": tracking.tracking_number(carrier, rng),
              "shipped_at": times.shipped_at}
    if order.status == OrderStatus.SIGNED:
        update.update(signed_at=times.signed_at, signed_by=plan.signed_by, tracking=tracking.delivered(
            carrier, origin, shopper, times.shipped_at, times.signed_at, plan.signed_by, rng))
    elif plan.delivery == "lost":
        update["tracking"] = tracking.lost(carrier, origin, shopper, times.shipped_at, rng)
    else:
        stuck_after = plan.stuck_after_step if plan.delivery == "stuck" else None
        update["tracking"] = tracking.on_the_way(carrier, origin, shopper, times.shipped_at, now, rng, stuck_after)
    return order.copy(update=update)

