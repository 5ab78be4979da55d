"""The after-sales rules as pure functions: `decide()` one request, `delivery_state()` of a parcel.

No I/O and no clock: the caller passes `now`. Every window, limit, list and sentence comes
from the Policy (policy.yml); this module only knows the order in which rules apply:

1. the order's status (unpaid, cancelled, not shipped, in transit, signed);
   "not received" is decided by the delivery state, never by a window;
2. for a signed order: a non-returnable category (for the reasons policy.yml names);
3. the return window from the sign-for time, exact to the minute (then its grace,
   inside which a person decides instead of a refusal);
4. the resolution the shopper asked for must be one the policy allows;
5. photos for the reasons that need them, then a person for high values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Dict, Optional, Tuple, Type

from actions.policy import texts as tpl
from actions.policy.answers import case_next_step_zh, detect_policy_topic, policy_answer_zh, refund_arrival_zh
from actions.policy.enums import BlockWhen, DeliveryState, Outcome, PolicyTopic, PostagePayer, RuleOutcome
from actions.policy.loader import DEFAULT_POLICY_PATH, PolicyError, load_policy
from actions.policy.schema import NonReturnableRule, Policy, Rule, Window
from actions.shop.models import Category, OrderStatus, Reason, Resolution

# The policy's public API in one place (the answers and the file model live in their own modules).
__all__ = [
    "DEFAULT_POLICY_PATH",
    "Decision",
    "DeliveryState",
    "Outcome",
    "Policy",
    "PolicyError",
    "PolicyTopic",
    "PostagePayer",
    "ReturnRequest",
    "case_next_step_zh",
    "decide",
    "delivery_state",
    "detect_policy_topic",
    "expected_delivery_date",
    "load_policy",
    "policy_answer_zh",
    "refund_arrival_zh",
    "window_end",
]

_BEFORE_SHIPPING = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.TO_SHIP, OrderStatus.CANCELLED})


@dataclass(frozen=True)
class ReturnRequest:
    """One after-sales request as the policy sees it. Values are checked (and enum values
    given as their strings converted) on creation; bad input raises ValueError naming the field."""

    reason: Reason
    category: Category
    order_status: OrderStatus
    now: datetime
    signed_at: Optional[datetime]
    item_value: Decimal
    resolution: Optional[Resolution] = None
    opened: Optional[bool] = None
    photo_count: int = 0
    freight_insurance: bool = False
    # For "not received": the parcel's state from delivery_state(); derived from
    # order_status when None (so stuck and lost parcels need it).
    delivery: Optional[DeliveryState] = None

    def __post_init__(self) -> None:
        for name, enum_type in (("reason", Reason), ("category", Category), ("order_status", OrderStatus)):
            object.__setattr__(self, name, _member(name, getattr(self, name), enum_type))
        for name, enum_type in (("resolution", Resolution), ("delivery", DeliveryState)):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _member(name, getattr(self, name), enum_type))
        _require(isinstance(self.now, datetime), "now must be a datetime")
        if self.signed_at is not None:
            _same_clock(self.signed_at, self.now, "signed_at", "now")
        object.__setattr__(self, "item_value", _amount(self.item_value))
        _require(_is_int(self.photo_count) and self.photo_count >= 0, "photo_count must be a whole number >= 0")
        _require(self.opened is None or isinstance(self.opened, bool), "opened must be True, False or None")
        _require(isinstance(self.freight_insurance, bool), "freight_insurance must be True or False")


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason_zh: str  # the rule in one Chinese sentence, never blaming the shopper
    alternatives: Tuple[Resolution, ...]  # approved: the allowed ones; refused: what can be offered instead
    needs_human: bool  # a person decides in the end (also with NEEDS_PHOTOS: photos first)
    coupon_yuan: Optional[int]  # offered on a refusal
    postage_payer: Optional[PostagePayer]  # None when refused or nothing goes back
    window_ends: Optional[datetime]  # the last minute inside the return window


def decide(request: ReturnRequest, policy: Policy) -> Decision:
    rule = policy.status_rule(request.order_status, request.reason)
    if rule.outcome is RuleOutcome.BY_WINDOW:
        return _decide_by_window(request, policy)
    if rule.outcome is RuleOutcome.BY_DELIVERY_STATE:
        state = request.delivery or delivery_state(request.order_status, None, request.now, False, policy)
        rule = policy.not_received_by_delivery_state[state]
    return _apply(rule, request, policy)


def delivery_state(
    order_status: OrderStatus, last_event_time: Optional[datetime], now: datetime, lost: bool, policy: Policy
) -> DeliveryState:
    """Where the parcel is. A signed order is SIGNED even if a carrier later reports a loss
    (the signed-but-not-received process applies); a parcel without any tracking event yet
    is IN_TRANSIT. Stuck: no update for `delivery.stuck_after_days`, exact to the minute."""
    status = _member("order_status", order_status, OrderStatus)
    if status in _BEFORE_SHIPPING:
        return DeliveryState.NOT_SHIPPED
    if status is OrderStatus.SIGNED:
        return DeliveryState.SIGNED
    if lost:
        return DeliveryState.LOST
    if last_event_time is None:
        return DeliveryState.IN_TRANSIT
    _same_clock(last_event_time, now, "last_event_time", "now")
    quiet = _minute(now) - _minute(last_event_time)
    return (
        DeliveryState.STUCK if quiet >= timedelta(days=policy.delivery.stuck_after_days) else DeliveryState.IN_TRANSIT
    )


def expected_delivery_date(shipped_at: datetime, policy: Policy) -> date:
    """When a parcel in transit should arrive: shipped + `delivery.typical_transit_days`."""
    _require(isinstance(shipped_at, datetime), "shipped_at must be a datetime")
    return (shipped_at + timedelta(days=policy.delivery.typical_transit_days)).date()


def window_end(signed_at: datetime, window: Window) -> datetime:
    """The last minute inside a window that starts at the sign-for minute."""
    return _minute(signed_at) + window.length


def _decide_by_window(request: ReturnRequest, policy: Policy) -> Decision:
    texts = policy.texts
    allowed = policy.resolutions.allowed(request.reason, request.category)
    values = _values(request, policy, allowed)
    if request.signed_at is None:
        return _grant(request, policy, allowed, texts.decisions.missing_signed_at, values, by_person=True)
    window = policy.return_windows.window(request.reason, request.category)
    ends = window_end(request.signed_at, window)
    values.update(window=tpl.duration_zh(window, texts), window_ends=ends.strftime(texts.datetime_format))
    inside = _within(request.now, ends)
    blocked = policy.non_returnable.rule(request.reason, request.category)
    if blocked and _blocks(blocked, request, inside):
        return _refusal(tpl.fill(blocked.refusal_zh, values), blocked.offer, policy, window_ends=ends)
    if not _within(request.now, ends + window.grace):
        return _refusal(tpl.fill(texts.decisions.window_passed, values), window.offer_after, policy, window_ends=ends)
    unknown_seal = blocked and blocked.when is BlockWhen.OPENED and request.opened is None
    approval = blocked.if_unknown_zh if unknown_seal else texts.decisions.approved[request.reason]
    return _grant(request, policy, allowed, approval, values, late=not inside, window_ends=ends)


def _apply(rule: Rule, request: ReturnRequest, policy: Policy) -> Decision:
    allowed = tuple(rule.resolutions) or policy.resolutions.allowed(request.reason, request.category)
    values = _values(request, policy, allowed)
    if rule.outcome is RuleOutcome.REFUSED:
        return _refusal(tpl.fill(rule.text_zh, values), rule.resolutions, policy, coupon=rule.coupon)
    by_person = rule.outcome is RuleOutcome.NEEDS_HUMAN
    return _grant(
        request,
        policy,
        allowed,
        rule.text_zh,
        values,
        by_person=by_person,
        return_shipping=rule.return_shipping,
        check_value=rule.check_value,
    )


def _grant(
    request: ReturnRequest,
    policy: Policy,
    allowed: Tuple[Resolution, ...],
    text: str,
    values: Dict[str, Any],
    *,
    by_person: bool = False,
    late: bool = False,
    return_shipping: bool = True,
    check_value: bool = True,
    window_ends: Optional[datetime] = None,
) -> Decision:
    """Everything that is not a refusal: check the wanted resolution, photos, value, person."""
    decisions = policy.texts.decisions
    if request.resolution is not None and request.resolution not in allowed:
        values = {**values, "wanted": policy.texts.labels.resolutions[request.resolution]}
        return _refusal(tpl.fill(decisions.resolution_not_allowed, values), allowed, policy, window_ends=window_ends)
    high_value = check_value and request.item_value > policy.human_review.item_value_above_yuan
    missing_photos = (
        request.reason in policy.evidence.photos_required_for and request.photo_count < policy.evidence.min_photos
    )
    if missing_photos:
        outcome, text = Outcome.NEEDS_PHOTOS, decisions.needs_photos
    elif late:
        outcome, text = Outcome.NEEDS_HUMAN, decisions.late_review
    elif high_value:
        outcome, text = Outcome.NEEDS_HUMAN, decisions.high_value
    else:
        outcome = Outcome.NEEDS_HUMAN if by_person else Outcome.APPROVED
    ships_back = return_shipping and request.resolution not in policy.resolutions.without_return_shipping
    return Decision(
        outcome=outcome,
        reason_zh=tpl.fill(text, values),
        alternatives=allowed,
        needs_human=by_person or late or high_value,
        coupon_yuan=None,
        postage_payer=policy.postage.payer(request.reason, request.freight_insurance) if ships_back else None,
        window_ends=window_ends,
    )


def _refusal(
    text: str, offer: Any, policy: Policy, *, coupon: bool = True, window_ends: Optional[datetime] = None
) -> Decision:
    coupon_yuan = policy.coupon_on_refusal_yuan if coupon and policy.coupon_on_refusal_yuan > 0 else None
    return Decision(Outcome.REFUSED, text, tuple(offer), False, coupon_yuan, None, window_ends)


def _blocks(blocked: NonReturnableRule, request: ReturnRequest, inside_window: bool) -> bool:
    if blocked.when is BlockWhen.OPENED:
        return request.opened is True
    if blocked.when is BlockWhen.AFTER_WINDOW:
        return not inside_window
    return True


def _values(request: ReturnRequest, policy: Policy, allowed: Tuple[Resolution, ...]) -> Dict[str, Any]:
    labels = policy.texts.labels
    values = tpl.policy_values(policy)
    values.update(
        category=request.category.value,
        reason_label=labels.reasons[request.reason],
        order_status=request.order_status.value,
        allowed=tpl.join_zh((labels.resolutions[resolution] for resolution in allowed), policy.texts),
    )
    return values


def _within(now: datetime, last_minute: datetime) -> bool:
    return _minute(now) <= last_minute


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _member(name: str, value: Any, enum_type: Type[Any]) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        choices = ", ".join(member.value for member in enum_type)
        raise ValueError(f"{name}: {value!r} is not one of {choices}") from None


def _amount(value: Any) -> Decimal:
    _require(_is_int(value) or isinstance(value, Decimal), "item_value must be a Decimal (or an int) in yuan")
    amount = Decimal(value)
    _require(amount.is_finite() and amount >= 0, f"item_value must be a finite amount >= 0, not {value}")
    return amount


def _same_clock(first: datetime, second: datetime, first_name: str, second_name: str) -> None:
    _require(
        isinstance(first, datetime) and isinstance(second, datetime),
        f"{first_name} and {second_name} must be datetimes",
    )
    _require(
        (first.utcoffset() is None) == (second.utcoffset() is None),
        f"{first_name} and {second_name} must both carry a time zone or both not",
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
