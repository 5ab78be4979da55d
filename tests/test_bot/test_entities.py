"""Entity extraction and resolution normalisation by the real model."""

import pytest


def entities(parse, text):
    return {(e["entity"], e["value"]) for e in parse(text)["entities"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("订单号2025041812345678", {("order_id", "2025041812345678")}),
        ("我的手机是13912345678", {("phone", "13912345678")}),
        ("单号 2025041812345678 手机 15800001111", {("order_id", "2025041812345678"), ("phone", "15800001111")}),
        ("电话是 139 1234 5678", {("phone", "13912345678")}),
        ("订单号２０２５０４１８１２３４５６７８", {("order_id", "2025041812345678")}),
    ],
)
def test_order_numbers_and_phones(parse, text, expected):
    assert {e for e in entities(parse, text) if e[0] in ("order_id", "phone")} == expected


@pytest.mark.parametrize("text", ["我的快递单号是7312345678", "价格是1234元", "订单号123", "电话12345678901"])
def test_no_order_or_phone_from_other_numbers(parse, text):
    assert not {e for e in entities(parse, text) if e[0] in ("order_id", "phone")}


@pytest.mark.parametrize(
    ("text", "resolution"),
    [
        ("我要退款", "refund"),
        ("给我换一个吧", "exchange"),
        ("少了一件 给我补发", "reship"),
        ("能不能上门维修", "repair"),
        ("退一部分钱也行", "partial_refund"),
    ],
)
def test_resolution_is_normalised(parse, text, resolution):
    assert ("resolution", resolution) in entities(parse, text)


def test_product_is_extracted(parse):
    values = {v for t, v in entities(parse, "我买的奶粉打开全是结块的") if t == "product"}
    assert values == {"奶粉"}
