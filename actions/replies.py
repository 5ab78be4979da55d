"""The Chinese sentences and buttons the after-sales actions send (pure functions).

Style of the seed guides: empathy first, never blame the shopper, and the solution in
the same turn. Texts that state a rule come from the policy file, not from here.
Button payloads use Rasa's `/intent{"slot": value}` form: the gateway signs them
before they reach a shopper and refuses unsigned ones from free text.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Dict, List, Optional, Sequence

from actions.item_matching import item_label
from actions.labels import REASON_ZH, RESOLUTION_ZH
from actions.shop.models import Order, OrderItem, Reason, Resolution, ReturnCase

MAX_ORDER_BUTTONS = 6


def pick(*variants: str) -> str:
    """One of several phrasings, so the bot does not sound like a form letter."""
    return random.choice(variants)


def payload(intent: str, **entities: str) -> str:
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def button(title: str, intent: str, **entities: str) -> Dict[str, str]:
    return {"title": title, "payload": payload(intent, **entities)}


def day(moment: Optional[datetime]) -> str:
    return f"{moment.month}月{moment.day}日" if moment else ""


def minute(moment: Optional[datetime]) -> str:
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}" if moment else ""


def order_title(order: Order) -> str:
    first = order.items[0].name
    more = f"等{len(order.items)}件" if len(order.items) > 1 else ""
    return f"{first}{more} · {order.status.value} · {day(order.placed_at)}下单"


def order_buttons(orders: Sequence[Order]) -> List[Dict[str, str]]:
    return [button(order_title(order), "inform", order_id=order.order_id) for order in orders[:MAX_ORDER_BUTTONS]]


def item_buttons(items: Sequence[OrderItem]) -> List[Dict[str, str]]:
    return [button(item_label(item), "inform", product=item_label(item)) for item in items]


def resolution_buttons(resolutions: Sequence[Resolution]) -> List[Dict[str, str]]:
    return [button(RESOLUTION_ZH[r], "inform", resolution=r.value) for r in resolutions]


def confirm_buttons() -> List[Dict[str, str]]:
    return [button("对，没问题", "affirm"), button("不对，我要修改", "deny")]


def restatement(order: Order, item: Optional[OrderItem], reason: Reason, resolution: Optional[Resolution]) -> str:
    """复述确认: the five elements in one sentence, asking the shopper to confirm."""
    what = item_label(item) if item else order_title(order)
    wish = f"，希望{RESOLUTION_ZH[resolution]}" if resolution else ""
    return f"确认一下，您的订单号是{order.order_id}，购买的是{what}，因{REASON_ZH[reason]}{wish}，对吗？"


def case_line(case: ReturnCase, order: Optional[Order], next_step: str) -> str:
    item = order.item(case.sku) if order else None
    what = item.name if item else f"订单{case.order_id}"
    return f"· {what}（退货单号 {case.case_id}，{RESOLUTION_ZH[case.resolution]}）：当前状态【{case.status.value}】，{next_step}"
