"""The templates of policy.yml: which placeholders a text may use, and the values that fill them.

Every value comes from the policy itself, so a changed number in policy.yml changes every
sentence that mentions it. `policy_values()` gives the placeholders every text may use;
texts about one request add the names in REQUEST_KEYS, WINDOW_KEYS or RESOLUTION_KEYS.
`check_policy_templates()` checks every template of a policy against the names it may use.
"""

from __future__ import annotations

import string
from decimal import Decimal
from typing import TYPE_CHECKING, Dict, Iterable, Iterator, Mapping, Set, Tuple

from actions.policy.enums import PostagePayer
from actions.shop.models import PaymentMethod, Reason

if TYPE_CHECKING:
    from actions.policy.schema import Policy, RefundArrival, Texts, Window

# Placeholders of the texts about one request (actions/policy/rules.py fills them).
REQUEST_KEYS = frozenset({"category", "reason_label", "order_status", "allowed"})
WINDOW_KEYS = REQUEST_KEYS | {"window", "window_ends"}
RESOLUTION_KEYS = REQUEST_KEYS | {"wanted"}
# Placeholders of the small building blocks.
DURATION_KEYS = frozenset({"n"})
REFUND_KEYS = frozenset({"channel", "min_days", "max_days"})


def placeholders(template: str) -> Set[str]:
    """The named placeholders of a template; ValueError when it is malformed."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ValueError(f"is not a valid template ({error}); a literal brace is written {{{{ or }}}}") from None
    names = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"has the placeholder {{{name}}}: write a plain name such as {{review_hours}}")
        names.add(name)
    return names


def check_template(template: str, allowed: Iterable[str], where: str) -> None:
    """Raise ValueError naming `where` when the template is malformed or uses an unknown name."""
    try:
        unknown = placeholders(template) - set(allowed)
    except ValueError as error:
        raise ValueError(f"{where} {error}") from None
    if unknown:
        known = ", ".join(sorted(allowed))
        raise ValueError(f"{where} uses unknown placeholder(s) {sorted(unknown)}; known here: {known}")


def fill(template: str, values: Mapping[str, object]) -> str:
    return template.format_map(values)


def join_zh(items: Iterable[str], texts: "Texts") -> str:
    return texts.list_separator.join(items)


def duration_zh(window: "Window", texts: "Texts") -> str:
    """7天 · 24小时 · 1天12小时"""
    parts = []
    if window.days:
        parts.append(fill(texts.duration_days, {"n": window.days}))
    if window.hours:
        parts.append(fill(texts.duration_hours, {"n": window.hours}))
    return "".join(parts)


def yuan(amount: Decimal) -> str:
    """2000 · 1999.5 (no exponent, no trailing zeros)."""
    return format(amount.normalize(), "f")


def reason_labels(reasons: Iterable[Reason], texts: "Texts") -> str:
    return join_zh((texts.labels.reasons[reason] for reason in reasons), texts)


def base_values(policy: "Policy") -> Dict[str, object]:
    """Placeholders that come straight from the numbers and the store (label templates use these)."""
    texts = policy.texts
    values: Dict[str, object] = {
        "review_hours": policy.service_times.review_hours,
        "inspection_hours": policy.service_times.inspection_hours,
        "return_ship_within_days": policy.service_times.return_ship_within_days,
        "stuck_after_days": policy.delivery.stuck_after_days,
        "typical_transit_days": policy.delivery.typical_transit_days,
        "coupon_yuan": policy.coupon_on_refusal_yuan,
        "value_limit_yuan": yuan(policy.human_review.item_value_above_yuan),
        "min_photos": policy.evidence.min_photos,
        "max_photos": policy.evidence.max_photos,
        "photo_reasons": reason_labels(policy.evidence.photos_required_for, texts),
        "non_returnable_reasons": reason_labels(policy.non_returnable.reasons, texts),
        "store_pays": reason_labels(policy.postage.reasons_paid_by(PostagePayer.STORE), texts),
        "shopper_pays": reason_labels(policy.postage.reasons_paid_by(PostagePayer.SHOPPER), texts),
        "refund_times": join_zh((refund_time(m, a, texts) for m, a in policy.refund_arrival.items()), texts),
        "packing_notes": texts.note_separator.join(policy.store.packing_notes),
    }
    values.update(policy.store.dict(include={"name", "return_address", "recipient", "phone", "service_hours"}))
    values["store_name"] = values.pop("name")
    for reason, window in policy.return_windows.by_reason.items():
        values[f"window_{reason.value}"] = duration_zh(window, texts)
    for category, windows in policy.return_windows.by_category.items():
        for reason, window in windows.items():
            values[f"window_{category.name.lower()}_{reason.value}"] = duration_zh(window, texts)
    return values


def policy_values(policy: "Policy") -> Dict[str, object]:
    """Every placeholder a text of the policy may use."""
    values = base_values(policy)
    labels = (fill(rule.label_zh, values) for rule in policy.non_returnable.categories.values())
    values["non_returnable_list"] = join_zh(labels, policy.texts)
    return values


def refund_values(method: PaymentMethod, arrival: "RefundArrival") -> Dict[str, object]:
    channel = arrival.channel_zh or method.value
    return {"channel": channel, "min_days": arrival.min_days, "max_days": arrival.max_days}


def refund_time(method: PaymentMethod, arrival: "RefundArrival", texts: "Texts") -> str:
    """One refund channel and its arrival time: 银行卡3–7个工作日."""
    return fill(texts.refund_time_item, refund_values(method, arrival))


Template = Tuple[str, str, frozenset]  # where, the template, the request placeholders it may add


def _sentence_templates(policy: "Policy") -> Iterator[Template]:
    for status, rules in policy.order_status_rules.items():
        for key, rule in rules.items():
            if rule.text_zh:
                yield f"order_status_rules -> {status.value} -> {key} -> text_zh", rule.text_zh, REQUEST_KEYS
    for state, rule in policy.not_received_by_delivery_state.items():
        yield f"not_received_by_delivery_state -> {state.value} -> text_zh", rule.text_zh or "", REQUEST_KEYS
    for category, blocked in policy.non_returnable.categories.items():
        where = f"non_returnable -> categories -> {category.value}"
        yield f"{where} -> refusal_zh", blocked.refusal_zh, WINDOW_KEYS
        if blocked.if_unknown_zh:
            yield f"{where} -> if_unknown_zh", blocked.if_unknown_zh, WINDOW_KEYS
    decisions = policy.texts.decisions
    for reason, text in decisions.approved.items():
        yield f"texts -> decisions -> approved -> {reason.value}", text, WINDOW_KEYS
    for name, keys in (
        ("window_passed", WINDOW_KEYS),
        ("late_review", WINDOW_KEYS),
        ("resolution_not_allowed", RESOLUTION_KEYS),
        ("needs_photos", REQUEST_KEYS),
        ("high_value", REQUEST_KEYS),
        ("missing_signed_at", REQUEST_KEYS),
    ):
        yield f"texts -> decisions -> {name}", getattr(decisions, name), keys
    for status, text in policy.texts.case_next_steps.items():
        yield f"texts -> case_next_steps -> {status.value}", text, frozenset()
    for topic, entry in policy.topics.items():
        yield f"topics -> {topic.value} -> answer_zh", entry.answer_zh, frozenset()


def check_policy_templates(policy: "Policy") -> None:
    """Building blocks first (the values are made with them), then labels, then every sentence."""
    texts = policy.texts
    for name, keys in (
        ("duration_days", DURATION_KEYS),
        ("duration_hours", DURATION_KEYS),
        ("refund_arrival", REFUND_KEYS),
        ("refund_time_item", REFUND_KEYS),
    ):
        check_template(getattr(texts, name), keys, f"texts -> {name}")
    base = base_values(policy)
    for category, blocked in policy.non_returnable.categories.items():
        check_template(blocked.label_zh, base, f"non_returnable -> categories -> {category.value} -> label_zh")
    values = policy_values(policy)
    for where, template, request_keys in _sentence_templates(policy):
        check_template(template, set(values) | request_keys, where)
