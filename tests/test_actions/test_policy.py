"""The after-sales policy: policy.yml as data, decide() and the answers, table by table.

The shipped policy.yml is checked against the numbers of shared/spec/after-sales.md;
modified copies in tmp_path show that a changed number changes decisions and texts,
and broken copies that a store's mistake is named with its file and field.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest
import yaml

from actions.policy.rules import (
    DEFAULT_POLICY_PATH,
    Decision,
    DeliveryState,
    Outcome,
    Policy,
    PolicyError,
    PolicyTopic,
    PostagePayer,
    ReturnRequest,
    case_next_step_zh,
    decide,
    delivery_state,
    detect_policy_topic,
    expected_delivery_date,
    load_policy,
    policy_answer_zh,
    refund_arrival_zh,
)
from actions.shop.models import CaseStatus, Category, OrderStatus, PaymentMethod, Reason, Resolution

SIGNED = datetime(2024, 3, 1, 10, 0, 30)  # the seconds do not count: windows are exact to the minute
SIGNED_MINUTE = datetime(2024, 3, 1, 10, 0)
MINUTE = timedelta(minutes=1)
R = Resolution
DROP = object()  # an edit that removes the key


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def ask(
    reason: str = "changed_mind",
    category: str = "服饰",
    status: str = "已签收",
    after: timedelta = timedelta(days=1),
    **fields: Any,
) -> ReturnRequest:
    """A request `after` the sign-for time; strings become enums as a form slot would give them."""
    fields.setdefault("signed_at", SIGNED)
    fields.setdefault("item_value", Decimal("199"))
    return ReturnRequest(reason=reason, category=category, order_status=status, now=SIGNED + after, **fields)


def edited_policy(tmp_path: Path, *edits: Tuple[Tuple[str, ...], Any]) -> Path:
    """A copy of the shipped policy.yml with `(path, value)` edits; value DROP removes the key."""
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    for keys, value in edits:
        parent = data
        for key in keys[:-1]:
            parent = parent[key]
        if value is DROP:
            del parent[keys[-1]]
        else:
            parent[keys[-1]] = value
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- the order's status comes first ----------------------------------------------------------

STATUS_CASES = [
    # id, request, outcome, alternatives, coupon, postage, needs_human
    *[
        (
            f"unpaid-{reason.value}",
            ask(reason.value, status="待付款", signed_at=None),
            Outcome.REFUSED,
            (),
            None,
            None,
            False,
        )
        for reason in Reason
    ],
    *[
        (
            f"cancelled-{reason.value}",
            ask(reason.value, status="已取消", signed_at=None),
            Outcome.REFUSED,
            (),
            None,
            None,
            False,
        )
        for reason in Reason
    ],
    (
        "to-ship-changed-mind-cancels",
        ask(status="待发货", signed_at=None),
        Outcome.APPROVED,
        (R.REFUND,),
        None,
        None,
        False,
    ),
    (
        "to-ship-changed-mind-high-value-still-cancels",
        ask(status="待发货", signed_at=None, item_value=Decimal("9999")),
        Outcome.APPROVED,
        (R.REFUND,),
        None,
        None,
        False,
    ),
    (
        "to-ship-changed-mind-exchange-not-allowed",
        ask(status="待发货", signed_at=None, resolution="exchange"),
        Outcome.REFUSED,
        (R.REFUND,),
        10,
        None,
        False,
    ),
    (
        "to-ship-quality-asks-photos-then-person",
        ask("quality", status="待发货", signed_at=None),
        Outcome.NEEDS_PHOTOS,
        (R.REFUND, R.EXCHANGE, R.REPAIR, R.PARTIAL_REFUND),
        None,
        PostagePayer.STORE,
        True,
    ),
    (
        "to-ship-wrong-item-with-photos-person",
        ask("wrong_item", status="待发货", signed_at=None, photo_count=2),
        Outcome.NEEDS_HUMAN,
        (R.EXCHANGE, R.RESHIP, R.REFUND, R.PARTIAL_REFUND),
        None,
        PostagePayer.STORE,
        True,
    ),
    (
        "in-transit-changed-mind-refuse-delivery",
        ask(status="运输中", signed_at=None),
        Outcome.APPROVED,
        (R.REFUND,),
        None,
        PostagePayer.SHOPPER,
        False,
    ),
    (
        "in-transit-changed-mind-insured",
        ask(status="运输中", signed_at=None, freight_insurance=True),
        Outcome.APPROVED,
        (R.REFUND,),
        None,
        PostagePayer.INSURANCE,
        False,
    ),
    (
        "in-transit-quality-with-photos-person",
        ask("quality", status="运输中", signed_at=None, photo_count=1),
        Outcome.NEEDS_HUMAN,
        (R.REFUND, R.EXCHANGE, R.REPAIR, R.PARTIAL_REFUND),
        None,
        PostagePayer.STORE,
        True,
    ),
    (
        "signed-without-sign-time-person",
        ask("changed_mind", signed_at=None),
        Outcome.NEEDS_HUMAN,
        (R.REFUND, R.EXCHANGE),
        None,
        PostagePayer.SHOPPER,
        True,
    ),
]


@pytest.mark.parametrize(
    "request_, outcome, alternatives, coupon, postage, needs_human",
    [case[1:] for case in STATUS_CASES],
    ids=[case[0] for case in STATUS_CASES],
)
def test_order_status_rules(policy, request_, outcome, alternatives, coupon, postage, needs_human):
    decision = decide(request_, policy)
    assert (decision.outcome, decision.alternatives, decision.coupon_yuan) == (outcome, alternatives, coupon)
    assert (decision.postage_payer, decision.needs_human) == (postage, needs_human)
    assert decision.window_ends is None


@pytest.mark.parametrize(
    "status, says",
    [("待付款", "还没有完成付款"), ("已取消", "已经取消"), ("待发货", "还没有发货")],
    ids=["unpaid", "cancelled", "to-ship"],
)
def test_status_decisions_explain_the_status(policy, status, says):
    assert says in decide(ask(status=status, signed_at=None), policy).reason_zh


# --- "not received" is decided by the delivery state, never by a window ----------------------

NOT_RECEIVED_CASES = [
    # id, status, delivery, outcome, alternatives, postage, needs_human, says
    ("not-shipped", "待发货", DeliveryState.NOT_SHIPPED, Outcome.APPROVED, (R.REFUND,), None, False, "还没有发货"),
    ("in-transit", "运输中", DeliveryState.IN_TRANSIT, Outcome.REFUSED, (), None, False, "超过3天没有更新"),
    (
        "stuck",
        "运输中",
        DeliveryState.STUCK,
        Outcome.APPROVED,
        (R.RESHIP, R.REFUND),
        PostagePayer.STORE,
        False,
        "补发或退款",
    ),
    ("lost", "运输中", DeliveryState.LOST, Outcome.APPROVED, (R.RESHIP, R.REFUND), PostagePayer.STORE, False, "丢失"),
    (
        "signed-asks-who-signed",
        "已签收",
        DeliveryState.SIGNED,
        Outcome.NEEDS_HUMAN,
        (R.RESHIP, R.REFUND),
        PostagePayer.STORE,
        True,
        "签收",
    ),
]


@pytest.mark.parametrize(
    "status, state, outcome, alternatives, postage, needs_human, says",
    [case[1:] for case in NOT_RECEIVED_CASES],
    ids=[case[0] for case in NOT_RECEIVED_CASES],
)
def test_not_received_by_delivery_state(policy, status, state, outcome, alternatives, postage, needs_human, says):
    # A year after signing: windows play no part.
    request = ask("not_received", status=status, delivery=state, after=timedelta(days=365))
    decision = decide(request, policy)
    assert (decision.outcome, decision.alternatives, decision.postage_payer) == (outcome, alternatives, postage)
    assert decision.needs_human is needs_human
    assert decision.coupon_yuan is None and decision.window_ends is None
    assert says in decision.reason_zh


@pytest.mark.parametrize(
    "status, state",
    [("待发货", DeliveryState.NOT_SHIPPED), ("运输中", DeliveryState.IN_TRANSIT), ("已签收", DeliveryState.SIGNED)],
    ids=["to-ship", "in-transit", "signed"],
)
def test_not_received_without_a_state_uses_the_order_status(policy, status, state):
    explicit = decide(ask("not_received", status=status, delivery=state), policy)
    assert decide(ask("not_received", status=status), policy) == explicit


def test_lost_high_value_parcel_goes_to_a_person(policy):
    decision = decide(ask("not_received", status="运输中", delivery="lost", item_value=Decimal("2000.01")), policy)
    assert (decision.outcome, decision.needs_human) == (Outcome.NEEDS_HUMAN, True)
    assert "2000元" in decision.reason_zh


# --- return windows: the last minute inside, the first minute after -------------------------

PHOTOS = {"photo_count": 2}
WINDOWS = [
    # reason, category, window, grace, request fields
    ("changed_mind", "服饰", timedelta(days=7), timedelta(0), {}),
    ("changed_mind", "家电", timedelta(days=7), timedelta(0), {}),
    ("changed_mind", "个护/美妆", timedelta(days=7), timedelta(0), {"opened": False}),
    ("changed_mind", "生鲜", timedelta(hours=24), timedelta(0), {}),
    ("quality", "服饰", timedelta(days=15), timedelta(hours=48), PHOTOS),
    ("quality", "数码", timedelta(days=15), timedelta(hours=48), PHOTOS),
    ("quality", "定制/刻字", timedelta(days=15), timedelta(hours=48), {**PHOTOS, "resolution": "exchange"}),
    ("quality", "生鲜", timedelta(hours=24), timedelta(0), PHOTOS),
    ("wrong_item", "鞋包", timedelta(days=15), timedelta(hours=48), PHOTOS),
    ("wrong_item", "生鲜", timedelta(hours=24), timedelta(0), PHOTOS),
]


def _window_points():
    for reason, category, window, grace, fields in WINDOWS:
        name = f"{reason}-{category}"
        yield (
            f"{name}-last-minute-inside",
            reason,
            category,
            window,
            window + timedelta(seconds=59),
            fields,
            Outcome.APPROVED,
        )
        after = Outcome.NEEDS_HUMAN if grace else Outcome.REFUSED
        yield f"{name}-first-minute-after", reason, category, window, window + MINUTE, fields, after
        if grace:
            yield f"{name}-last-minute-of-grace", reason, category, window, window + grace, fields, Outcome.NEEDS_HUMAN
            yield (
                f"{name}-first-minute-after-grace",
                reason,
                category,
                window,
                window + grace + MINUTE,
                fields,
                Outcome.REFUSED,
            )


WINDOW_POINTS = list(_window_points())


@pytest.mark.parametrize(
    "reason, category, window, since_sign_minute, fields, outcome",
    [point[1:] for point in WINDOW_POINTS],
    ids=[point[0] for point in WINDOW_POINTS],
)
def test_return_window_boundaries(policy, reason, category, window, since_sign_minute, fields, outcome):
    request = ask(reason, category, after=since_sign_minute - (SIGNED - SIGNED_MINUTE), **fields)
    decision = decide(request, policy)
    assert decision.outcome is outcome
    assert decision.window_ends == SIGNED_MINUTE + window
    assert decision.needs_human is (outcome is Outcome.NEEDS_HUMAN)
    assert decision.coupon_yuan == (10 if outcome is Outcome.REFUSED else None)


@pytest.mark.parametrize(
    "reason, category, offered, says",
    [
        ("quality", "数码", (R.REPAIR,), "质量问题的申请期限是签收后15天"),
        ("quality", "家电", (R.REPAIR,), "签收后15天"),
        ("quality", "服饰", (), "签收后15天"),
        ("changed_mind", "服饰", (), "无理由退换的申请期限是签收后7天（截至03月08日 10:00）"),
        ("changed_mind", "生鲜", (), "生鲜商品签收超过24小时后"),
        ("wrong_item", "生鲜", (), "签收后24小时"),
    ],
    ids=["digital-repair", "appliance-repair", "apparel-nothing", "changed-mind", "fresh-changed-mind", "fresh-wrong"],
)
def test_after_the_window_offers_what_the_policy_allows(policy, reason, category, offered, says):
    decision = decide(ask(reason, category, after=timedelta(days=40), **PHOTOS), policy)
    assert (decision.outcome, decision.alternatives, decision.coupon_yuan) == (Outcome.REFUSED, offered, 10)
    assert decision.postage_payer is None
    assert says in decision.reason_zh


def test_windows_work_with_time_zones(policy):
    china = timezone(timedelta(hours=8))
    signed = datetime(2024, 3, 1, 10, 0, tzinfo=china)
    inside = ReturnRequest("changed_mind", "服饰", "已签收", signed + timedelta(days=7), signed, Decimal("1"))
    outside = ReturnRequest(
        "changed_mind", "服饰", "已签收", signed + timedelta(days=7, minutes=1), signed, Decimal("1")
    )
    assert decide(inside, policy).outcome is Outcome.APPROVED
    assert decide(outside, policy).outcome is Outcome.REFUSED


# --- non-returnable items (for a changed mind only) ---------------------------------------

NON_RETURNABLE_CASES = [
    # id, request, outcome, alternatives, coupon, says
    ("custom-changed-mind", ask(category="定制/刻字"), Outcome.REFUSED, (), 10, "专门制作"),
    (
        "custom-quality-exchange",
        ask("quality", "定制/刻字", **PHOTOS),
        Outcome.APPROVED,
        (R.EXCHANGE, R.REPAIR, R.PARTIAL_REFUND),
        None,
        "质量问题",
    ),
    (
        "custom-quality-refund-offers-remake",
        ask("quality", "定制/刻字", resolution="refund", **PHOTOS),
        Outcome.REFUSED,
        (R.EXCHANGE, R.REPAIR, R.PARTIAL_REFUND),
        10,
        "可以为您办理换货、维修、部分退款，暂不支持退款",
    ),
    (
        "custom-wrong-item",
        ask("wrong_item", "定制/刻字", **PHOTOS),
        Outcome.APPROVED,
        (R.EXCHANGE, R.REPAIR),
        None,
        "发错",
    ),
    ("care-opened", ask(category="个护/美妆", opened=True), Outcome.REFUSED, (), 10, "拆封后"),
    (
        "care-sealed",
        ask(category="个护/美妆", opened=False),
        Outcome.APPROVED,
        (R.REFUND, R.EXCHANGE),
        None,
        "签收后7天内支持无理由退换",
    ),
    ("care-seal-unknown", ask(category="个护/美妆"), Outcome.APPROVED, (R.REFUND, R.EXCHANGE), None, "未拆封"),
    (
        "care-opened-quality",
        ask("quality", "个护/美妆", opened=True, **PHOTOS),
        Outcome.APPROVED,
        (R.REFUND, R.EXCHANGE, R.REPAIR, R.PARTIAL_REFUND),
        None,
        "质量问题",
    ),
    ("virtual-changed-mind", ask(category="虚拟商品"), Outcome.REFUSED, (), 10, "虚拟商品"),
    (
        "virtual-quality-resend",
        ask("quality", "虚拟商品", **PHOTOS),
        Outcome.APPROVED,
        (R.RESHIP, R.REFUND),
        None,
        "质量问题",
    ),
    (
        "fresh-changed-mind-inside-24h",
        ask(category="生鲜", after=timedelta(hours=23)),
        Outcome.APPROVED,
        (R.REFUND, R.EXCHANGE),
        None,
        "24小时",
    ),
    (
        "fresh-quality-exchange-not-allowed",
        ask("quality", "生鲜", after=timedelta(hours=2), resolution="exchange", **PHOTOS),
        Outcome.REFUSED,
        (R.REFUND, R.RESHIP, R.PARTIAL_REFUND),
        10,
        "暂不支持换货",
    ),
]


@pytest.mark.parametrize(
    "request_, outcome, alternatives, coupon, says",
    [case[1:] for case in NON_RETURNABLE_CASES],
    ids=[case[0] for case in NON_RETURNABLE_CASES],
)
def test_non_returnable_categories_and_alternatives(policy, request_, outcome, alternatives, coupon, says):
    decision = decide(request_, policy)
    assert (decision.outcome, decision.alternatives, decision.coupon_yuan) == (outcome, alternatives, coupon)
    assert says in decision.reason_zh


# --- photos, value, resolutions, postage ---------------------------------------------------


@pytest.mark.parametrize(
    "reason, photos, outcome",
    [
        ("quality", 0, Outcome.NEEDS_PHOTOS),
        ("quality", 1, Outcome.APPROVED),
        ("quality", 9, Outcome.APPROVED),
        ("wrong_item", 0, Outcome.NEEDS_PHOTOS),
        ("wrong_item", 1, Outcome.APPROVED),
        ("changed_mind", 0, Outcome.APPROVED),
    ],
    ids=["quality-none", "quality-one", "quality-nine", "wrong-none", "wrong-one", "changed-mind-needs-none"],
)
def test_photos_for_quality_and_wrong_items(policy, reason, photos, outcome):
    decision = decide(ask(reason, photo_count=photos), policy)
    assert decision.outcome is outcome and decision.needs_human is False
    if outcome is Outcome.NEEDS_PHOTOS:
        assert "1–9张" in decision.reason_zh


@pytest.mark.parametrize(
    "request_, outcome, needs_human",
    [
        (ask(item_value=Decimal("2000")), Outcome.APPROVED, False),
        (ask(item_value=2000), Outcome.APPROVED, False),
        (ask(item_value=Decimal("2000.01")), Outcome.NEEDS_HUMAN, True),
        (ask("quality", item_value=Decimal("2000.01")), Outcome.NEEDS_PHOTOS, True),
        (ask("quality", item_value=Decimal("5000"), **PHOTOS), Outcome.NEEDS_HUMAN, True),
        (ask(category="定制/刻字", item_value=Decimal("5000")), Outcome.REFUSED, False),
        (ask(item_value=Decimal("5000"), after=timedelta(days=30)), Outcome.REFUSED, False),
        (ask("quality", item_value=Decimal("5000"), after=timedelta(days=16), **PHOTOS), Outcome.NEEDS_HUMAN, True),
    ],
    ids=[
        "at-limit",
        "at-limit-int",
        "above-limit",
        "above-limit-photos-first",
        "above-limit-with-photos",
        "refusal-stays-refusal",
        "window-refusal-stays",
        "late-and-high",
    ],
)
def test_value_limit_sends_to_a_person(policy, request_, outcome, needs_human):
    decision = decide(request_, policy)
    assert (decision.outcome, decision.needs_human) == (outcome, needs_human)


def test_late_and_high_value_explain_the_late_rule_first(policy):
    decision = decide(ask("quality", item_value=Decimal("5000"), after=timedelta(days=16), **PHOTOS), policy)
    assert "刚过签收后15天的申请期限" in decision.reason_zh and "24小时内给您答复" in decision.reason_zh
    high = decide(ask(item_value=Decimal("5000")), policy)
    assert high.reason_zh == "这件商品金额超过2000元，需要由专人为您审核，24小时内给您答复。"


@pytest.mark.parametrize(
    "request_, outcome, alternatives",
    [
        (ask(resolution="refund"), Outcome.APPROVED, (R.REFUND, R.EXCHANGE)),
        (ask(resolution="exchange"), Outcome.APPROVED, (R.REFUND, R.EXCHANGE)),
        (ask(resolution="repair"), Outcome.REFUSED, (R.REFUND, R.EXCHANGE)),
        (
            ask("quality", resolution="partial_refund", **PHOTOS),
            Outcome.APPROVED,
            (R.REFUND, R.EXCHANGE, R.REPAIR, R.PARTIAL_REFUND),
        ),
        (
            ask("wrong_item", resolution="reship", **PHOTOS),
            Outcome.APPROVED,
            (R.EXCHANGE, R.RESHIP, R.REFUND, R.PARTIAL_REFUND),
        ),
        (
            ask("not_received", status="运输中", delivery="lost", resolution="exchange"),
            Outcome.REFUSED,
            (R.RESHIP, R.REFUND),
        ),
    ],
    ids=[
        "changed-refund",
        "changed-exchange",
        "changed-repair-refused",
        "quality-partial",
        "wrong-reship",
        "lost-exchange-refused",
    ],
)
def test_resolutions_allowed_per_reason(policy, request_, outcome, alternatives):
    decision = decide(request_, policy)
    assert (decision.outcome, decision.alternatives) == (outcome, alternatives)
    if outcome is Outcome.REFUSED:
        assert decision.coupon_yuan == 10 and "暂不支持" in decision.reason_zh


@pytest.mark.parametrize(
    "request_, payer",
    [
        (ask("quality", **PHOTOS), PostagePayer.STORE),
        (ask("quality", freight_insurance=True, **PHOTOS), PostagePayer.STORE),
        (ask("wrong_item", **PHOTOS), PostagePayer.STORE),
        (ask("not_received", status="运输中", delivery="stuck"), PostagePayer.STORE),
        (ask(), PostagePayer.SHOPPER),
        (ask(freight_insurance=True), PostagePayer.INSURANCE),
        (ask("quality", resolution="partial_refund", **PHOTOS), None),
        (ask(category="定制/刻字"), None),
    ],
    ids=[
        "quality",
        "quality-insured",
        "wrong-item",
        "stuck-parcel",
        "changed-mind",
        "changed-mind-insured",
        "partial-refund-keeps-item",
        "refused",
    ],
)
def test_who_pays_return_postage(policy, request_, payer):
    assert decide(request_, policy).postage_payer is payer


def test_every_decision_text_is_filled_and_never_blames(policy):
    """Every reason, category, status, delivery state and moment: a finished Chinese sentence."""
    blame = ("您自己", "您的问题", "您的原因", "您当时", "怪您", "您选错", "买家原因", "您的责任")
    moments = [timedelta(hours=1), timedelta(days=8), timedelta(days=16), timedelta(days=30)]
    seen = set()
    for reason, category, status, after, photos in itertools.product(Reason, Category, OrderStatus, moments, (0, 1)):
        states = list(DeliveryState) if reason is Reason.NOT_RECEIVED else [None]
        for state in states:
            decision = decide(
                ask(reason.value, category.value, status.value, after, photo_count=photos, delivery=state), policy
            )
            assert decision.reason_zh.endswith("。") and "{" not in decision.reason_zh, decision
            assert not any(word in decision.reason_zh for word in blame), decision.reason_zh
            seen.add(decision.outcome)
    assert seen == set(Outcome)


# --- bad input gets a clear error -----------------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"reason": "broken"}, "reason: 'broken' is not one of quality"),
        ({"category": "家具"}, "category: '家具' is not one of"),
        ({"order_status": "已完成"}, "order_status: '已完成'"),
        ({"resolution": "money_back"}, "resolution: 'money_back'"),
        ({"delivery": "gone"}, "delivery: 'gone'"),
        ({"now": date(2024, 3, 2)}, "now must be a datetime"),
        ({"signed_at": datetime(2024, 3, 1, tzinfo=timezone.utc)}, "both carry a time zone or both not"),
        ({"item_value": 19.9}, "item_value must be a Decimal"),
        ({"item_value": Decimal("-1")}, "item_value must be a finite amount >= 0"),
        ({"item_value": Decimal("NaN")}, "finite amount"),
        ({"photo_count": -1}, "photo_count must be a whole number >= 0"),
        ({"photo_count": True}, "photo_count"),
        ({"opened": "yes"}, "opened must be True, False or None"),
        ({"freight_insurance": None}, "freight_insurance must be True or False"),
    ],
    ids=[
        "reason",
        "category",
        "status",
        "resolution",
        "delivery",
        "now-date",
        "mixed-zones",
        "float-value",
        "negative-value",
        "nan-value",
        "negative-photos",
        "bool-photos",
        "opened-text",
        "insurance-none",
    ],
)
def test_bad_requests_are_refused_with_the_field_named(fields, message):
    values: Dict[str, Any] = dict(
        reason="quality",
        category="服饰",
        order_status="已签收",
        now=datetime(2024, 3, 2),
        signed_at=datetime(2024, 3, 1),
        item_value=Decimal("10"),
    )
    values.update(fields)
    with pytest.raises(ValueError, match=re.escape(message)):
        ReturnRequest(**values)


def test_request_accepts_enum_values_as_strings():
    request = ask("quality", "生鲜", "已签收", resolution="reship", delivery="stuck")
    assert (request.reason, request.category, request.order_status) == (
        Reason.QUALITY,
        Category.FRESH,
        OrderStatus.SIGNED,
    )
    assert (request.resolution, request.delivery) == (Resolution.RESHIP, DeliveryState.STUCK)


# --- delivery state -------------------------------------------------------------------------

NOW = datetime(2024, 3, 10, 12, 0, 10)
DELIVERY_CASES = [
    # id, status, last event, lost, state
    ("unpaid", "待付款", None, False, DeliveryState.NOT_SHIPPED),
    ("to-ship", "待发货", None, False, DeliveryState.NOT_SHIPPED),
    ("cancelled", "已取消", None, True, DeliveryState.NOT_SHIPPED),
    ("signed", "已签收", NOW - timedelta(days=9), False, DeliveryState.SIGNED),
    ("signed-then-reported-lost", "已签收", None, True, DeliveryState.SIGNED),
    ("lost", "运输中", NOW - timedelta(hours=1), True, DeliveryState.LOST),
    ("no-event-yet", "运输中", None, False, DeliveryState.IN_TRANSIT),
    ("fresh-event", "运输中", NOW - timedelta(hours=5), False, DeliveryState.IN_TRANSIT),
    ("last-minute-before-stuck", "运输中", NOW - timedelta(days=3) + MINUTE, False, DeliveryState.IN_TRANSIT),
    ("stuck-at-three-days", "运输中", NOW - timedelta(days=3), False, DeliveryState.STUCK),
    ("stuck-seconds-ignored", "运输中", datetime(2024, 3, 7, 12, 0, 50), False, DeliveryState.STUCK),
    ("stuck-long", "运输中", NOW - timedelta(days=12), False, DeliveryState.STUCK),
]


@pytest.mark.parametrize(
    "status, last_event, lost, state", [case[1:] for case in DELIVERY_CASES], ids=[case[0] for case in DELIVERY_CASES]
)
def test_delivery_state(policy, status, last_event, lost, state):
    assert delivery_state(OrderStatus(status), last_event, NOW, lost, policy) is state


def test_delivery_state_refuses_mixed_clocks(policy):
    with pytest.raises(ValueError, match="time zone"):
        delivery_state(OrderStatus.IN_TRANSIT, datetime(2024, 3, 1, tzinfo=timezone.utc), NOW, False, policy)


@pytest.mark.parametrize(
    "shipped_at, expected",
    [(datetime(2024, 3, 1, 22, 0), date(2024, 3, 4)), (datetime(2024, 2, 28, 8, 0), date(2024, 3, 2))],
    ids=["evening", "over-month-end"],
)
def test_expected_delivery_date(policy, shipped_at, expected):
    assert expected_delivery_date(shipped_at, policy) == expected


# --- refund arrival, case next steps, topics ---------------------------------------------------


@pytest.mark.parametrize(
    "method, expected",
    [
        (PaymentMethod.WALLET, "原路退回账户余额，预计1–3个工作日到账"),
        (PaymentMethod.BANK_CARD, "原路退回银行卡，预计3–7个工作日到账"),
        (PaymentMethod.CREDIT_CARD, "原路退回信用卡，预计7–15个工作日到账"),
        (PaymentMethod.WECHAT, "原路退回微信，预计1–3个工作日到账"),
        (PaymentMethod.ALIPAY, "原路退回支付宝，预计1–3个工作日到账"),
    ],
    ids=[method.name.lower() for method in PaymentMethod],
)
def test_refund_arrival_per_payment_method(policy, method, expected):
    assert refund_arrival_zh(method, policy) == expected


@pytest.mark.parametrize(
    "status, says",
    [
        (CaseStatus.REVIEWING, "24小时内给您答复"),
        (CaseStatus.AWAITING_RETURN, "7天内把商品寄到退货地址"),
        (CaseStatus.RETURNED, "48小时内完成质检"),
        (CaseStatus.INSPECTING, "48小时内出结果"),
        (CaseStatus.REFUNDING, "银行卡3–7个工作日"),
        (CaseStatus.REFUNDED, "退款已经完成"),
        (CaseStatus.EXCHANGED, "一般3天左右送达"),
        (CaseStatus.CLOSED, "已经关闭"),
    ],
    ids=[status.name.lower() for status in CaseStatus],
)
def test_case_next_step_per_status(policy, status, says):
    assert says in case_next_step_zh(status, policy)


@pytest.mark.parametrize(
    "topic, says",
    [
        (PolicyTopic.NON_RETURNABLE, "定制/刻字商品、已拆封的个护/美妆商品和贴身衣物、签收超过24小时的生鲜商品"),
        (PolicyTopic.RETURN_WINDOW, "签收后7天内支持无理由退换"),
        (PolicyTopic.FREIGHT_INSURANCE, "运费险赔付"),
        (PolicyTopic.RETURN_POSTAGE, "质量问题、发错货、未收到货的运费都由商家承担；无理由退换的寄回运费由买家承担"),
        (PolicyTopic.RETURN_ADDRESS, "收件人：售后组，电话：400-000-0000"),
        (PolicyTopic.RETURN_PACKING, "原包装"),
        (PolicyTopic.REFUND_TIME, "余额1–3个工作日、银行卡3–7个工作日"),
        (PolicyTopic.REFUND_ONLY, "超过3天没有更新"),
        (PolicyTopic.EVIDENCE, "质量问题、发错货需要上传1–9张照片"),
        (PolicyTopic.EXCHANGE, "质量问题15天内可以换新"),
        (PolicyTopic.REVIEW_TIME, "24小时内完成审核"),
        (PolicyTopic.INSPECTION_TIME, "48小时内完成质检"),
        (PolicyTopic.DELIVERY_DELAY, "快递一般3天左右送达"),
        (PolicyTopic.PICKUP, "上门取件"),
        (PolicyTopic.HOW_TO_APPLY, "24小时内给您审核结果"),
    ],
    ids=[topic.value for topic in PolicyTopic],
)
def test_policy_answer_per_topic(policy, topic, says):
    answer = policy_answer_zh(topic, policy)
    assert says in answer and "{" not in answer


TOPIC_QUESTIONS = [
    ("运费谁出啊", PolicyTopic.RETURN_POSTAGE),
    ("退货寄到哪", PolicyTopic.RETURN_ADDRESS),
    ("刻字的能退吗", PolicyTopic.NON_RETURNABLE),
    ("钱几天能到", PolicyTopic.REFUND_TIME),
    ("不喜欢退回去 邮费谁承担", PolicyTopic.RETURN_POSTAGE),
    ("质量问题退货也要我自己掏运费吗", PolicyTopic.RETURN_POSTAGE),
    ("你们退货寄哪个地址 收件人写谁", PolicyTopic.RETURN_ADDRESS),
    ("哪些东西是不能退的", PolicyTopic.NON_RETURNABLE),
    ("化妆品开封了是不是就不能退了", PolicyTopic.NON_RETURNABLE),
    ("内裤袜子这种贴身的可以退换吗", PolicyTopic.NON_RETURNABLE),
    ("话费充错号码了能退吗", PolicyTopic.NON_RETURNABLE),
    ("收到货几天之内可以退啊", PolicyTopic.RETURN_WINDOW),
    ("七天是自然日还是工作日", PolicyTopic.RETURN_WINDOW),
    ("过了七天还能退吗", PolicyTopic.RETURN_WINDOW),
    ("签收十天了还能退吗", PolicyTopic.RETURN_WINDOW),
    ("买了运费险退货是不是就不用自己出运费了", PolicyTopic.FREIGHT_INSURANCE),
    ("退货需要原包装吗", PolicyTopic.RETURN_PACKING),
    ("吊牌剪了还能退吗", PolicyTopic.RETURN_PACKING),
    ("必须用顺丰寄回吗", PolicyTopic.RETURN_PACKING),
    ("退款一般多久到账", PolicyTopic.REFUND_TIME),
    ("退回银行卡大概要几天", PolicyTopic.REFUND_TIME),
    ("ＲＥＦＵＮＤ一般要多久", PolicyTopic.REFUND_TIME),
    ("可以只退款不退货吗", PolicyTopic.REFUND_ONLY),
    ("退货要拍照吗", PolicyTopic.EVIDENCE),
    ("没有开箱视频能退吗", PolicyTopic.EVIDENCE),
    ("换个码数一般要几天能收到新的", PolicyTopic.EXCHANGE),
    ("能换其他款式吗 补差价那种", PolicyTopic.EXCHANGE),
    ("你们多久能处理完 审核要多久", PolicyTopic.REVIEW_TIME),
    ("寄回去以后多久验货", PolicyTopic.INSPECTION_TIME),
    ("物流三天了一直不动", PolicyTopic.DELIVERY_DELAY),
    ("能不能上门来取 我不方便去驿站", PolicyTopic.PICKUP),
    ("退货流程是啥 第一次退货不太会", PolicyTopic.HOW_TO_APPLY),
    ("售后入口在哪", PolicyTopic.HOW_TO_APPLY),
    ("你好", None),
    ("谢谢啦", None),
    ("", None),
]


@pytest.mark.parametrize("question, topic", TOPIC_QUESTIONS, ids=[q or "empty" for q, _ in TOPIC_QUESTIONS])
def test_detect_policy_topic_on_colloquial_questions(policy, question, topic):
    assert detect_policy_topic(question, policy) is topic


def test_every_topic_is_reachable_from_its_own_keywords(policy):
    for topic, entry in policy.topics.items():
        assert any(detect_policy_topic(keyword.replace(" ", ""), policy) is topic for keyword in entry.keywords), topic


def test_detect_policy_topic_refuses_what_is_not_text(policy):
    with pytest.raises(TypeError, match="text must be a str"):
        detect_policy_topic(None, policy)


# --- a store edits the file: numbers flow into decisions and texts ------------------------------


def test_changed_numbers_change_decisions_and_answers(tmp_path, policy):
    edited = load_policy(
        edited_policy(
            tmp_path,
            (("return_windows", "by_reason", "changed_mind", "days"), 10),
            (("coupon_on_refusal_yuan",), 20),
            (("human_review", "item_value_above_yuan"), 500),
            (("refund_arrival", "银行卡"), {"min_days": 2, "max_days": 5}),
            (("delivery", "stuck_after_days"), 5),
            (("service_times", "review_hours"), 12),
            (("topics", "return_window", "keywords"), ["退货期限"]),
        )
    )
    nine_days = ask(after=timedelta(days=9))
    assert decide(nine_days, policy).outcome is Outcome.REFUSED
    assert decide(nine_days, edited).outcome is Outcome.APPROVED
    assert decide(nine_days, edited).reason_zh == "签收后10天内支持无理由退换，您的申请在期限内，可以为您办理。"
    assert decide(ask(category="定制/刻字"), edited).coupon_yuan == 20
    assert decide(ask(item_value=Decimal("600")), policy).outcome is Outcome.APPROVED
    assert decide(ask(item_value=Decimal("600")), edited).reason_zh.startswith("这件商品金额超过500元")
    assert refund_arrival_zh(PaymentMethod.BANK_CARD, edited) == "原路退回银行卡，预计2–5个工作日到账"
    assert "签收后10天内支持无理由退换" in policy_answer_zh(PolicyTopic.RETURN_WINDOW, edited)
    assert "银行卡2–5个工作日" in case_next_step_zh(CaseStatus.REFUNDING, edited)
    assert "12小时内" in case_next_step_zh(CaseStatus.REVIEWING, edited)
    four_days_quiet = datetime(2024, 3, 6, 12, 0)
    assert delivery_state(OrderStatus.IN_TRANSIT, four_days_quiet, NOW, False, policy) is DeliveryState.STUCK
    assert delivery_state(OrderStatus.IN_TRANSIT, four_days_quiet, NOW, False, edited) is DeliveryState.IN_TRANSIT
    assert "超过5天没有更新" in decide(ask("not_received", status="运输中"), edited).reason_zh
    assert detect_policy_topic("退货期限是多久", edited) is PolicyTopic.RETURN_WINDOW


def test_changed_lists_change_decisions(tmp_path, policy):
    edited = load_policy(
        edited_policy(
            tmp_path,
            (("non_returnable", "categories", "定制/刻字"), DROP),
            (("evidence", "photos_required_for"), ["quality"]),
            (("postage", "payer_by_reason", "changed_mind"), "store"),
            (("resolutions", "by_reason", "changed_mind"), ["refund"]),
        )
    )
    assert decide(ask(category="定制/刻字"), edited).outcome is Outcome.APPROVED
    assert decide(ask("wrong_item"), edited).outcome is Outcome.APPROVED
    assert decide(ask(), edited).postage_payer is PostagePayer.STORE
    assert decide(ask(resolution="exchange"), edited).outcome is Outcome.REFUSED
    assert "定制/刻字" not in policy_answer_zh(PolicyTopic.NON_RETURNABLE, edited)


def test_default_path_is_the_shipped_file():
    assert DEFAULT_POLICY_PATH == Path(__file__).resolve().parents[2] / "actions" / "policy" / "policy.yml"
    assert load_policy() == load_policy(DEFAULT_POLICY_PATH)


# --- a broken file is named with its field ------------------------------------------------------

BROKEN_EDITS = [
    # id, edits, what the message must say
    (
        "days-not-a-number",
        [(("return_windows", "by_reason", "changed_mind", "days"), "七")],
        "return_windows -> by_reason -> changed_mind -> days: value is not a valid integer",
    ),
    (
        "days-fractional",
        [(("return_windows", "by_reason", "quality", "days"), 15.5)],
        "return_windows -> by_reason -> quality -> days",
    ),
    (
        "empty-window",
        [(("return_windows", "by_reason", "changed_mind"), {"days": 0})],
        "return_windows -> by_reason -> changed_mind: a window needs days or hours above 0",
    ),
    (
        "unknown-reason",
        [(("return_windows", "by_reason", "broken"), {"days": 3})],
        "return_windows -> by_reason -> __key__: value is not a valid enumeration member",
    ),
    (
        "typo-in-a-key",
        [(("return_windows", "by_reason", "quality", "grace_hour"), 3)],
        "return_windows -> by_reason -> quality -> grace_hour: extra fields not permitted",
    ),
    (
        "no-window-for-a-windowed-reason",
        [(("return_windows", "by_reason", "wrong_item"), DROP)],
        "wrong_item needs a window",
    ),
    (
        "photos-min-above-max",
        [(("evidence", "min_photos"), 5), (("evidence", "max_photos"), 3)],
        "evidence: min_photos (5) is above max_photos (3)",
    ),
    (
        "refund-min-above-max",
        [(("refund_arrival", "余额"), {"min_days": 4, "max_days": 2})],
        "refund_arrival -> 余额: min_days (4) is above max_days (2)",
    ),
    ("missing-payment-method", [(("refund_arrival", "信用卡"), DROP)], "refund_arrival: missing entries for 信用卡"),
    (
        "missing-case-status",
        [(("texts", "case_next_steps", "已关闭"), DROP)],
        "texts -> case_next_steps: missing entries for 已关闭",
    ),
    ("missing-topic", [(("topics", "pickup"), DROP)], "topics: missing entries for pickup"),
    (
        "missing-delivery-state",
        [(("not_received_by_delivery_state", "lost"), DROP)],
        "not_received_by_delivery_state: missing entries for lost",
    ),
    ("negative-coupon", [(("coupon_on_refusal_yuan",), -5)], "coupon_on_refusal_yuan"),
    ("zero-stuck-days", [(("delivery", "stuck_after_days"), 0)], "delivery -> stuck_after_days"),
    (
        "value-limit-text",
        [(("human_review", "item_value_above_yuan"), "两千")],
        "human_review -> item_value_above_yuan",
    ),
    (
        "unknown-placeholder",
        [(("topics", "review_time", "answer_zh"), "{dayz}小时内审核")],
        "topics -> review_time -> answer_zh uses unknown placeholder(s) ['dayz']",
    ),
    (
        "broken-template",
        [(("texts", "case_next_steps", "审核中"), "{review_hours小时内")],
        "texts -> case_next_steps -> 审核中 is not a valid template",
    ),
    (
        "window-placeholder-where-no-window",
        [(("order_status_rules", "待付款", "other", "text_zh"), "{window}内")],
        "order_status_rules -> 待付款 -> other -> text_zh uses unknown placeholder(s) ['window']",
    ),
    (
        "label-uses-derived-list",
        [(("non_returnable", "categories", "虚拟商品", "label_zh"), "{non_returnable_list}")],
        "non_returnable -> categories -> 虚拟商品 -> label_zh uses unknown placeholder",
    ),
    (
        "unknown-status-rule-key",
        [(("order_status_rules", "待发货", "chaged_mind"), {"outcome": "refused", "text_zh": "不行"})],
        "order_status_rules: 待发货: unknown key(s) ['chaged_mind']",
    ),
    (
        "status-without-every-reason",
        [(("order_status_rules", "已签收", "other"), DROP)],
        "order_status_rules: 已签收: no rule for",
    ),
    (
        "rule-without-text",
        [(("order_status_rules", "待付款", "other", "text_zh"), DROP)],
        "order_status_rules -> 待付款 -> other: text_zh is required",
    ),
    (
        "delivery-rule-hands-over",
        [(("not_received_by_delivery_state", "lost"), {"outcome": "by_window"})],
        "not_received_by_delivery_state: lost: outcome must be approved, refused or needs_human",
    ),
    (
        "insurance-as-payer",
        [(("postage", "payer_by_reason", "changed_mind"), "insurance")],
        "postage -> payer_by_reason: use store or shopper",
    ),
    (
        "flag-not-a-bool",
        [(("order_status_rules", "待付款", "other", "coupon"), 10)],
        "order_status_rules -> 待付款 -> other -> coupon: value is not a valid boolean",
    ),
    (
        "opened-without-unknown-text",
        [(("non_returnable", "categories", "个护/美妆", "if_unknown_zh"), DROP)],
        "non_returnable -> categories -> 个护/美妆: if_unknown_zh is required",
    ),
    (
        "empty-resolution-list",
        [(("resolutions", "by_reason", "quality"), [])],
        "resolutions -> by_reason -> quality: ensure this value has at least 1 items",
    ),
    ("text-not-a-string", [(("texts", "decisions", "high_value"), 2000)], "texts -> decisions -> high_value"),
]


@pytest.mark.parametrize("edits, says", [case[1:] for case in BROKEN_EDITS], ids=[case[0] for case in BROKEN_EDITS])
def test_broken_policy_names_file_and_field(tmp_path, edits, says):
    path = edited_policy(tmp_path, *edits)
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    message = str(error.value)
    assert str(path) in message
    assert says in message


@pytest.mark.parametrize(
    "content, says",
    [
        ("return_windows: [\n", "line 2"),
        (
            "coupon_on_refusal_yuan: 10\ncoupon_on_refusal_yuan: 20\n",
            "line 2, column 1: duplicate key 'coupon_on_refusal_yuan'",
        ),
        ("- a list\n- not sections\n", "must be a mapping of sections"),
        ("", "must be a mapping of sections"),
        ("coupon_on_refusal_yuan: 10\n", "return_windows: field required"),
    ],
    ids=["syntax", "duplicate-key", "not-a-mapping", "empty", "missing-sections"],
)
def test_unreadable_policy_files(tmp_path, content, says):
    path = tmp_path / "policy.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"policy\.yml") as error:
        load_policy(path)
    assert says in str(error.value)


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyError, match="no such policy file"):
        load_policy(tmp_path / "nowhere.yml")


def test_decision_is_immutable(policy):
    decision = decide(ask(), policy)
    assert isinstance(decision, Decision)
    with pytest.raises(AttributeError):
        decision.outcome = Outcome.REFUSED  # type: ignore[misc]
