"""Rasa's rule and memoization policies, with the dialogue states of a conversation built once.

Every prediction, Rasa's MemoizationPolicy and RulePolicy (twice: with the text, then with
the intent) turn the whole conversation session into dialogue states again
(`Domain.states_for_tracker_history`), replaying every event from the first; a turn runs two
or three predictions. On a 50-turn conversation that was 15 % of the Rasa server's CPU and
most of why turn 50 cost 1.7× turn 5 (py-spy, bench/conversation.py).

The states of a conversation's past never change when events are appended, so
`IncrementalStates` keeps, per conversation, the replayed tracker and the states built so
far, and on the next call replays only the new events. Its step is Rasa 3.6's
`states_for_tracker_history` loop body, unchanged. It resumes only when the conversation's
applied events begin with exactly the event objects it already replayed (the tracker store
hands out the same objects turn after turn: bot/tracker_store.py); anything else (a rewind,
a reverted turn, a tracker from elsewhere) is built from the first event, as Rasa does.
tests/test_bot/test_policies.py checks the result against Rasa's own on every test story.

Configured in config.yml in place of `MemoizationPolicy` and `RulePolicy`.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Hashable, List, Optional, Text, Tuple

from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer, TrackerFeaturizer
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core import constants
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot import fingerprint
from bot.applied_events import loop_names, only_adds

CONVERSATIONS_KEPT = 2000


@dataclass
class Progress:
    """Rasa's `states_for_tracker_history` loop, paused after `events`."""

    replay: DialogueStateTracker  # the prior tracker after `events`
    events: List[Event] = field(default_factory=list)  # the applied events replayed so far
    seen: int = 0  # how many of the conversation's events (applied or not) `events` reflects
    last_seen: Optional[Event] = None
    loop_names: frozenset = frozenset()
    states: List[State] = field(default_factory=list)
    last_ml_action_sub_state: Optional[SubState] = None
    turn_was_hidden: bool = False


def begins_with(events: List[Event], prefix: List[Event]) -> bool:
    return len(events) >= len(prefix) and all(a is b for a, b in zip(events, prefix, strict=False))


class IncrementalStates:
    """`Domain.states_for_tracker_history`, resumed where the last call for the conversation
    stopped."""

    def __init__(self, conversations_kept: int = CONVERSATIONS_KEPT) -> None:
        self.progress: "OrderedDict[Hashable, Progress]" = OrderedDict()
        self.conversations_kept = conversations_kept

    def states(
        self,
        domain: Domain,
        tracker: DialogueStateTracker,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        options = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        key = (
            tracker.sender_id,
            tracker.is_rule_tracker,
            id(domain),
            omit_unset_slots,
            ignore_rule_only_turns,
            json.dumps(rule_only_data, sort_keys=True, default=str),
        )
        progress = self.progress.get(key)
        events = list(tracker.events)
        applied = applied_events(tracker, events, progress)
        loops = progress.loop_names | loop_names(events[progress.seen :]) if continues(events, progress) else loop_names(events)
        if progress is None or not begins_with(applied, progress.events):
            progress = Progress(replay=tracker.init_copy())
        for event in applied[len(progress.events) :]:
            if isinstance(event, ActionExecuted):
                self._advance(domain, progress, event.hide_rule_turn, options)
            progress.replay.update(event)
        progress.events = applied
        progress.seen, progress.last_seen = len(events), events[-1] if events else None
        progress.loop_names = loops
        self._remember(key, progress)
        # The current tracker is the last prior tracker; its step is not kept, since the
        # next event decides whether its turn is hidden.
        current, _, _ = step(domain, progress, False, options)
        states = progress.states + ([current] if current is not None else [])
        # Rasa edits the last state it gets (drops the last user input's text or intent), and
        # that state may share its user part with the one before: the last one is a copy.
        return states[:-1] + [copy_state(states[-1])] if states else []

    def _advance(self, domain: Domain, progress: Progress, hide_rule_turn: bool, options: Tuple) -> None:
        state, progress.last_ml_action_sub_state, progress.turn_was_hidden = step(
            domain, progress, hide_rule_turn, options
        )
        if state is not None:
            progress.states.append(state)

    def _remember(self, key: Hashable, progress: Progress) -> None:
        self.progress[key] = progress
        self.progress.move_to_end(key)
        while len(self.progress) > self.conversations_kept:
            self.progress.popitem(last=False)


def continues(events: List[Event], progress: Optional[Progress]) -> bool:
    """The conversation is the one `progress` saw, with events appended (the event objects
    are the same ones turn after turn: bot/tracker_store.py)."""
    return progress is not None and 0 < progress.seen <= len(events) and events[progress.seen - 1] is progress.last_seen


def applied_events(tracker: DialogueStateTracker, events: List[Event], progress: Optional[Progress]) -> List[Event]:
    """`tracker.applied_events()`, without walking the whole conversation again when the events
    since the last call only add to it: none undoes earlier ones (a restart, a new session,
    a reverted action or utterance), none is a loop's action (Rasa may then drop that loop's
    earlier turns) and no new loop appears."""
    if continues(events, progress):
        new = events[progress.seen :]  # type: ignore[union-attr]
        if only_adds(new, progress.loop_names):
            return progress.events + new
    return tracker.applied_events()


def step(
    domain: Domain, progress: Progress, hide_rule_turn: bool, options: Tuple
) -> Tuple[Optional[State], Optional[SubState], bool]:
    """One pass of the loop in Rasa 3.6's `Domain.states_for_tracker_history`, for the prior
    tracker `progress.replay`: (its state or None when hidden, last ML action, turn hidden)."""
    omit_unset_slots, ignore_rule_only_turns, rule_only_data = options
    tr, states = progress.replay, progress.states
    last_ml_action_sub_state, turn_was_hidden = progress.last_ml_action_sub_state, progress.turn_was_hidden
    if ignore_rule_only_turns:
        if not turn_was_hidden:
            last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
        if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
            turn_was_hidden = hide_rule_turn
        if turn_was_hidden:
            return None, last_ml_action_sub_state, turn_was_hidden
    state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if states:
            domain._substitute_rule_only_user_input(state, states[-1])
        if last_ml_action_sub_state:
            state[constants.PREVIOUS_ACTION] = last_ml_action_sub_state
    return domain._clean_state(state), last_ml_action_sub_state, turn_was_hidden


def copy_state(state: State) -> State:
    return {name: dict(sub_state) for name, sub_state in state.items()}


@TrackerFeaturizer.register("IncrementalMaxHistoryTrackerFeaturizer")
class IncrementalMaxHistoryTrackerFeaturizer(MaxHistoryTrackerFeaturizer):
    """Rasa's MaxHistoryTrackerFeaturizer, with states built incrementally."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.incremental = IncrementalStates()

    def _create_states(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        return self.incremental.states(domain, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)


def own_code_fingerprint() -> str:
    """The memorised turns are built with this module's states: retrain when it changes."""
    return fingerprint.digest_paths([fingerprint.module_path(__name__)])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class ShouhouMemoizationPolicy(MemoizationPolicy):
    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return own_code_fingerprint()

    def _standard_featurizer(self) -> MaxHistoryTrackerFeaturizer:
        return IncrementalMaxHistoryTrackerFeaturizer(state_featurizer=None, max_history=self.config["max_history"])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class ShouhouRulePolicy(RulePolicy):
    """Also looks at only as many of the latest states as its longest rule has: Rasa matches a
    rule against the conversation from the end and stops caring past the rule's length, but
    walks (and JSON-parses every surviving rule for) every state of the session."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return own_code_fingerprint()

    def _prediction_states(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        states = super()._prediction_states(tracker, domain, use_text_for_last_user_input, rule_only_data)
        return states[-self.longest_rule() :]

    def longest_rule(self) -> int:
        """States in the longest learned rule (happy or unhappy loop path), at least 1."""
        lookups = [self.lookup.get(RULES, {}), self.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})]
        version = tuple((id(lookup), len(lookup)) for lookup in lookups)
        if getattr(self, "_longest_rule", (None, 0))[0] != version:
            longest = max((len(self._rule_key_to_state(key)) for lookup in lookups for key in lookup), default=1)
            self._longest_rule = (version, max(longest, 1))
        return self._longest_rule[1]

    def _standard_featurizer(self) -> MaxHistoryTrackerFeaturizer:
        return IncrementalMaxHistoryTrackerFeaturizer(state_featurizer=None, max_history=self.config["max_history"])
