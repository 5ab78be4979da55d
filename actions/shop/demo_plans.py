"""Hand-written demo orders and cases: the stories, the window boundaries, the odd deliveries.

Ages count back from the seeding time: for a signed order since it was signed, for an order in
transit since it shipped, for an order waiting to ship since it was paid, otherwise since it was
placed. docs/demo-store.md lists the labelled ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Dict, Optional, Tuple

from actions.shop.models import CaseStatus, OrderStatus, PaymentMethod, Reason, Resolution

SIGNED, IN_TRANSIT, TO_SHIP = OrderStatus.SIGNED, OrderStatus.IN_TRANSIT, OrderStatus.TO_SHIP
PENDING, CANCELLED = OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED
PAY = PaymentMethod


def d(days: float = 0, hours: float = 0, minutes: float = 0) -> timedelta:
    return timedelta(days=days, hours=hours, minutes=minutes)


@dataclass(frozen=True)
class Plan:
    shopper: str
    lines: Tuple[Tuple[str, int], ...]  # (sku, quantity)
    status: OrderStatus
    age: timedelta
    label: Optional[str] = None
    signed_by: str = "本人"
    delivery: str = "normal"  # normal / stuck / lost
    stuck_after_step: int = 3
    carrier: Optional[str] = None
    payment: Optional[PaymentMethod] = None
    insurance: Optional[bool] = None
    opened: Optional[bool] = None


# The five stories of the seed guides, plus the two shoppers the order-picking logic needs.
STORIES: Dict[str, str] = {
    "caked_milk_powder": "奶粉打开后结块（母婴，2 天前签收）",
    "family_signed": "显示已签收但本人没收到：15 天前由家人代签",
    "engraved_necklace": "刻字项链戴了一个月不想要了（定制/刻字，约 30 天前签收）",
    "wrong_brand_handbag": "收到的包不是下单的品牌（鞋包，3 天前签收）",
    "tshirt_l_got_m": "买的 L 码白色 T 恤收到 M 码（服饰，3 天前签收）",
    "only_recent_order": "只有一单、最近签收的买家（无需选择订单）",
    "many_signed_orders": "有多笔已签收订单的买家（需要选择订单）",
}

PLANS: Tuple[Plan, ...] = (
    # The stories.
    Plan("u1001", (("MP23-800", 2), ("RC25-258", 1)), SIGNED, d(2, 3), "caked_milk_powder", payment=PAY.WECHAT,
         insurance=True, carrier="京东"),
    Plan("u1002", (("AF12-WH-5L", 1),), SIGNED, d(15, 3), "family_signed", signed_by="家人", payment=PAY.ALIPAY,
         carrier="中通"),
    Plan("u1003", (("NK31-45", 1),), SIGNED, d(30, 5), "engraved_necklace", payment=PAY.ALIPAY, carrier="圆通"),
    Plan("u1004", (("BG05-CM", 1),), SIGNED, d(3, 1), "wrong_brand_handbag", payment=PAY.CREDIT_CARD, insurance=True,
         carrier="顺丰"),
    Plan("u1005", (("TS01-WH-L", 1),), SIGNED, d(3, 4), "tshirt_l_got_m", payment=PAY.WALLET, insurance=False,
         carrier="韵达"),
    Plan("u1006", (("EP09-WH", 1),), SIGNED, d(4, 2), "only_recent_order", payment=PAY.BANK_CARD, carrier="京东"),
    Plan("u1007", (("DJ04-BK-L", 1),), SIGNED, d(5, 6), "many_signed_orders", payment=PAY.WECHAT),
    # u1007's other signed orders (the order picker has to offer a choice).
    Plan("u1007", (("TB29-WH", 1), ("FW27-120", 2)), SIGNED, d(9, 2), opened=True, payment=PAY.ALIPAY),
    Plan("u1007", (("CK17-408", 2),), SIGNED, d(12, 8), payment=PAY.WALLET),
    Plan("u1007", (("SN06-GW-43", 1),), SIGNED, d(6, 1), signed_by="驿站", payment=PAY.CREDIT_CARD),
    Plan("u1007", (("KB11-BL", 1),), SIGNED, d(20, 4), "case_refunding", payment=PAY.CREDIT_CARD),
    # The other stories' shoppers buy other things too.
    Plan("u1001", (("DP24-L54", 2),), TO_SHIP, d(0, 9), payment=PAY.WECHAT),
    Plan("u1001", (("ST26-GY", 1),), SIGNED, d(40, 2), payment=PAY.CREDIT_CARD),
    Plan("u1003", (("DR03-AP-L", 1),), PENDING, d(0, 1.5), payment=PAY.ALIPAY),
    Plan("u1004", (("CH19-25", 1),), CANCELLED, d(6, 3), payment=PAY.CREDIT_CARD),
    Plan("u1005", (("TS01-BK-L", 1), ("JN02-LB-28", 1)), IN_TRANSIT, d(1, 2), payment=PAY.WALLET),
    # Fresh food around the 24-hour window.
    Plan("u1010", (("CH19-25", 1),), SIGNED, d(0, 2), "fresh_2h", carrier="顺丰"),
    Plan("u1011", (("CR20-8P", 1),), SIGNED, d(0, 23, 20), "fresh_just_inside_24h", carrier="顺丰"),
    Plan("u1012", (("SA22-500", 2),), SIGNED, d(1, 0, 40), "fresh_just_outside_24h", carrier="京东"),
    Plan("u1013", (("AP21-5K", 1),), SIGNED, d(3, 5), carrier="中通"),
    # Around the 7-day and 15-day windows.
    Plan("u1014", (("JN02-LB-26", 1),), SIGNED, d(6, 23, 15), "just_inside_7d", insurance=True),
    Plan("u1015", (("DR03-AP-L", 1),), SIGNED, d(7, 0, 35), "just_outside_7d", insurance=True),
    Plan("u1016", (("KT13-SV-17", 1),), SIGNED, d(14, 23, 25), "just_inside_15d"),
    Plan("u1017", (("SW08-BK-46", 1),), SIGNED, d(15, 0, 50), "just_outside_15d", payment=PAY.CREDIT_CARD),
    Plan("u1013", (("PB10-WH", 1),), SIGNED, d(45), payment=PAY.ALIPAY),
    # Deliveries that went wrong, or ended somewhere other than the shopper's hands.
    Plan("u1018", (("PB10-WH", 1),), SIGNED, d(1, 5), "signed_by_locker", signed_by="快递柜"),
    Plan("u1009", (("NT16-30B", 1),), SIGNED, d(5, 7), signed_by="驿站"),
    Plan("u1010", (("KB11-BL", 1),), SIGNED, d(8, 3), signed_by="前台", payment=PAY.BANK_CARD),
    Plan("u1008", (("GS14-PK", 1),), IN_TRANSIT, d(6), "stuck", delivery="stuck", carrier="韵达"),
    Plan("u1014", (("ST26-GY", 1),), IN_TRANSIT, d(7, 5), "stuck_long", delivery="stuck", stuck_after_step=2),
    Plan("u1012", (("BL15-GR-175", 1),), IN_TRANSIT, d(8), "lost", delivery="lost", carrier="圆通"),
    Plan("u1008", (("SW08-BK-46", 1),), SIGNED, d(1, 6), "watch_got_digital_watch", payment=PAY.ALIPAY),
    Plan("u1009", (("DR03-AP-M", 1),), SIGNED, d(2, 1), "dress_loose_threads", payment=PAY.WECHAT),
    # Virtual goods: delivered the moment they are paid.
    Plan("u1010", (("VP34-12M", 1),), SIGNED, d(6), payment=PAY.WECHAT),
    Plan("u1014", (("TP35-100", 1),), SIGNED, d(1, 1), payment=PAY.ALIPAY),
    # Orders behind the existing cases below.
    Plan("u1008", (("JN02-LB-28", 1),), SIGNED, d(4), "case_awaiting_return", insurance=True),
    Plan("u1010", (("TN28-150", 1),), SIGNED, d(2, 5), "case_reviewing", opened=False),
    Plan("u1015", (("SN06-GW-41", 1),), SIGNED, d(8, 2), "case_returned"),
    Plan("u1016", (("DJ04-BK-XL", 1),), SIGNED, d(10), "case_inspecting"),
    Plan("u1011", (("PB10-WH", 1),), SIGNED, d(25), "case_refunded"),
    Plan("u1017", (("TS01-BK-L", 1),), SIGNED, d(18), "case_exchanged"),
    Plan("u1018", (("NT16-30B", 2),), SIGNED, d(12), "case_closed"),
)

# Generated orders go to these shoppers only, so u1006 keeps exactly one order and u1007 only signed ones.
FILLER_SHOPPERS = ("u1001", "u1002", "u1003", "u1004", "u1005", "u1008", "u1009", "u1010", "u1011", "u1012",
                   "u1013", "u1014", "u1015", "u1016", "u1017", "u1018")


@dataclass(frozen=True)
class CasePlan:
    order_label: str
    sku: str
    reason: Reason
    resolution: Resolution
    description: str
    steps: Tuple[Tuple[timedelta, CaseStatus, str], ...]  # (how long ago, status, note), oldest first
    photo_ids: Tuple[str, ...] = ()
    needs_review: bool = False


S = CaseStatus
_SUBMITTED = "售后申请已提交，等待审核"
_SEND_BACK = "审核通过，请在 7 天内寄回商品（保持原包装及配件齐全），寄件时备注退货单号"
CASE_PLANS: Tuple[CasePlan, ...] = (
    CasePlan("case_refunding", "KB11-BL", Reason.QUALITY, Resolution.REFUND, "用了两周部分按键失灵",
             ((d(18), S.REVIEWING, _SUBMITTED), (d(17, 20), S.AWAITING_RETURN, _SEND_BACK),
              (d(16), S.RETURNED, "买家已寄回，顺丰 SF1439201857364"), (d(14), S.INSPECTING, "仓库已收货，质检中"),
              (d(1, 3), S.REFUNDING, "质检确认质量问题，退款 299.00 元已提交，原路退回信用卡预计 3-7 个工作日")),
             photo_ids=("ph-kb11-01", "ph-kb11-02")),
    CasePlan("case_awaiting_return", "JN02-LB-28", Reason.CHANGED_MIND, Resolution.REFUND, "尺码偏小，不想要了",
             ((d(3, 2), S.REVIEWING, _SUBMITTED), (d(3), S.AWAITING_RETURN, _SEND_BACK + "；运费险已生效"))),
    CasePlan("case_reviewing", "TN28-150", Reason.QUALITY, Resolution.REFUND, "瓶口漏液，外盒被浸湿",
             ((d(0, 20), S.REVIEWING, _SUBMITTED),), photo_ids=("ph-tn28-01",), needs_review=True),
    CasePlan("case_returned", "SN06-GW-41", Reason.WRONG_ITEM, Resolution.EXCHANGE, "下单 41 码，收到的是 43 码",
             ((d(7), S.REVIEWING, _SUBMITTED), (d(6, 20), S.AWAITING_RETURN, _SEND_BACK),
              (d(1, 4), S.RETURNED, "买家已寄回，中通 78201946573108")), photo_ids=("ph-sn06-01",)),
    CasePlan("case_inspecting", "DJ04-BK-XL", Reason.QUALITY, Resolution.EXCHANGE, "羽绒服袖口跑绒严重",
             ((d(8), S.REVIEWING, _SUBMITTED), (d(7, 21), S.AWAITING_RETURN, _SEND_BACK),
              (d(4), S.RETURNED, "买家已寄回，韵达 4310982736451"), (d(0, 6), S.INSPECTING, "仓库已收货，48 小时内完成质检")),
             photo_ids=("ph-dj04-01", "ph-dj04-02")),
    CasePlan("case_refunded", "PB10-WH", Reason.QUALITY, Resolution.REFUND, "充电宝充不进电",
             ((d(22), S.REVIEWING, _SUBMITTED), (d(21, 22), S.AWAITING_RETURN, _SEND_BACK),
              (d(19), S.RETURNED, "买家已寄回"), (d(17), S.INSPECTING, "仓库已收货，质检中"),
              (d(16), S.REFUNDING, "质检确认质量问题，退款 129.00 元已提交"), (d(13), S.REFUNDED, "退款已原路退回，请注意查收")),
             photo_ids=("ph-pb10-01",)),
    CasePlan("case_exchanged", "TS01-BK-L", Reason.WRONG_ITEM, Resolution.EXCHANGE, "买的黑色收到白色",
             ((d(16), S.REVIEWING, _SUBMITTED), (d(15, 22), S.AWAITING_RETURN, _SEND_BACK),
              (d(13), S.RETURNED, "买家已寄回"), (d(11), S.INSPECTING, "仓库已收货，质检中"),
              (d(10), S.EXCHANGED, "已换发黑色 L 码，韵达 4320567189034")), photo_ids=("ph-ts01-01",)),
    CasePlan("case_closed", "NT16-30B", Reason.CHANGED_MIND, Resolution.REFUND, "买多了，想退一盒",
             ((d(11), S.REVIEWING, _SUBMITTED), (d(10, 20), S.CLOSED, "买家撤销了售后申请"))),
)
