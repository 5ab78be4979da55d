"""policy.yml as a validated pydantic (v1) model (actions/policy/loader.py reads the file).

Every mistake a store can make while editing the file is caught here, once, with the
field in the message: unknown keys, missing entries for an enum value, numbers of the
wrong kind, a minimum above its maximum, a rule without its sentence, and templates
that use a placeholder nothing fills.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict, List, Optional, Tuple

from pydantic import StrictBool, root_validator, validator

from actions.policy import texts as tpl
from actions.policy.enums import BlockWhen, DeliveryState, PolicyTopic, PostagePayer, RuleOutcome
from actions.policy.fields import Count, PositiveCount, ResolutionList, Section, Text, TextList, Yuan, every
from actions.shop.models import CaseStatus, Category, OrderStatus, PaymentMethod, Reason, Resolution

OTHER_REASONS = "other"  # key of order_status_rules: every reason not named


class Window(Section):
    days: Count = 0
    hours: Count = 0
    grace_hours: Count = 0
    offer_after: List[Resolution] = []

    @root_validator(skip_on_failure=True)
    def _lasts(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if not values["days"] and not values["hours"]:
            raise ValueError("a window needs days or hours above 0")
        return values

    @property
    def length(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours)

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.grace_hours)


class ReturnWindows(Section):
    by_reason: Dict[Reason, Window]
    by_category: Dict[Category, Dict[Reason, Window]] = {}

    def window(self, reason: Reason, category: Category) -> Optional[Window]:
        return self.by_category.get(category, {}).get(reason) or self.by_reason.get(reason)


class NonReturnableRule(Section):
    when: BlockWhen
    label_zh: Text
    refusal_zh: Text
    if_unknown_zh: Optional[Text] = None
    offer: List[Resolution] = []

    @root_validator(skip_on_failure=True)
    def _unknown_needs_text(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values["when"] is BlockWhen.OPENED and not values.get("if_unknown_zh"):
            raise ValueError("if_unknown_zh is required with `when: opened` (the answer while nobody knows yet)")
        return values


class NonReturnable(Section):
    reasons: List[Reason]
    categories: Dict[Category, NonReturnableRule] = {}

    def rule(self, reason: Reason, category: Category) -> Optional[NonReturnableRule]:
        return self.categories.get(category) if reason in self.reasons else None


class Rule(Section):
    outcome: RuleOutcome
    text_zh: Optional[Text] = None
    resolutions: List[Resolution] = []
    return_shipping: StrictBool = True
    check_value: StrictBool = True
    coupon: StrictBool = True

    @property
    def hands_over(self) -> bool:
        return self.outcome in (RuleOutcome.BY_WINDOW, RuleOutcome.BY_DELIVERY_STATE)

    @root_validator(skip_on_failure=True)
    def _sentence_when_deciding(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        hands_over = values["outcome"] in (RuleOutcome.BY_WINDOW, RuleOutcome.BY_DELIVERY_STATE)
        if hands_over and values.get("text_zh"):
            raise ValueError(f"text_zh is not used with outcome {values['outcome'].value}: that table decides")
        if not hands_over and not values.get("text_zh"):
            raise ValueError("text_zh is required: the sentence the shopper reads")
        return values


class Resolutions(Section):
    by_reason: Dict[Reason, ResolutionList]
    by_category: Dict[Category, Dict[Reason, ResolutionList]] = {}
    without_return_shipping: List[Resolution] = []

    _every_reason = validator("by_reason", allow_reuse=True)(every(Reason))

    def allowed(self, reason: Reason, category: Category) -> Tuple[Resolution, ...]:
        return tuple(self.by_category.get(category, {}).get(reason) or self.by_reason[reason])


class Postage(Section):
    payer_by_reason: Dict[Reason, PostagePayer]
    freight_insurance_covers_shopper: StrictBool = True

    _every_reason = validator("payer_by_reason", allow_reuse=True)(every(Reason))

    @validator("payer_by_reason")
    def _no_insurance_by_reason(cls, payers: Dict[Reason, PostagePayer]) -> Dict[Reason, PostagePayer]:
        if PostagePayer.INSURANCE in payers.values():
            raise ValueError("use store or shopper; insurance follows from freight_insurance_covers_shopper")
        return payers

    def payer(self, reason: Reason, freight_insurance: bool) -> PostagePayer:
        payer = self.payer_by_reason[reason]
        covered = payer is PostagePayer.SHOPPER and freight_insurance and self.freight_insurance_covers_shopper
        return PostagePayer.INSURANCE if covered else payer

    def reasons_paid_by(self, payer: PostagePayer) -> List[Reason]:
        return [reason for reason, who in self.payer_by_reason.items() if who is payer]


class Evidence(Section):
    photos_required_for: List[Reason]
    min_photos: PositiveCount
    max_photos: PositiveCount

    @root_validator(skip_on_failure=True)
    def _min_below_max(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values["min_photos"] > values["max_photos"]:
            raise ValueError(f"min_photos ({values['min_photos']}) is above max_photos ({values['max_photos']})")
        return values


class HumanReview(Section):
    item_value_above_yuan: Yuan
    supervisor_refund_above_yuan: Yuan


class ServiceTimes(Section):
    review_hours: PositiveCount
    inspection_hours: PositiveCount
    return_ship_within_days: PositiveCount


class Delivery(Section):
    stuck_after_days: PositiveCount
    typical_transit_days: PositiveCount


class RefundArrival(Section):
    min_days: Count
    max_days: PositiveCount
    channel_zh: Optional[Text] = None  # how the channel is named to the shopper (default: the payment method)

    @root_validator(skip_on_failure=True)
    def _min_below_max(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values["min_days"] > values["max_days"]:
            raise ValueError(f"min_days ({values['min_days']}) is above max_days ({values['max_days']})")
        return values


class Store(Section):
    name: Text
    return_address: Text
    recipient: Text
    phone: Text
    service_hours: Text
    packing_notes: TextList


class Labels(Section):
    reasons: Dict[Reason, Text]
    resolutions: Dict[Resolution, Text]

    _every_reason = validator("reasons", allow_reuse=True)(every(Reason))
    _every_resolution = validator("resolutions", allow_reuse=True)(every(Resolution))


class DecisionTexts(Section):
    approved: Dict[Reason, Text]
    window_passed: Text
    late_review: Text
    resolution_not_allowed: Text
    needs_photos: Text
    high_value: Text
    missing_signed_at: Text


class Texts(Section):
    labels: Labels
    duration_days: Text
    duration_hours: Text
    datetime_format: Text
    list_separator: Text
    note_separator: Text
    refund_arrival: Text
    refund_time_item: Text
    decisions: DecisionTexts
    case_next_steps: Dict[CaseStatus, Text]

    _every_case_status = validator("case_next_steps", allow_reuse=True)(every(CaseStatus))


class Topic(Section):
    keywords: TextList
    answer_zh: Text


class Policy(Section):
    return_windows: ReturnWindows
    non_returnable: NonReturnable
    order_status_rules: Dict[OrderStatus, Dict[str, Rule]]
    not_received_by_delivery_state: Dict[DeliveryState, Rule]
    resolutions: Resolutions
    postage: Postage
    evidence: Evidence
    human_review: HumanReview
    coupon_on_refusal_yuan: Count
    service_times: ServiceTimes
    delivery: Delivery
    refund_arrival: Dict[PaymentMethod, RefundArrival]
    store: Store
    texts: Texts
    topics: Dict[PolicyTopic, Topic]

    _every_status = validator("order_status_rules", allow_reuse=True)(every(OrderStatus))
    _every_state = validator("not_received_by_delivery_state", allow_reuse=True)(every(DeliveryState))
    _every_method = validator("refund_arrival", allow_reuse=True)(every(PaymentMethod))
    _every_topic = validator("topics", allow_reuse=True)(every(PolicyTopic))

    @validator("order_status_rules")
    def _rules_cover_every_reason(cls, table: Dict[OrderStatus, Dict[str, Rule]]) -> Dict[OrderStatus, Dict[str, Rule]]:
        names = {reason.value for reason in Reason}
        for status, rules in table.items():
            unknown = sorted(set(rules) - names - {OTHER_REASONS})
            if unknown:
                raise ValueError(f"{status.value}: unknown key(s) {unknown}; use {', '.join(sorted(names))} or other")
            if OTHER_REASONS not in rules and not names <= set(rules):
                raise ValueError(f"{status.value}: no rule for {sorted(names - set(rules))}; add them or `other`")
        return table

    @validator("not_received_by_delivery_state")
    def _states_decide(cls, table: Dict[DeliveryState, Rule]) -> Dict[DeliveryState, Rule]:
        for state, rule in table.items():
            if rule.hands_over:
                raise ValueError(f"{state.value}: outcome must be approved, refused or needs_human")
        return table

    @root_validator(skip_on_failure=True)
    def _consistent(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        policy = cls.construct(**values)
        for reason in policy.reasons_by_window():
            if reason not in policy.return_windows.by_reason:
                raise ValueError(
                    f"return_windows -> by_reason: {reason.value} needs a window (a rule decides it by window)"
                )
            if reason not in policy.texts.decisions.approved:
                raise ValueError(f"texts -> decisions -> approved: {reason.value} needs a text (decided by window)")
        tpl.check_policy_templates(policy)
        return values

    def status_rule(self, status: OrderStatus, reason: Reason) -> Rule:
        rules = self.order_status_rules[status]
        return rules.get(reason.value) or rules[OTHER_REASONS]

    def reasons_by_window(self) -> List[Reason]:
        return [
            reason
            for reason in Reason
            if any(self.status_rule(status, reason).outcome is RuleOutcome.BY_WINDOW for status in OrderStatus)
        ]
