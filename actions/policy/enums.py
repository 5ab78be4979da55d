"""The policy's own vocabularies; the shop's enums are in actions/shop/models.py."""

from __future__ import annotations

from enum import Enum


class Outcome(str, Enum):
    """What the policy says about one after-sales request."""

    APPROVED = "approved"
    REFUSED = "refused"
    NEEDS_HUMAN = "needs_human"
    NEEDS_PHOTOS = "needs_photos"


class PostagePayer(str, Enum):
    STORE = "store"
    SHOPPER = "shopper"
    INSURANCE = "insurance"  # the order's freight insurance (运费险)


class DeliveryState(str, Enum):
    NOT_SHIPPED = "not_shipped"
    IN_TRANSIT = "in_transit"
    STUCK = "stuck"  # in transit without a tracking update for too long
    LOST = "lost"  # the carrier says the parcel is lost
    SIGNED = "signed"


class RuleOutcome(str, Enum):
    """What a rule of policy.yml does: decide at once, or hand over to another table."""

    APPROVED = "approved"
    REFUSED = "refused"
    NEEDS_HUMAN = "needs_human"
    BY_WINDOW = "by_window"
    BY_DELIVERY_STATE = "by_delivery_state"


class BlockWhen(str, Enum):
    """When a non-returnable category refuses."""

    ALWAYS = "always"
    OPENED = "opened"
    AFTER_WINDOW = "after_window"


class PolicyTopic(str, Enum):
    """What an ask_policy question is about."""

    NON_RETURNABLE = "non_returnable"
    RETURN_WINDOW = "return_window"
    FREIGHT_INSURANCE = "freight_insurance"
    RETURN_POSTAGE = "return_postage"
    RETURN_ADDRESS = "return_address"
    RETURN_PACKING = "return_packing"
    REFUND_TIME = "refund_time"
    REFUND_ONLY = "refund_only"
    EVIDENCE = "evidence"
    EXCHANGE = "exchange"
    REVIEW_TIME = "review_time"
    INSPECTION_TIME = "inspection_time"
    DELIVERY_DELAY = "delivery_delay"
    PICKUP = "pickup"
    HOW_TO_APPLY = "how_to_apply"
