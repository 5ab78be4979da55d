"""Starting, deciding and reporting after-sales requests on the real demo store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from actions import deps
from actions.after_sales import ActionStartAfterSales, ActionSubmitAfterSales
from actions.policy_questions import ActionAnswerPolicy
from actions.refund_status import ActionRefundStatus, ValidateRefundStatusForm
from actions.session import ActionSessionStart
from actions.shop.models import CaseStatus
from handoff.settings import DEV_SERVICE_TOKEN, DEV_SHOPPER_TOKEN_SECRET
from handoff.shopper_tokens import issue_guest_token, issue_shopper_token
from tests.factories import make_tracker


async def order_of(store, label):
    return await deps.repository().get_order(store[label])


def signed_in(token, shopper_id):
    return {"shopper_token": token(shopper_id)}


# --- starting a request -------------------------------------------------------------


async def test_the_only_order_of_a_signed_in_shopper_is_not_asked_for(store, run, token):
    tracker = make_tracker("耳机右边没声音", "report_broken", metadata=signed_in(token, "u1006"))
    result = await run(ActionStartAfterSales(), tracker)
    assert result.slots["reason"] == "quality"
    assert result.slots["order_id"] == store["only_recent_order"]


async def test_a_shopper_with_several_orders_is_not_guessed_for(store, run, token):
    tracker = make_tracker("东西坏了", "report_broken", metadata=signed_in(token, "u1007"))
    result = await run(ActionStartAfterSales(), tracker)
    assert result.slots["order_id"] is None


async def test_a_rules_question_in_the_same_message_is_answered_at_once(store, run):
    tracker = make_tracker("杯子碎了，退货运费谁出？", "report_broken")
    result = await run(ActionStartAfterSales(), tracker)
    assert "运费" in result.text and "商家承担" in result.text


async def test_a_new_request_forgets_the_last_ones_details(store, run):
    slots = {"reason": "quality", "item_sku": "x", "resolution": "refund", "case_id": "TH1", "photo_ids": ["a"]}
    result = await run(ActionStartAfterSales(), make_tracker("不想要了", "changed_mind", slots=slots))
    assert result.slots["reason"] == "changed_mind"
    assert all(result.slots[slot] is None for slot in ("item_sku", "resolution", "case_id", "photo_ids"))


# --- deciding -----------------------------------------------------------------------


async def submit(run, store, label, **slots):
    order = await order_of(store, label)
    base = {"order_id": order.order_id, "verified_order_id": order.order_id, "confirmed": True}
    return await run(ActionSubmitAfterSales(), make_tracker("对", "affirm", slots={**base, **slots}))


async def test_caked_milk_powder_with_photos_opens_a_case_with_everything_the_shopper_needs(store, run):
    order = await order_of(store, "caked_milk_powder")
    milk = next(item for item in order.items if "奶粉" in item.name)
    result = await submit(run, store, "caked_milk_powder", reason="quality", item_sku=milk.sku, resolution="refund",
                          photo_ids=["p" * 22])
    case = await deps.repository().get_case(result.slots["case_id"])
    assert case.status == CaseStatus.AWAITING_RETURN and case.sku == milk.sku
    policy = deps.policy()
    for must in (case.case_id, policy.store.return_address, "运费由我们承担", "质检"):
        assert must in result.text
    assert result.slots["reason"] is None  # the request is done; a new one starts clean


async def test_the_same_request_twice_makes_one_case(store, run):
    order = await order_of(store, "caked_milk_powder")
    milk = next(item for item in order.items if "奶粉" in item.name)
    slots = dict(reason="quality", item_sku=milk.sku, resolution="refund", photo_ids=["p" * 22])
    first = await submit(run, store, "caked_milk_powder", **slots)
    second = await submit(run, store, "caked_milk_powder", **slots)
    assert first.slots["case_id"] == second.slots["case_id"]
    assert len(await deps.repository().list_cases(order_id=order.order_id)) == 1


async def test_photos_to_come_later_put_the_case_in_review(store, run):
    order = await order_of(store, "dress_loose_threads")
    result = await submit(run, store, "dress_loose_threads", reason="quality", item_sku=order.items[0].sku,
                          resolution="exchange", photo_ids=[])
    case = await deps.repository().get_case(result.slots["case_id"])
    assert case.needs_review and case.status == CaseStatus.REVIEWING
    assert "上传照片" in result.text


async def test_an_engraved_necklace_no_longer_wanted_is_refused_kindly(store, run):
    order = await order_of(store, "engraved_necklace")
    result = await submit(run, store, "engraved_necklace", reason="changed_mind", item_sku=order.items[0].sku)
    assert "case_id" not in result.slots or result.slots["case_id"] is None
    assert "抱歉" in result.text and "优惠券" in result.text
    assert await deps.repository().list_cases(order_id=order.order_id) == []


async def test_changed_mind_after_seven_days_is_refused(store, run):
    order = await order_of(store, "just_outside_7d")
    result = await submit(run, store, "just_outside_7d", reason="changed_mind", item_sku=order.items[0].sku,
                          resolution="refund")
    assert "已超过期限" in result.text


async def test_a_parcel_signed_by_family_and_not_found_goes_to_a_person(photo_service, store, run):
    result = await submit(run, store, "family_signed", reason="not_received", signed_check="not_found")
    case = await deps.repository().get_case(result.slots["case_id"])
    assert case.needs_review and case.status == CaseStatus.REVIEWING
    assert "专人" in result.text and "转接" in result.text, "the policy says a person decides: handed off now"
    ticket = queued_ticket(photo_service, result.slots["handoff_ticket_id"])
    assert ticket["reason"] == "policy" and ticket["case"]["case_id"] == case.case_id
    assert ticket["five_elements"]["problem"] == "没有收到包裹"


def queued_ticket(service_url: str, ticket_id: str) -> dict:
    headers = {"Authorization": f"Bearer {DEV_SERVICE_TOKEN}"}
    return httpx.get(f"{service_url}/internal/tickets/{ticket_id}", headers=headers).json()["ticket"]


async def test_a_parcel_found_at_home_opens_nothing(store, run):
    result = await submit(run, store, "family_signed", reason="not_received", signed_check="found")
    assert "找到了就好" in result.text
    assert await deps.repository().list_cases(order_id=store["family_signed"]) == []


async def test_a_stuck_parcel_is_reshipped(store, run):
    result = await submit(run, store, "stuck", reason="not_received", resolution="reship")
    case = await deps.repository().get_case(result.slots["case_id"])
    assert case.resolution.value == "reship" and not case.needs_review
    assert "补发" in result.text


async def test_a_parcel_on_its_way_is_tracked_not_refunded(store, run):
    orders = await deps.repository().list_orders("u1001") + await deps.repository().list_orders("u1008")
    moving = next((o for o in orders if o.status.value == "运输中" and o.order_id not in (store["stuck"], store["lost"])), None)
    if moving is None:
        moving = await order_of(store, "stuck")
    slots = {"order_id": moving.order_id, "verified_order_id": moving.order_id, "reason": "not_received"}
    result = await run(ActionSubmitAfterSales(), make_tracker("", "affirm", slots=slots))
    assert "运输中" in result.text or "物流" in result.text


@pytest.mark.parametrize("status, says", [("已取消", "取消"), ("待付款", "付款")])
async def test_an_unpaid_or_cancelled_order_is_refused_with_its_reason(store, run, status, says):
    shoppers = [f"u{n}" for n in range(1001, 1019)]
    orders = [o for shopper in shoppers for o in await deps.repository().list_orders(shopper)]
    order = next(o for o in orders if o.status.value == status)
    slots = {"order_id": order.order_id, "verified_order_id": order.order_id, "reason": "quality"}
    result = await run(ActionSubmitAfterSales(), make_tracker("", "affirm", slots=slots))
    assert says in result.text
    assert await deps.repository().list_cases(order_id=order.order_id) == []


async def test_too_many_wrong_phones_hand_over_instead_of_deciding(photo_service, store, run):
    slots = {"order_id": store["caked_milk_powder"], "reason": "quality", "verification_failures": 3}
    result = await run(ActionSubmitAfterSales(), make_tracker("13800000000", "inform", slots=slots))
    assert "人工" in result.text and result.slots["verification_failures"] == 0
    assert queued_ticket(photo_service, result.slots["handoff_ticket_id"])["reason"] == "policy"


# --- refund status, rules questions, identity ------------------------------------------


async def test_refund_status_of_a_signed_in_shopper_lists_their_cases(store, run, token):
    result = await run(ActionRefundStatus(), make_tracker("退款到哪了", "ask_refund_status", metadata=signed_in(token, "u1007")))
    assert "退款中" in result.text and "个工作日" in result.text


async def test_a_guest_must_prove_the_order_before_seeing_its_cases(store, run, domain):
    order_id = store["case_refunding"]
    result = await run(ActionRefundStatus(), make_tracker(order_id, "inform", slots={"order_id": order_id}))
    assert "核对订单信息" in result.text
    form = ValidateRefundStatusForm()
    guest = make_tracker("退款呢", "ask_refund_status", active_loop="refund_status_form")
    assert await form.required_slots([], None, guest, domain) == ["order_id", "phone"]


async def test_a_signed_in_shopper_is_not_asked_anything_for_refund_status(store, token, domain):
    tracker = make_tracker("退款呢", "ask_refund_status", metadata=signed_in(token, "u1007"))
    assert await ValidateRefundStatusForm().required_slots([], None, tracker, domain) == []


async def test_a_policy_question_is_answered_from_the_policy_file(store, run):
    result = await run(ActionAnswerPolicy(), make_tracker("退货地址是哪里", "ask_policy"))
    assert deps.policy().store.return_address in result.text
    unknown = await run(ActionAnswerPolicy(), make_tracker("规则", "ask_policy"))
    assert [m.get("response") for m in unknown.messages] == ["utter_ask_policy"]


async def test_session_start_believes_only_a_valid_token(store, run, token):
    good = await run(ActionSessionStart(), make_tracker(slots={"session_started_metadata": signed_in(token, "u1001")}))
    assert good.slots["shopper_id"] == "u1001"
    forged = issue_shopper_token("u1001", "another-secret-that-is-long-enough-0123", ttl_seconds=600)
    bad = await run(ActionSessionStart(), make_tracker(slots={"session_started_metadata": {"shopper_token": forged}}))
    assert bad.slots["shopper_id"] is None and "访客" in bad.text
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    expired = issue_shopper_token("u1001", DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=600, now=an_hour_ago)
    late = await run(ActionSessionStart(), make_tracker(slots={"session_started_metadata": {"shopper_token": expired}}))
    assert late.slots["shopper_id"] is None and "过期" in late.text
    guest = issue_guest_token("page-guest", DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=600)
    welcomed = await run(ActionSessionStart(), make_tracker(slots={"session_started_metadata": {"shopper_token": guest}}))
    assert welcomed.slots["shopper_id"] is None and welcomed.text == "", "a guest of the chat page is not scolded"


async def test_coming_back_to_an_unfinished_request_offers_to_go_on(store, run):
    slots = {"reason": "quality", "order_id": store["caked_milk_powder"]}
    result = await run(ActionSessionStart(), make_tracker(slots=slots))
    assert result.slots["resume_offered"] is True and "接着办理" in result.text
    assert result.slots["order_id"] == store["caked_milk_powder"]
