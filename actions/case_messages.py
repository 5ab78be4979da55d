"""What the shopper is told once the policy has decided (pure: decision + case + order + policy → text).

Approved: the return number, where to send the item, who pays postage, what to pack and
the timeline. Refused: the rule in one sentence, then what can be done instead. A person
must decide: when they will hear back. Every number comes from the policy file.
"""

from __future__ import annotations

from typing import List, Optional

from actions.policy.enums import PostagePayer
from actions.policy.rules import Decision, Policy, refund_arrival_zh
from actions.replies import RESOLUTION_ZH
from actions.shop.models import Order, OrderItem, Resolution, ReturnCase

POSTAGE_ZH = {
    PostagePayer.STORE: "寄回运费由我们承担，您先垫付的话，运费会随退款一起补给您",
    PostagePayer.SHOPPER: "无理由退换的寄回运费需要您承担",
    PostagePayer.INSURANCE: "您的订单有运费险，寄回运费由运费险赔付",
}


def approved_text(decision: Decision, case: ReturnCase, order: Order, item: Optional[OrderItem], policy: Policy) -> str:
    lines = [decision.reason_zh, f"已为您提交售后申请，退货单号：{case.case_id}。"]
    if decision.postage_payer is not None:
        lines += _return_instructions(decision.postage_payer, policy)
        lines.append(f"仓库收到后{policy.service_times.inspection_hours}小时内完成质检，通过后{_after_inspection(case, order, item, policy)}。")
    else:
        lines.append(_without_return(case, order, policy))
    return "\n".join(line for line in lines if line)


def _return_instructions(payer: PostagePayer, policy: Policy) -> List[str]:
    store = policy.store
    notes = "；".join(store.packing_notes)
    return [
        f"请在{policy.service_times.return_ship_within_days}天内把商品寄回：{store.return_address}，"
        f"收件人：{store.recipient}，电话：{store.phone}。",
        f"{POSTAGE_ZH[payer]}。",
        f"寄回时请注意：{notes}。",
    ]


def _after_inspection(case: ReturnCase, order: Order, item: Optional[OrderItem], policy: Policy) -> str:
    if case.resolution == Resolution.REFUND:
        return f"为您退款，{refund_arrival_zh(order.payment_method, policy)}"
    if case.resolution == Resolution.EXCHANGE:
        if item is not None and item.stock <= 0:
            return "为您换货；这一款目前缺货，到时可以换其他款式，或者直接为您退款"
        return "马上为您换发同款新品"
    if case.resolution == Resolution.REPAIR:
        return "安排维修，修好后寄回给您"
    return f"为您{RESOLUTION_ZH[case.resolution]}"


def _without_return(case: ReturnCase, order: Order, policy: Policy) -> str:
    if case.resolution in (Resolution.REFUND, Resolution.PARTIAL_REFUND):
        return f"不需要寄回商品，退款会{refund_arrival_zh(order.payment_method, policy)}。"
    if case.resolution == Resolution.RESHIP:
        return f"不需要寄回商品，我们会在{policy.service_times.review_hours}小时内为您安排补发，发出后可以在订单里查看物流。"
    return f"我们会在{policy.service_times.review_hours}小时内为您处理。"


def refused_text(decision: Decision) -> str:
    lines = [decision.reason_zh]
    if decision.alternatives:
        options = "、".join(RESOLUTION_ZH[r] for r in decision.alternatives)
        lines.append(f"不过可以为您办理{options}，需要的话告诉我。")
    if decision.coupon_yuan:
        lines.append(f"给您添麻烦了，为表歉意，可以送您一张{decision.coupon_yuan}元优惠券。")
    return "\n".join(lines)


def needs_human_text(decision: Decision, case: ReturnCase, policy: Policy) -> str:
    return (
        f"{decision.reason_zh}\n已为您登记售后申请（退货单号：{case.case_id}），专人会在"
        f"{policy.service_times.review_hours}小时内审核并联系您，您不用再重复说明情况。"
    )


def photos_later_text(case: ReturnCase, policy: Policy) -> str:
    return (
        f"已为您提交售后申请（退货单号：{case.case_id}）。上传照片后我们会尽快审核，"
        f"{policy.service_times.review_hours}小时内给您答复。"
    )
