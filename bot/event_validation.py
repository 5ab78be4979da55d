"""Rasa's validation of events and action server responses, compiled once, same verdicts.

Rasa 3.6 checks every action server response (`RemoteAction._validate_action_result`) and
every events body of its HTTP API (`rasa.server.validate_events_in_request_body`) with
`jsonschema.validate(instance, schema)`. That call checks the schema itself against the JSON
Schema meta-schema every time, and Rasa's event schema is a `oneOf` of 23 event kinds, so
each event is tried against all 23: 18 % of the Rasa server's CPU per shopper message
(py-spy during bench/conversation.py), the biggest single cost of a turn.

Here the schemas are checked once and each event is validated against the branch of its own
kind. A `oneOf` whose branches each require a different constant `event` is exactly that: an
event can match only the branch of its kind, so "exactly one branch matches" is "its kind's
branch matches". When the fast check finds a problem, Rasa's own function runs and raises
its own error, so a bad response or body is refused with the same message as before.
tests/test_bot/test_event_validation.py compares both verdicts on every event our actions
and the gateway send, and on generated and broken ones.

`install()` puts these in Rasa's place; bot/rasa_server.py calls it before Rasa starts.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Any, Callable, Dict, List, Text

import jsonschema
import rasa.server
from rasa.core.actions.action import RemoteAction
from rasa.shared.utils.schemas.events import EVENT_SCHEMA, EVENTS_SCHEMA

Check = Callable[[Any], bool]


@lru_cache(maxsize=1)
def event_checks() -> Dict[Text, List[Check]]:
    """Per event kind: the checks of the kind's `oneOf` branches (each with the common part)."""
    validator_class = jsonschema.validators.validator_for(EVENTS_SCHEMA)
    validator_class.check_schema(EVENTS_SCHEMA)  # once, instead of on every call
    common = {key: value for key, value in EVENT_SCHEMA.items() if key != "oneOf"}
    checks: Dict[Text, List[Check]] = defaultdict(list)
    for branch in EVENT_SCHEMA["oneOf"]:
        kind = branch["properties"]["event"]["const"]
        checks[kind].append(validator_class({"allOf": [common, branch]}).is_valid)
    return dict(checks)


def event_is_valid(event: Any) -> bool:
    """What `jsonschema.validate(event, EVENT_SCHEMA)` decides, without trying all 23 kinds."""
    kind = event.get("event") if isinstance(event, dict) else None
    checks = event_checks().get(kind) if isinstance(kind, str) else None
    return bool(checks) and sum(check(event) for check in checks) == 1


def events_are_valid(events: Any) -> bool:
    return isinstance(events, list) and all(event_is_valid(event) for event in events)


def action_result_is_valid(result: Any) -> bool:
    """What `jsonschema.validate(result, RemoteAction.action_response_format_spec())` decides."""
    if not isinstance(result, dict):
        return False
    if "events" in result and not events_are_valid(result["events"]):
        return False
    responses = result.get("responses", [])
    return isinstance(responses, list) and all(isinstance(response, dict) for response in responses)


def install() -> None:
    """Rasa's two validating functions, with the fast check in front of each."""
    rasa_validate_result = RemoteAction._validate_action_result
    rasa_validate_body = rasa.server.validate_events_in_request_body

    def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        return action_result_is_valid(result) or rasa_validate_result(self, result)

    def validate_events_in_request_body(request: Any) -> None:
        events = request.json if isinstance(request.json, list) else [request.json]
        if not events_are_valid(events):
            rasa_validate_body(request)  # raises Rasa's 400 with the schema's message

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    rasa.server.validate_events_in_request_body = validate_events_in_request_body
