"""Incrementally built dialogue states are exactly Rasa's own, on every rule and test story."""

from __future__ import annotations

from typing import List

import pytest
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies import IncrementalStates
from tests.conftest import PROJECT_ROOT
from tests.test_bot.stories import story_trackers

RULE_ONLY = {"slots": ["resume_offered"], "loops": ["refund_status_form"]}
OPTIONS = [(False, False, None), (True, False, None), (False, True, RULE_ONLY), (False, True, None)]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture(scope="module")
def trackers(domain) -> List[DialogueStateTracker]:
    """Every rule (data/rules/) and every test story (tests/stories/) as a tracker."""
    generated = story_trackers(domain)
    assert len(generated) > 60
    return generated


def prefixes(tracker: DialogueStateTracker) -> List[DialogueStateTracker]:
    """The tracker as it stood after each action, sharing its event objects, as turns do."""
    events = list(tracker.events)
    ends = [i + 1 for i, e in enumerate(events) if isinstance(e, ActionExecuted)] + [len(events)]
    copies = []
    for end in ends:
        copy = DialogueStateTracker(tracker.sender_id, tracker.slots.values(), is_rule_tracker=tracker.is_rule_tracker)
        copy.recreate_from_dialogue(Dialogue(tracker.sender_id, events[:end]))
        copies.append(copy)
    return copies


@pytest.mark.parametrize("options", OPTIONS, ids=["plain", "omit-unset", "ml-view-rule-only", "ml-view"])
def test_states_grow_turn_by_turn_exactly_as_rasa_builds_them(domain, trackers, options):
    incremental = IncrementalStates()
    compared = 0
    for tracker in trackers:
        for prefix in prefixes(tracker):
            expected = domain.states_for_tracker_history(prefix, *options)
            assert incremental.states(domain, prefix, *options) == expected, tracker.sender_id
            compared += 1
    assert compared > 500


def test_a_conversation_that_goes_back_is_rebuilt_from_its_first_event(domain, trackers):
    incremental = IncrementalStates()
    longest = max(trackers, key=lambda t: len(t.events))
    steps = prefixes(longest)
    for prefix in steps + steps[::-1]:  # grows, then rewinds turn by turn
        assert incremental.states(domain, prefix) == domain.states_for_tracker_history(prefix)


def test_the_last_state_can_be_edited_without_touching_the_next_answer(domain, trackers):
    """Rasa's featurizer drops the text or the intent from the last state's user input."""
    incremental = IncrementalStates()
    tracker = max(trackers, key=lambda t: len(t.events))
    first = incremental.states(domain, tracker, False, True, RULE_ONLY)
    for sub_state in first[-1].values():
        sub_state.clear()
    assert incremental.states(domain, tracker, False, True, RULE_ONLY) == domain.states_for_tracker_history(
        tracker, False, True, RULE_ONLY
    )
