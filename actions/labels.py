"""Chinese names of the reasons and resolutions, as shoppers and agents read them (pure, no jieba:
the handoff service imports these through actions/handoff_packet.py)."""

from __future__ import annotations

from actions.shop.models import Reason, Resolution

RESOLUTION_ZH = {
    Resolution.REFUND: "退款",
    Resolution.EXCHANGE: "换货",
    Resolution.RESHIP: "补发",
    Resolution.REPAIR: "维修",
    Resolution.PARTIAL_REFUND: "部分退款（商品留下，补偿差价）",
}
REASON_ZH = {
    Reason.QUALITY: "商品有质量问题",
    Reason.WRONG_ITEM: "收到的商品不对",
    Reason.NOT_RECEIVED: "没有收到包裹",
    Reason.CHANGED_MIND: "不想要了",
}
