"""The compiled event checks give jsonschema's verdict on Rasa's schemas, and Rasa's own error
when they refuse."""

from __future__ import annotations

import copy
from typing import Any, Dict, List

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AgentUttered,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    FollowupAction,
    LoopInterrupted,
    ReminderCancelled,
    ReminderScheduled,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.utils.schemas.events import EVENT_SCHEMA, EVENTS_SCHEMA

from bot import event_validation
from bot.event_validation import action_result_is_valid, event_is_valid, events_are_valid

RESPONSE_SCHEMA = RemoteAction.action_response_format_spec()


def rasa_says_valid(instance: Any, schema: Dict) -> bool:
    try:
        jsonschema.validate(instance, schema)
        return True
    except jsonschema.ValidationError:
        return False


def sample_events() -> List[Dict[str, Any]]:
    """One event of every kind our bot and the gateway write, as Rasa serialises them."""
    from datetime import datetime

    events = [
        UserUttered("奶粉结块了想退款", {"name": "return_request", "confidence": 0.93},
                    [{"entity": "product", "value": "奶粉", "start": 0, "end": 2}],
                    parse_data={"intent_ranking": [{"name": "return_request", "confidence": 0.93}]},
                    input_channel="rest", message_id="m1", metadata={"photo_ids": ["p1"]}),
        ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0),
        SlotSet("order_id", "SH20261101001"),
        SlotSet("photo_ids", ["a", "b"]),
        BotUttered("亲，非常抱歉给您添麻烦了", {"buttons": [{"title": "是", "payload": "/affirm"}]}, {"utter_action": "utter_x"}),
        ActiveLoop("after_sales_form"),
        ActiveLoop(None),
        LoopInterrupted(True),
        FollowupAction("action_listen"),
        SessionStarted(),
        Restarted(),
        AllSlotsReset(),
        ConversationPaused(),
        ConversationResumed(),
        UserUtteranceReverted(),
        ActionReverted(),
        ActionExecutionRejected("validate_after_sales_form"),
        AgentUttered("人工客服小演为您服务"),
        ReminderScheduled("EXTERNAL_remind", datetime(2026, 11, 30, 12, 0), name="r1"),
        ReminderCancelled(name="r1"),
    ]
    return [event.as_dict() for event in events]


def broken_variants(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Each field set to a wrong type, dropped, and the kind changed."""
    variants = []
    for key in event:
        for wrong in (None, 3, "x", [], {}, True):
            changed = dict(event)
            changed[key] = wrong
            variants.append(changed)
        dropped = {k: v for k, v in event.items() if k != key}
        variants.append(dropped)
    for kind in ("user", "bot", "slot", "nonsense", "", "USER"):
        variants.append({**event, "event": kind})
    return variants


@pytest.mark.parametrize("event", sample_events(), ids=lambda e: e["event"])
def test_every_kind_of_event_gets_the_schemas_verdict(event):
    assert rasa_says_valid(event, EVENT_SCHEMA)  # the samples are good events
    assert event_is_valid(event)
    for variant in broken_variants(event):
        assert event_is_valid(variant) == rasa_says_valid(variant, EVENT_SCHEMA), variant


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(sample_events()), changes=st.dictionaries(
    st.sampled_from(["event", "timestamp", "metadata", "text", "name", "value", "parse_data", "policy",
                     "confidence", "data", "input_channel", "message_id", "trigger_date_time", "entities"]),
    json_values, max_size=3))
def test_generated_events_get_the_schemas_verdict(base, changes):
    event = {**copy.deepcopy(base), **changes}
    assert event_is_valid(event) == rasa_says_valid(event, EVENT_SCHEMA)


@settings(max_examples=300, deadline=None)
@given(result=st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional={"events": st.one_of(json_values, st.lists(st.sampled_from(sample_events()), max_size=3)),
                                        "responses": st.one_of(json_values, st.lists(st.dictionaries(st.text(max_size=3), json_values, max_size=2), max_size=3))}),
))
def test_action_results_get_the_schemas_verdict(result):
    assert action_result_is_valid(result) == rasa_says_valid(result, RESPONSE_SCHEMA)


def test_lists_of_events_get_the_schemas_verdict():
    good = sample_events()
    assert events_are_valid(good) and rasa_says_valid(good, EVENTS_SCHEMA)
    for bad in ([*good, {"event": "nonsense"}], {"event": "user"}, [None], "[]"):
        assert not events_are_valid(bad) and not rasa_says_valid(bad, EVENTS_SCHEMA)


def test_installed_rasa_still_refuses_a_bad_action_response_with_its_own_message(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    import rasa.server

    monkeypatch.setattr(rasa.server, "validate_events_in_request_body", rasa.server.validate_events_in_request_body)
    event_validation.install()
    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": sample_events(), "responses": [{"text": "好的"}]}) is True
    with pytest.raises(jsonschema.ValidationError) as refused:
        action._validate_action_result({"events": [{"event": "slot", "name": 3}]})
    assert "Failed to validate Action server response from API" in refused.value.message
