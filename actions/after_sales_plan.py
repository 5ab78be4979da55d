"""Which of the after-sales form's questions this shopper still has to answer (pure).

The five elements are asked only when unknown, in the order of after-sales.md: the
order (and, for guests, the phone number on it), the item when the order has several,
then what depends on the reason: for a missing parcel marked signed, whether it was
looked for at home, the locker or the front desk; the wanted resolution; photos when
the policy asks for them; and a confirmation of the restated request. When the policy
already refuses the request, nothing more is asked: the refusal is said at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import List, Optional, Tuple

from actions.policy.rules import (
    Decision,
    DeliveryState,
    Outcome,
    Policy,
    ReturnRequest,
    decide,
    delivery_state,
)
from actions.shop.models import Order, OrderItem, Reason, Resolution

MAX_VERIFICATION_FAILURES = 3
LOST_WORDS = ("丢失", "遗失", "丢件")


@dataclass(frozen=True)
class Facts:
    """What is known about the request at this turn."""

    reason: Reason
    now: datetime
    guest: bool
    order: Optional[Order] = None  # set only when the shopper may see it
    phone_verified: bool = False
    item: Optional[OrderItem] = None
    resolution: Optional[Resolution] = None
    photo_count: int = 0
    signed_check: Optional[str] = None
    verification_failures: int = 0


def is_lost(order: Order) -> bool:
    return any(word in event.description for event in order.tracking for word in LOST_WORDS)


def parcel_state(order: Order, now: datetime, policy: Policy) -> DeliveryState:
    last = max((event.time for event in order.tracking), default=None)
    return delivery_state(order.status, last, now, is_lost(order), policy)


def item_decision(facts: Facts, item: OrderItem, policy: Policy, photo_count: Optional[int] = None) -> Decision:
    order = facts.order
    assert order is not None
    request = ReturnRequest(
        reason=facts.reason,
        category=item.category,
        order_status=order.status,
        now=facts.now,
        signed_at=order.signed_at,
        item_value=item.unit_price * item.quantity,
        resolution=facts.resolution,
        opened=item.opened,
        photo_count=facts.photo_count if photo_count is None else photo_count,
        freight_insurance=order.freight_insurance,
        delivery=parcel_state(order, facts.now, policy) if facts.reason == Reason.NOT_RECEIVED else None,
    )
    return decide(request, policy)


def allowed_resolutions(facts: Facts, policy: Policy) -> Tuple[Resolution, ...]:
    """What the policy lets the shopper choose for this order line (or parcel) and reason."""
    if facts.order is None:
        return ()
    item = facts.item or facts.order.items[0]
    decision = item_decision(replace(facts, resolution=None), item, policy, photo_count=1)
    return decision.alternatives


def refused_before_asking(facts: Facts, policy: Policy) -> bool:
    """The policy refuses whatever the shopper answers next (every line of the order, or the chosen one)."""
    if facts.order is None or facts.reason == Reason.NOT_RECEIVED:
        return False
    items = [facts.item] if facts.item else facts.order.items
    # Photos are assumed to come: a missing photo is asked for, not a reason to refuse.
    return all(item_decision(facts, item, policy, photo_count=1).outcome == Outcome.REFUSED for item in items)


def photos_required(facts: Facts, policy: Policy) -> bool:
    return facts.reason in policy.evidence.photos_required_for


def required_slots(facts: Facts, policy: Policy) -> List[str]:
    """The form's questions for these facts, in the order they are asked."""
    if facts.verification_failures >= MAX_VERIFICATION_FAILURES:
        return []
    slots = ["order_id"]
    if facts.guest and not facts.phone_verified:
        return slots + ["phone"]
    if facts.order is None:
        return slots
    if facts.reason == Reason.NOT_RECEIVED:
        return slots + _not_received_slots(facts, policy)
    if refused_before_asking(facts, policy):
        return slots
    photos = ["photo_ids"] if photos_required(facts, policy) else []
    if len(facts.order.items) > 1:
        slots.append("item_sku")
    if facts.item is None:
        return slots + photos  # photos sent early are taken (and checked) while the item is asked
    return slots + ["resolution"] + photos + ["confirmed"]


def _not_received_slots(facts: Facts, policy: Policy) -> List[str]:
    assert facts.order is not None
    state = parcel_state(facts.order, facts.now, policy)
    if state == DeliveryState.SIGNED:
        return ["signed_check"]
    if state in (DeliveryState.STUCK, DeliveryState.LOST):
        return ["resolution", "confirmed"]
    return []  # not shipped or on its way: the bot tells where it is, nothing to open
