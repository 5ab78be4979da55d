"""Build rasa-sdk trackers the way Rasa sends them to the action server (rasa-sdk's own test style)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker


def user_message(
    text: str,
    intent: Optional[str] = None,
    entities: Optional[Dict[str, str]] = None,
    metadata: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """The parse data of one shopper message (as Rasa's NLU would have produced it)."""
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 0.95} if intent else {},
        "entities": [{"entity": name, "value": value} for name, value in (entities or {}).items()],
        "metadata": metadata or {},
    }


def make_tracker(
    text: str = "",
    intent: Optional[str] = None,
    entities: Optional[Dict[str, str]] = None,
    slots: Optional[Dict[str, Any]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    sender_id: str = "shopper-test",
    active_loop: Optional[str] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    new_slots: Optional[Dict[str, Any]] = None,
) -> Tracker:
    """`slots` were set before this message; `new_slots` by it (Rasa's action_extract_slots
    records them as events after the user event, which is what forms validate)."""
    latest = user_message(text, intent, entities, metadata)
    user_event = {"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}}
    slot_events = [{"event": "slot", "name": name, "value": value} for name, value in (new_slots or {}).items()]
    return Tracker(
        sender_id,
        {**(slots or {}), **(new_slots or {})},
        latest,
        (events or []) + [user_event] + slot_events,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )
