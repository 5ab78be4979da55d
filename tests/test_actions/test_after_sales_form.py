"""The after-sales form on the real demo store: what is asked, what is refused, what is checked."""

from __future__ import annotations

import httpx

from actions import deps
from actions.forms.after_sales import ValidateAfterSalesForm
from actions.forms.questions import ActionAskItemSku, ActionAskOrderId, ActionAskResolution
from tests.factories import make_tracker
from tests.test_handoff import images

FORM = "after_sales_form"
STORY_PHONES = {"caked_milk_powder": "13912870456", "family_signed": "15067823194"}


def form_tracker(text="", intent="inform", entities=None, slots=None, metadata=None, new=None):
    """A message during the form; `entities` also fill their slots, as Rasa's slot mappings do."""
    new = {**(entities or {}), **(new or {})}
    return make_tracker(text, intent, entities, slots, metadata, active_loop=FORM, new_slots=new)


async def test_a_guest_is_asked_for_the_order_then_the_phone(store, run):
    result = await run(ValidateAfterSalesForm(), form_tracker("奶粉结块了", "report_broken", slots={"reason": "quality"}))
    assert result.slots["requested_slot"] == "order_id"

    order_id = store["caked_milk_powder"]
    slots = {"reason": "quality"}
    result = await run(ValidateAfterSalesForm(), form_tracker(order_id, entities={"order_id": order_id}, slots=slots))
    assert result.slots["order_id"] == order_id
    assert result.slots["requested_slot"] == "phone"


async def test_an_unknown_or_malformed_order_number_is_explained(store, run):
    for order_id, expected in (("2099010100000000", "没有查到订单"), ("12345", "格式好像不对")):
        slots = {"reason": "quality"}
        result = await run(ValidateAfterSalesForm(), form_tracker(order_id, entities={"order_id": order_id}, slots=slots))
        assert result.slots["order_id"] is None
        assert expected in result.text


async def test_a_signed_in_shopper_never_reaches_someone_elses_order(store, run, token):
    other = store["family_signed"]  # u1002's order
    slots = {"reason": "quality"}
    tracker = form_tracker(other, entities={"order_id": other}, slots=slots, metadata={"shopper_token": token("u1001")})
    result = await run(ValidateAfterSalesForm(), tracker)
    assert result.slots["order_id"] is None
    assert "没有找到订单" in result.text
    assert "空气炸锅" not in result.text  # nothing about the other shopper's order leaks


async def test_a_guest_with_the_wrong_phone_is_stopped_after_three_tries(store, run):
    order_id = store["caked_milk_powder"]
    failures = 0
    for _ in range(3):
        slots = {"reason": "quality", "order_id": order_id, "verification_failures": failures}
        result = await run(ValidateAfterSalesForm(), form_tracker("13800000000", entities={"phone": "13800000000"}, slots=slots))
        failures = result.slots["verification_failures"]
        assert result.slots["phone"] is None
    assert failures == 3
    assert "多次核对不一致" in result.text
    assert result.slots["requested_slot"] is None  # the form ends; the submit explains


async def test_a_malformed_phone_is_explained(store, run):
    slots = {"reason": "quality", "order_id": store["caked_milk_powder"]}
    result = await run(ValidateAfterSalesForm(), form_tracker("1391287", entities={"phone": "1391287"}, slots=slots))
    assert result.slots["phone"] is None
    assert "11位手机号" in result.text


async def test_the_right_phone_verifies_the_order_and_the_item_is_asked(store, run):
    order_id = store["caked_milk_powder"]
    phone = STORY_PHONES["caked_milk_powder"]
    slots = {"reason": "quality", "order_id": order_id}
    result = await run(ValidateAfterSalesForm(), form_tracker(phone, entities={"phone": phone}, slots=slots))
    assert result.slots["verified_order_id"] == order_id
    assert result.slots["requested_slot"] == "item_sku"  # 奶粉 and 米粉 on one order


async def test_a_guest_who_named_the_item_first_is_not_asked_which_one_after_the_phone(store, run):
    order_id = store["caked_milk_powder"]
    phone = STORY_PHONES["caked_milk_powder"]
    slots = {"reason": "quality", "order_id": order_id, "product": "奶粉"}  # 奶粉打开全是结块
    result = await run(ValidateAfterSalesForm(), form_tracker(phone, entities={"phone": phone}, slots=slots))
    assert result.slots["verified_order_id"] == order_id
    assert result.slots["item_sku"] == await milk_powder_sku(store)
    assert result.slots["requested_slot"] == "resolution"  # 奶粉 and 米粉 on one order, and no question


def verified(store, label="caked_milk_powder", **slots):
    order_id = store[label]
    return {"reason": "quality", "order_id": order_id, "phone": STORY_PHONES.get(label), "verified_order_id": order_id, **slots}


async def milk_powder_sku(store) -> str:
    order = await deps.repository().get_order(store["caked_milk_powder"])
    return next(item.sku for item in order.items if "奶粉" in item.name)


async def test_the_item_is_picked_from_what_the_shopper_called_it(store, run):
    slots = verified(store, requested_slot="item_sku")
    result = await run(ValidateAfterSalesForm(), form_tracker("奶粉", slots=slots))
    assert "奶粉" in result.slots["product"]
    assert result.slots["requested_slot"] == "resolution"


async def test_an_unclear_item_shows_the_order_lines_as_buttons(store, run):
    slots = verified(store, requested_slot="item_sku")
    result = await run(ValidateAfterSalesForm(), form_tracker("那个蓝色的", slots=slots))
    assert result.slots["item_sku"] is None
    asked = await run(ActionAskItemSku(), form_tracker(slots=slots))
    assert len(asked.buttons) == 2 and any("奶粉" in b["title"] for b in asked.buttons)


async def test_resolutions_offered_are_those_the_policy_allows(store, run):
    dress = store["dress_loose_threads"]
    offered = {}
    for reason in ("quality", "changed_mind"):
        slots = {"reason": reason, "order_id": dress, "verified_order_id": dress}
        asked = await run(ActionAskResolution(), form_tracker(slots=slots))
        offered[reason] = {b["payload"].split('"')[-2] for b in asked.buttons}
    assert offered["quality"] == {"refund", "exchange", "repair", "partial_refund"}
    assert offered["changed_mind"] == {"refund", "exchange"}  # nothing to repair when nothing is wrong


async def test_a_signed_in_shopper_picks_an_order_from_buttons(store, run, token):
    tracker = form_tracker(slots={"reason": "quality"}, metadata={"shopper_token": token("u1007")})
    asked = await run(ActionAskOrderId(), tracker)
    assert len(asked.buttons) >= 2
    assert all(b["payload"].startswith('/inform{"order_id": "20') for b in asked.buttons)


async def test_saying_the_order_number_was_wrong_asks_for_it_again(store, run):
    slots = verified(store, requested_slot="resolution")
    result = await run(ValidateAfterSalesForm(), form_tracker("不好意思订单号说错了", slots=slots))
    assert result.slots["order_id"] is None
    assert result.slots["requested_slot"] == "order_id"


async def test_a_window_that_passed_ends_the_form_without_more_questions(store, run):
    order_id = store["just_outside_7d"]
    slots = {"reason": "changed_mind", "verified_order_id": order_id}
    result = await run(ValidateAfterSalesForm(), form_tracker(order_id, entities={"order_id": order_id}, slots=slots))
    assert result.slots["requested_slot"] is None


def upload(service_url: str, token: str, data: bytes) -> str:
    response = httpx.post(
        f"{service_url}/api/photos", files={"file": ("p.jpg", data)}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    return response.json()["photos"][0]["id"]


async def test_photos_are_checked_against_the_photo_store(store, photo_service, run, token):
    shopper_token = token("u1001")
    mine = [upload(photo_service, shopper_token, images.encode(images.picture(seed=n), "JPEG")) for n in range(2)]
    theirs = upload(photo_service, token("u1002"), images.encode(images.picture(seed=9), "JPEG"))
    again = upload(photo_service, shopper_token, images.encode(images.picture(seed=0), "JPEG"))
    metadata = {"shopper_token": shopper_token}
    cases = {
        "fine": (mine, None),
        "someone else's": (mine + [theirs], "没有上传成功"),
        "made up": (["x" * 22], "没有上传成功"),
        "same photo twice": (mine + [again], "同一张"),
        "ten photos": (mine * 5, "最多上传9张"),
    }
    for name, (ids, problem) in cases.items():
        slots = verified(store, requested_slot="photo_ids", item_sku=await milk_powder_sku(store), resolution="refund")
        tracker = form_tracker("", slots=slots, metadata={**metadata, "photo_ids": ids})
        result = await run(ValidateAfterSalesForm(), tracker)
        if problem is None:
            assert result.slots["photo_ids"] == ids, name
        else:
            assert result.slots["photo_ids"] is None, name
            assert problem in result.text, name


async def test_photos_later_is_accepted_and_said(store, run):
    slots = verified(store, requested_slot="photo_ids", item_sku=await milk_powder_sku(store), resolution="refund")
    result = await run(ValidateAfterSalesForm(), form_tracker("现在拍不了，稍后上传", slots=slots))
    assert result.slots["photo_ids"] == []
    assert [m.get("response") for m in result.messages] == ["utter_photos_later"]
    assert result.slots["requested_slot"] == "confirmed"


async def test_a_guest_switching_to_another_order_proves_it_again(store, run):
    first, second = store["caked_milk_powder"], store["family_signed"]
    slots = {"reason": "quality", "order_id": first, "phone": STORY_PHONES["caked_milk_powder"], "verified_order_id": first}
    result = await run(ValidateAfterSalesForm(), form_tracker(second, entities={"order_id": second}, slots=slots))
    assert result.slots["order_id"] == second and result.slots["phone"] is None
    assert result.slots["requested_slot"] == "phone"
