"""The handoff ticket: what the bot hands a person, and what the queue shows about it.

Shared by the action server (actions/clients/handoff_client.py builds and posts a `TicketIn`)
and the handoff service (handoff/tickets/), so the two sides cannot drift. No FastAPI here.
"""

from __future__ import annotations

import math
import re
from enum import Enum
from typing import Any, Dict, List, Optional

from pydantic import BaseModel, Field, validator


class HandoffReason(str, Enum):
    """Why the bot hands the conversation to a person (priority order: see `priority_of`)."""

    complaint = "complaint"  # 投诉, 12315, 差评 threats
    anger = "anger"  # anger at or above the threshold, or rising over the last turns
    requested = "requested"  # the shopper asked for a person
    policy = "policy"  # the policy says a person must decide
    stuck = "stuck"  # two fallbacks in a row


REASON_ZH = {
    HandoffReason.complaint: "投诉",
    HandoffReason.anger: "情绪激动",
    HandoffReason.requested: "要求人工",
    HandoffReason.policy: "需人工审核",
    HandoffReason.stuck: "机器人未理解",
}

# Intents that ask for a person by themselves (Rasa's rules in data/rules/handoff.yml).
INTENT_REASONS = {"complain": HandoffReason.complaint, "request_human": HandoffReason.requested}
# What the shopper hears when handed off, before their place in the queue.
OPENING_ZH = {
    HandoffReason.complaint: "非常抱歉给您带来这么不好的体验，我马上为您转接人工客服专门处理。",
    HandoffReason.anger: "非常理解您现在的心情，真的很抱歉。我马上为您转接人工客服优先处理。",
    HandoffReason.requested: "好的，马上为您转接人工客服。",
    HandoffReason.policy: "您的情况需要人工客服确认，我为您转接。",
    HandoffReason.stuck: "抱歉我没能理解清楚，我为您转接人工客服。",
}
KEEP_WRITING_ZH = "您可以继续留言，客服接入后会看到您说的全部内容，不需要再重复一遍。"

# Lower is served first; equal priorities are served by waiting time.
PRIORITY = {
    HandoffReason.complaint: 0,
    HandoffReason.anger: 1,
    HandoffReason.requested: 2,
    HandoffReason.policy: 2,
    HandoffReason.stuck: 3,
}


def priority_of(reason: HandoffReason, angry: bool) -> int:
    """Complaints and anger first, then everyone else (an angry request counts as anger)."""
    return min(PRIORITY[reason], PRIORITY[HandoffReason.anger]) if angry else PRIORITY[reason]


def finite_json(value: Any) -> Any:
    """NaN and Infinity are no JSON: Python's json reads them, but a ticket holding one could never
    be sent back (every read of it, and of the queue, would fail)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("NaN and Infinity are not JSON numbers")
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        finite_json(item)
    return value


class TranscriptTurn(BaseModel):
    """One line of the conversation as the agent reads it."""

    class Config:
        allow_inf_nan = False

    speaker: str  # "shopper" | "bot" | "agent"
    text: str
    timestamp: float
    intent: Optional[str] = None  # shopper turns: what the bot understood
    confidence: Optional[float] = None
    anger: Optional[float] = None  # shopper turns: anger score 0..1


class TicketIn(BaseModel):
    """Everything the bot learned, sent once when it hands off (idempotent per conversation)."""

    conversation_id: str = Field(..., min_length=1, max_length=200)
    shopper_id: Optional[str] = None  # None for a guest
    reason: HandoffReason
    summary_zh: str = Field(..., min_length=1, max_length=200)  # 一句话摘要
    angry: bool = False
    anger_score: float = Field(0.0, ge=0.0, le=1.0)
    five_elements: Dict[str, Optional[str]] = Field(default_factory=dict)  # order, item, problem, wish, evidence
    slots: Dict[str, Any] = Field(default_factory=dict)
    order: Optional[Dict[str, Any]] = None  # items, status, tracking
    case: Optional[Dict[str, Any]] = None  # return case and its state
    photo_ids: List[str] = Field(default_factory=list)
    transcript: List[TranscriptTurn] = Field(default_factory=list)
    promises: List[str] = Field(default_factory=list)  # what the bot already told the shopper will happen

    class Config:
        allow_inf_nan = False

    @validator("slots", "order", "case")
    def _finite_numbers(cls, value: Any) -> Any:  # noqa: N805
        return finite_json(value)

    @validator("transcript")
    def _bounded_transcript(cls, value: List[TranscriptTurn]) -> List[TranscriptTurn]:  # noqa: N805
        return value[-200:]  # the latest 200 lines; the whole history stays in Rasa's tracker

    @property
    def priority(self) -> int:
        return priority_of(self.reason, self.angry)


# Ids are made by the service: secrets.token_urlsafe(12) gives 16 URL-safe characters.
TICKET_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16}$")


def is_ticket_id(value: str) -> bool:
    return bool(TICKET_ID_PATTERN.match(value))


class TicketStatus(str, Enum):
    waiting = "waiting"  # queued, no agent yet
    claimed = "claimed"  # an agent took it
    returned = "returned"  # given back to the bot
    closed = "closed"


class QueuePosition(BaseModel):
    """What the shopper reads while waiting: 您前面还有N位，预计等待X分钟."""

    ticket_id: str
    ahead: int
    expected_wait_minutes: int
    agents_online: int

    def message_zh(self) -> str:
        if self.agents_online == 0:
            return "正在为您转接人工客服。现在暂时没有客服在线，您的问题已记录，客服上线后会第一时间联系您。"
        return f"正在为您转接人工客服，您前面还有{self.ahead}位，预计等待{self.expected_wait_minutes}分钟。"


class TicketOut(BaseModel):
    ticket_id: str
    status: TicketStatus
    priority: int
    created_at: float
    ticket: TicketIn
    agent_id: Optional[str] = None
    position: Optional[QueuePosition] = None
