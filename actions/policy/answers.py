"""What the bot says about the policy itself: ask_policy answers, refund arrival times and
the next step of a case. Pure functions; every word and number comes from policy.yml."""

from __future__ import annotations

import unicodedata
from typing import Optional

from actions.policy import texts as tpl
from actions.policy.enums import PolicyTopic
from actions.policy.schema import Policy
from actions.shop.models import CaseStatus, PaymentMethod


def refund_arrival_zh(payment_method: PaymentMethod, policy: Policy) -> str:
    """原路退回银行卡，预计3–7个工作日到账"""
    method = PaymentMethod(payment_method)
    values = tpl.refund_values(method, policy.refund_arrival[method])
    return tpl.fill(policy.texts.refund_arrival, values)


def case_next_step_zh(status: CaseStatus, policy: Policy) -> str:
    """The next step of a case in this state and when it happens."""
    return tpl.fill(policy.texts.case_next_steps[CaseStatus(status)], tpl.policy_values(policy))


def policy_answer_zh(topic: PolicyTopic, policy: Policy) -> str:
    return tpl.fill(policy.topics[PolicyTopic(topic)].answer_zh, tpl.policy_values(policy))


def detect_policy_topic(text: str, policy: Policy) -> Optional[PolicyTopic]:
    """The topic whose keywords match the most characters of the question; ties go to the
    topic listed first in policy.yml; None when no keyword matches."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    question = _normalise(text)
    best, best_score = None, 0
    for topic, entry in policy.topics.items():
        score = sum(_matched_length(keyword, question) for keyword in entry.keywords)
        if score > best_score:
            best, best_score = topic, score
    return best


def _matched_length(keyword: str, question: str) -> int:
    """The characters of a keyword found in the question: its parts (split on spaces) in order, or 0."""
    parts = _normalise(keyword).split()
    position = 0
    for part in parts:
        found = question.find(part, position)
        if found < 0:
            return 0
        position = found + len(part)
    return sum(len(part) for part in parts)


def _normalise(text: str) -> str:
    """Full-width letters and digits as half-width, lower case (ＲＥＦＵＮＤ → refund)."""
    return unicodedata.normalize("NFKC", text).lower()
