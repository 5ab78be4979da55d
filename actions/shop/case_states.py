"""Which way a return case may move (pure: no I/O, no clock).

审核中 is where every case starts. A case is open until it reaches a final state
(已退款 / 已换货 / 已关闭); only one open case may exist per order, item and reason.

Paths beyond the main return flow:
- partial refund (the shopper keeps an item with a minor defect): 审核中 → 退款中 → 已退款;
- reship of a lost or wrong parcel (nothing to send back): 审核中 → 已换货, where 已换货
  means "a replacement was shipped"; an exchange after inspection ends the same way;
- the shopper never sends the item back, or withdraws: 待寄回 → 已关闭;
- inspection fails (not the same item, damage not covered): 质检中 → 已关闭.
"""

from __future__ import annotations

from typing import Dict, FrozenSet

from actions.shop.models import CaseStatus
from actions.shop.repository import CaseTransitionError

S = CaseStatus

ALLOWED_TRANSITIONS: Dict[CaseStatus, FrozenSet[CaseStatus]] = {
    S.REVIEWING: frozenset({S.AWAITING_RETURN, S.REFUNDING, S.EXCHANGED, S.CLOSED}),
    S.AWAITING_RETURN: frozenset({S.RETURNED, S.CLOSED}),
    S.RETURNED: frozenset({S.INSPECTING}),
    S.INSPECTING: frozenset({S.REFUNDING, S.EXCHANGED, S.CLOSED}),
    S.REFUNDING: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
    S.EXCHANGED: frozenset(),
    S.CLOSED: frozenset(),
}

INITIAL_STATUS = S.REVIEWING
FINAL_STATUSES: FrozenSet[CaseStatus] = frozenset(s for s, targets in ALLOWED_TRANSITIONS.items() if not targets)


def next_statuses(current: CaseStatus) -> FrozenSet[CaseStatus]:
    """The states a case in `current` may move to (empty for a final state)."""
    return ALLOWED_TRANSITIONS[CaseStatus(current)]


def is_open(status: CaseStatus) -> bool:
    return CaseStatus(status) not in FINAL_STATUSES


def check_transition(current: CaseStatus, target: CaseStatus) -> None:
    """Raise CaseTransitionError unless a case may move from `current` to `target`."""
    current, target = CaseStatus(current), CaseStatus(target)
    allowed = ALLOWED_TRANSITIONS[current]
    if target in allowed:
        return
    if not allowed:
        raise CaseTransitionError(f"case is {current.value} (final): it cannot move to {target.value}")
    choices = "/".join(sorted(s.value for s in allowed))
    raise CaseTransitionError(f"case cannot move from {current.value} to {target.value}; allowed: {choices}")
