"""What the bot hands a person, built from the conversation (pure: no store, no network).

`build_ticket` turns a rasa-sdk tracker (plus the order and case the action looked up) into
a `TicketIn`: the reason, a one-line Chinese summary (一句话摘要), the five elements, the
slots, the transcript with each shopper turn's intent, confidence and anger, and what the bot
already promised, so that the agent never asks the shopper to repeat a word.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions.labels import REASON_ZH as PROBLEM_ZH
from actions.labels import RESOLUTION_ZH
from handoff.tickets.models import REASON_ZH, HandoffReason, TicketIn, TranscriptTurn

# Bot messages from these actions state what will happen next (a case, a refund's way).
PROMISING_ACTIONS = {"action_submit_after_sales", "action_refund_status", "action_handoff_to_human"}
# Slots an agent needs; the rest are the form's bookkeeping.
HANDED_SLOTS = (
    "shopper_id", "order_id", "verified_order_id", "product", "item_sku", "reason", "resolution",
    "photo_ids", "signed_check", "confirmed", "case_id",
)


def build_ticket(
    tracker: Tracker,
    reason: HandoffReason,
    angry: bool,
    anger_score: float,
    order: Optional[Dict[str, Any]] = None,
    case: Optional[Dict[str, Any]] = None,
) -> TicketIn:
    slots = {name: tracker.get_slot(name) for name in HANDED_SLOTS if tracker.get_slot(name) not in (None, [], "")}
    elements = five_elements(slots, order)
    return TicketIn(
        conversation_id=tracker.sender_id,
        shopper_id=slots.get("shopper_id"),
        reason=reason,
        summary_zh=summary_zh(reason, angry, elements, case),
        angry=angry,
        anger_score=round(min(max(anger_score, 0.0), 1.0), 4),
        five_elements=elements,
        slots=slots,
        order=order,
        case=case,
        photo_ids=[str(p) for p in (tracker.get_slot("photo_ids") or [])],
        transcript=transcript(tracker.events),
        promises=promises(tracker.events),
    )


def five_elements(slots: Dict[str, Any], order: Optional[Dict[str, Any]]) -> Dict[str, Optional[str]]:
    """Who, which order, which item, why, what they want (after-sales.md's 五要素), and the evidence."""
    photos = slots.get("photo_ids") or []
    return {
        "who": slots.get("shopper_id") or ("已验证手机号的访客" if slots.get("verified_order_id") else None),
        "order": slots.get("order_id") or slots.get("verified_order_id"),
        "item": item_name(slots, order),
        "problem": PROBLEM_ZH.get(slots.get("reason") or ""),
        "wish": RESOLUTION_ZH.get(slots.get("resolution") or ""),
        "evidence": f"照片{len(photos)}张" if photos else None,
    }


def item_name(slots: Dict[str, Any], order: Optional[Dict[str, Any]]) -> Optional[str]:
    sku = slots.get("item_sku")
    for item in (order or {}).get("items") or []:
        if sku and item.get("sku") == sku:
            return str(item.get("name"))
    return slots.get("product")


def summary_zh(reason: HandoffReason, angry: bool, elements: Dict[str, Optional[str]], case: Optional[Dict]) -> str:
    """顾客（投诉，情绪激动）：订单…的奶粉，商品破损/质量问题，希望退款；售后单…（待审核）。"""
    tags = "，".join([REASON_ZH[reason]] + (["情绪激动"] if angry and reason != HandoffReason.anger else []))
    facts = [f"订单{elements['order']}" if elements.get("order") else "未提供订单号"]
    if elements.get("item"):
        facts.append(f"商品{elements['item']}")
    if elements.get("problem"):
        facts.append(elements["problem"])
    if elements.get("wish"):
        facts.append(f"希望{elements['wish']}")
    line = f"顾客（{tags}）：" + "，".join(facts)
    if case:
        line += f"；售后单{case.get('case_id')}（{case.get('status')}）"
    return line[:200]


def transcript(events: List[Dict[str, Any]]) -> List[TranscriptTurn]:
    turns: List[TranscriptTurn] = []
    for event in events:
        if event.get("event") == "user" and event.get("text"):
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            turns.append(
                TranscriptTurn(
                    speaker="shopper",
                    text=event["text"],
                    timestamp=event.get("timestamp") or 0.0,
                    intent=intent.get("name"),
                    confidence=intent.get("confidence"),
                    anger=(parse.get("anger") or {}).get("score"),
                )
            )
        elif event.get("event") == "bot" and event.get("text"):
            agent = (event.get("metadata") or {}).get("agent_id")
            turns.append(TranscriptTurn(speaker="agent" if agent else "bot", text=event["text"], timestamp=event.get("timestamp") or 0.0))
    return turns


def promises(events: List[Dict[str, Any]]) -> List[str]:
    """What the bot said will happen: the messages of the actions that open cases or report refunds."""
    said: List[str] = []
    current_action: Optional[str] = None
    for event in events:
        if event.get("event") == "action":
            current_action = event.get("name")
        elif event.get("event") == "bot" and current_action in PROMISING_ACTIONS and event.get("text"):
            said.append(event["text"])
    return said
