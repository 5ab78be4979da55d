"""The return-case state machine: every allowed move, every refused one, and the shape of the graph."""

from __future__ import annotations

import itertools

import pytest

from actions.shop.case_states import (
    ALLOWED_TRANSITIONS,
    FINAL_STATUSES,
    INITIAL_STATUS,
    check_transition,
    is_open,
    next_statuses,
)
from actions.shop.models import CaseStatus as S
from actions.shop.repository import CaseTransitionError, ShopError

ALLOWED = {
    (S.REVIEWING, S.AWAITING_RETURN), (S.REVIEWING, S.REFUNDING), (S.REVIEWING, S.EXCHANGED),
    (S.REVIEWING, S.CLOSED), (S.AWAITING_RETURN, S.RETURNED), (S.AWAITING_RETURN, S.CLOSED),
    (S.RETURNED, S.INSPECTING), (S.INSPECTING, S.REFUNDING), (S.INSPECTING, S.EXCHANGED),
    (S.INSPECTING, S.CLOSED), (S.REFUNDING, S.REFUNDED),
}
ALL_PAIRS = list(itertools.product(S, S))


@pytest.mark.parametrize("current,target", sorted(ALLOWED))
def test_allowed_moves_pass(current: S, target: S) -> None:
    check_transition(current, target)
    assert target in next_statuses(current)


@pytest.mark.parametrize("current,target", [pair for pair in ALL_PAIRS if pair not in ALLOWED])
def test_every_other_move_is_refused_with_both_states_named(current: S, target: S) -> None:
    with pytest.raises(CaseTransitionError) as refused:
        check_transition(current, target)
    assert current.value in str(refused.value) and target.value in str(refused.value)
    assert isinstance(refused.value, ShopError)


def test_the_table_lists_every_status_and_matches_the_expected_moves() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(S)
    assert {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets} == ALLOWED


def test_final_and_open_states() -> None:
    assert FINAL_STATUSES == {S.REFUNDED, S.EXCHANGED, S.CLOSED}
    assert INITIAL_STATUS == S.REVIEWING
    assert [s for s in S if is_open(s)] == [S.REVIEWING, S.AWAITING_RETURN, S.RETURNED, S.INSPECTING, S.REFUNDING]


def test_every_state_is_reachable_from_review_and_every_open_state_can_finish() -> None:
    reachable, frontier = {INITIAL_STATUS}, [INITIAL_STATUS]
    while frontier:
        for target in next_statuses(frontier.pop()):
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(S)
    for status in filter(is_open, S):
        assert next_statuses(status), f"{status.value} is open but leads nowhere"


def test_plain_strings_are_accepted_and_unknown_states_fail_clearly() -> None:
    check_transition("审核中", "待寄回")
    with pytest.raises(ValueError, match="已发货"):
        check_transition("审核中", "已发货")


def test_the_refusal_lists_what_is_allowed() -> None:
    with pytest.raises(CaseTransitionError, match="待寄回") as refused:
        check_transition(S.REVIEWING, S.INSPECTING)
    assert "已关闭" in str(refused.value)
    with pytest.raises(CaseTransitionError, match="final"):
        check_transition(S.REFUNDED, S.REFUNDING)
