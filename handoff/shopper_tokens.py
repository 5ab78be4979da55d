"""Signed identity tokens of the chat: who is talking (pure; no FastAPI, imported by the action server too).

A shopper token is what the store's app hands the chat page: a JWT signed with HS256
and the shared secret, claims `sub` (the shopper id), `iat` and `exp`. A guest (the
chat page opened without one) gets a token we issue ourselves, with subject
"guest:<conversation_id>", so that what a guest uploads is theirs alone.

Verification never trusts the token's header: only HS256 is accepted ("none" and
every other algorithm are refused), and `exp` is checked against an injectable clock:
a token is expired from its `exp` second on.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

import jwt

from handoff.token_times import ALGORITHM, TokenRefused, decode_hs256, is_int_claim, unix_seconds

GUEST_PREFIX = "guest:"
# A shopper id is a conversation id in Rasa's URL paths (/conversations/<id>/tracker), which
# Rasa does not percent-decode: ids outside this set would address another tracker than the
# one the chat writes, so they are refused (the store's app keeps its ids in it).
SUBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}")
REQUIRED_CLAIMS = ("sub", "iat", "exp")
# Clocks of the store's app server and ours may differ a little.
ALLOWED_CLOCK_SKEW_SECONDS = 60

MESSAGE_EXPIRED = "登录已过期，请重新打开聊天"
MESSAGE_INVALID = "身份校验失败，请重新打开聊天"
MESSAGE_NOT_A_SHOPPER = "请先登录后再查看订单"
GUEST_CODE = "guest_token"  # a valid guest's token where a shopper's is required
MESSAGE_NOT_A_GUEST = "身份校验失败，请刷新页面后重试"


class InvalidShopperToken(Exception):
    """A token was refused: `message_zh` is for the shopper, `reason` (English) for the logs,
    `code` for programs ("token_expired" or "invalid_token")."""

    def __init__(self, reason: str, message_zh: str = MESSAGE_INVALID, code: str = "invalid_token") -> None:
        super().__init__(reason)
        self.reason = reason
        self.message_zh = message_zh
        self.code = code


def issue_shopper_token(shopper_id: str, secret: str, ttl_seconds: int, now: Optional[datetime] = None) -> str:
    if not shopper_id or shopper_id.startswith(GUEST_PREFIX) or not SUBJECT.fullmatch(shopper_id):
        raise ValueError(f"not a shopper id: {shopper_id!r}")
    return _issue(shopper_id, secret, ttl_seconds, now)


def issue_guest_token(conversation_id: str, secret: str, ttl_seconds: int, now: Optional[datetime] = None) -> str:
    if not conversation_id:
        raise ValueError("a guest token needs the conversation id")
    return _issue(GUEST_PREFIX + conversation_id, secret, ttl_seconds, now)


def verify_subject(token: str, secret: str, now: Optional[datetime] = None) -> str:
    """The subject of a valid shopper or guest token ("guest:<conversation_id>" for guests)."""
    claims = _decode(token, secret)
    _check_times(claims, unix_seconds(now))
    return claims["sub"]


def verify_shopper_token(token: str, secret: str, now: Optional[datetime] = None) -> str:
    """The shopper id of a valid shopper token; guest tokens are refused."""
    subject = verify_subject(token, secret, now)
    if is_guest(subject):
        raise InvalidShopperToken("guest token where a shopper token is required", MESSAGE_NOT_A_SHOPPER, code=GUEST_CODE)
    return subject


def verify_guest_token(token: str, secret: str, now: Optional[datetime] = None) -> str:
    """The subject ("guest:<conversation_id>") of a valid guest token; shopper tokens are refused."""
    subject = verify_subject(token, secret, now)
    if not is_guest(subject):
        raise InvalidShopperToken("shopper token where a guest token is required", MESSAGE_NOT_A_GUEST)
    return subject


def is_guest(subject: str) -> bool:
    return subject.startswith(GUEST_PREFIX)


def _issue(subject: str, secret: str, ttl_seconds: int, now: Optional[datetime]) -> str:
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued_at = unix_seconds(now)
    claims = {"sub": subject, "iat": issued_at, "exp": issued_at + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _decode(token: str, secret: str) -> dict:
    """Signature, algorithm and claim presence; times are checked by _check_times with our clock."""
    try:
        claims = decode_hs256(token, secret, REQUIRED_CLAIMS)
    except TokenRefused as error:
        raise InvalidShopperToken(str(error)) from error
    if "typ" in claims:  # an agent's console session (handoff/agent_sessions.py) is never a shopper
        raise InvalidShopperToken(f"a {claims['typ']} token is not a shopper token")
    return claims


def _check_times(claims: dict, now: int) -> None:
    subject, issued_at, expires_at = claims["sub"], claims["iat"], claims["exp"]
    if not isinstance(subject, str) or not subject:
        raise InvalidShopperToken("missing sub: empty subject")
    if not SUBJECT.fullmatch(subject):
        raise InvalidShopperToken(f"subject {subject!r} outside {SUBJECT.pattern}")
    if not is_int_claim(issued_at) or not is_int_claim(expires_at):
        raise InvalidShopperToken("malformed token: iat and exp must be integers")
    if now >= expires_at:
        raise InvalidShopperToken(f"expired at {expires_at}, now {now}", MESSAGE_EXPIRED, "token_expired")
    if issued_at > now + ALLOWED_CLOCK_SKEW_SECONDS:
        raise InvalidShopperToken(f"issued in the future: iat {issued_at}, now {now}")


