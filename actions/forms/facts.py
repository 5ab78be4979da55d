"""Read the after-sales request's facts from a tracker and the store (the forms' shared context)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Dict, Iterator, Optional

from rasa_sdk import Tracker

from actions import deps
from actions.after_sales_plan import Facts
from actions.conversation import shopper_id
from actions.shop.clock import store_now
from actions.shop.models import Order, Reason, Resolution

logger = logging.getLogger(__name__)


# Orders read during one form run: rasa-sdk asks required_slots three times a run (extract,
# validate, next slot) and each validator looks at the order again; one store read is enough.
_orders_this_run: ContextVar[Optional[Dict[str, Optional[Order]]]] = ContextVar("orders_this_run", default=None)


@contextmanager
def one_lookup_per_order() -> Iterator[None]:
    """Within the block, each order is read from the store once (per asyncio task)."""
    token = _orders_this_run.set({})
    try:
        yield
    finally:
        _orders_this_run.reset(token)


async def _get_order(order_id: str) -> Optional[Order]:
    cache = _orders_this_run.get()
    if cache is None:
        return await deps.repository().get_order(order_id)
    if order_id not in cache:
        cache[order_id] = await deps.repository().get_order(order_id)
    return cache[order_id]


async def accessible_order(tracker: Tracker, order_id: Optional[str]) -> Optional[Order]:
    """The order if it exists and may belong to this shopper: an identified shopper sees only
    their own orders; a guest's order is loaded but shown only after the phone check."""
    if not order_id:
        return None
    order = await _get_order(order_id)
    if order is None:
        return None
    shopper = shopper_id(tracker)
    if shopper and order.shopper_id != shopper:
        return None
    return order


def phone_verified(tracker: Tracker, order: Optional[Order]) -> bool:
    return order is not None and tracker.get_slot("verified_order_id") == order.order_id


def current_reason(tracker: Tracker) -> Reason:
    value = tracker.get_slot("reason")
    if value is None:
        logger.warning("after-sales form without a reason in %s; assuming a quality problem", tracker.sender_id)
        return Reason.QUALITY
    return Reason(value)


async def load_facts(tracker: Tracker) -> Facts:
    order = await accessible_order(tracker, tracker.get_slot("order_id"))
    sku = tracker.get_slot("item_sku")
    item = order.item(sku) if order and sku else None
    if order and item is None and len(order.items) == 1:
        item = order.items[0]
    resolution = tracker.get_slot("resolution")
    return Facts(
        reason=current_reason(tracker),
        now=store_now(),
        guest=shopper_id(tracker) is None,
        order=order,
        phone_verified=phone_verified(tracker, order),
        item=item,
        resolution=Resolution(resolution) if resolution else None,
        photo_count=len(tracker.get_slot("photo_ids") or []),
        signed_check=tracker.get_slot("signed_check"),
        verification_failures=int(tracker.get_slot("verification_failures") or 0),
    )
