"""What the actions read from a Rasa tracker: the latest message, its metadata, who is talking.

Identity: the store's app sends a signed shopper token in the message metadata
(`{"shopper_token": "<JWT>"}`); we verify it ourselves, so a metadata field saying
"I am u1001" is never believed. Without a valid token the shopper is a guest, known
by the conversation id, and proves an order is theirs with the phone number on it.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker

from actions.settings import get_settings
from handoff.shopper_tokens import GUEST_PREFIX, InvalidShopperToken, verify_shopper_token

logger = logging.getLogger(__name__)

TOKEN_KEY = "shopper_token"
PHOTO_IDS_KEY = "photo_ids"


def latest_metadata(tracker: Tracker) -> Dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def session_metadata(tracker: Tracker) -> Dict[str, Any]:
    metadata = tracker.get_slot("session_started_metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def latest_intent(tracker: Tracker) -> Optional[str]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_message_anger(tracker: Tracker) -> Tuple[float, bool]:
    """The anger score and verdict bot/anger.py put on the latest message ((0.0, False) if none)."""
    anger = (tracker.latest_message or {}).get("anger") or {}
    try:
        return float(anger.get("score") or 0.0), bool(anger.get("angry"))
    except (TypeError, ValueError):
        return 0.0, False


def latest_entity(tracker: Tracker, entity: str) -> Optional[str]:
    value = next(tracker.get_latest_entity_values(entity), None)
    return str(value) if value is not None else None


def token_from(tracker: Tracker) -> Optional[str]:
    """The shopper token of the latest message, else of the session start."""
    for metadata in (latest_metadata(tracker), session_metadata(tracker)):
        token = metadata.get(TOKEN_KEY)
        if isinstance(token, str) and token:
            return token
    return None


def check_shopper_token(tracker: Tracker) -> Optional[str]:
    """The shopper id of the metadata's token; None without one; InvalidShopperToken when it is bad."""
    token = token_from(tracker)
    if token is None:
        return None
    return verify_shopper_token(token, get_settings().shopper_token_secret.get_secret_value())


def verified_shopper_id(tracker: Tracker) -> Optional[str]:
    """The shopper id from a valid token in the metadata; None for guests.

    An invalid or expired token counts as no token: the shopper is treated as a guest
    (and is told so by the session start), never as the id the token claims.
    """
    try:
        return check_shopper_token(tracker)
    except InvalidShopperToken as error:
        logger.info("shopper token refused for %s: %s", tracker.sender_id, error)
        return None


def shopper_id(tracker: Tracker) -> Optional[str]:
    """The identified shopper: the slot set at session start, or a token that came later."""
    return tracker.get_slot("shopper_id") or verified_shopper_id(tracker)


def photo_owner(tracker: Tracker) -> str:
    """The owner the photo store recorded for this shopper's uploads: the signed-in shopper, or the
    guest of this conversation ("guest:<conversation>"; behind the gateway a guest's conversation
    id is that already)."""
    shopper = shopper_id(tracker)
    if shopper:
        return shopper
    sender = tracker.sender_id or ""
    return sender if sender.startswith(GUEST_PREFIX) else f"{GUEST_PREFIX}{sender}"


def photo_ids_from_metadata(tracker: Tracker) -> Optional[List[str]]:
    ids = latest_metadata(tracker).get(PHOTO_IDS_KEY)
    if ids is None:
        return None
    if not isinstance(ids, list):
        return [str(ids)]
    return [str(photo_id) for photo_id in ids]
