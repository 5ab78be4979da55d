"""Signed button payloads (pure; no FastAPI).

The bot's buttons carry Rasa commands (`/choose_order{"order_id": "…"}`) that the gateway must
send as commands, while anything a shopper types never becomes one (handoff/gateway.py). So the
page never sees a payload: each button gets a token, `<payload, base64url>.<HMAC-SHA256>`, bound
to its conversation, and only a token that verifies is sent to Rasa as the command it carries.
A token from another conversation, an edited one or a made-up one is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any, Dict, List

DOMAIN = b"shouhou-button\x00"
MAX_TOKEN_CHARS = 2000


class InvalidButton(ValueError):
    """A button token that does not verify."""


def _mac(secret: str, conversation_id: str, payload: str) -> str:
    message = DOMAIN + conversation_id.encode() + b"\x00" + payload.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_button(secret: str, conversation_id: str, payload: str) -> str:
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{encoded}.{_mac(secret, conversation_id, payload)}"


def verify_button(secret: str, conversation_id: str, token: str) -> str:
    """The payload a valid token carries for this conversation; InvalidButton otherwise."""
    # Our tokens are ASCII (base64url and hex); anything else would make base64 and compare_digest raise.
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1 or not token.isascii():
        raise InvalidButton("malformed button token")
    encoded, mac = token.split(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise InvalidButton("malformed button token") from error
    if not hmac.compare_digest(mac, _mac(secret, conversation_id, payload)):
        raise InvalidButton("button token does not verify")
    return payload


def with_signed_buttons(secret: str, conversation_id: str, message: Dict[str, Any]) -> Dict[str, Any]:
    """A bot message as the page gets it: each button's payload replaced by its token."""
    buttons: List[Dict[str, Any]] = message.get("buttons") or []
    if not buttons:
        return message
    signed = [
        {"title": button.get("title", ""), "token": sign_button(secret, conversation_id, str(button.get("payload", "")))}
        for button in buttons
    ]
    return {**message, "buttons": signed}
