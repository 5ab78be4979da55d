"""Signed sessions of the agents' console (pure; no FastAPI, no Redis).

A session is a JWT signed with HS256 and AGENT_SESSION_SECRET, claims `sub` (the agent id),
`role`, `name` (display name), `iat`, `exp` and `typ` = "agent_session". The type claim keeps a
shopper token (which has none) from ever passing as a session; the secret, which settings require
to differ from SHOPPER_TOKEN_SECRET, keeps a session from passing as a shopper token.

Like handoff/shopper_tokens.py: only HS256 is accepted whatever the header says, and `exp` is
checked against an injectable clock (a session is expired from its `exp` second on). Whoever
relies on a session must still load the agent: the claims say who signed in, not who still may.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

import jwt

from handoff.agents import Agent, Role, is_agent_id
from handoff.token_times import ALGORITHM, TokenRefused, decode_hs256, is_int_claim, unix_seconds

SESSION_TYPE = "agent_session"
# The type first, so that a token of another kind is refused as such.
REQUIRED_CLAIMS = ("typ", "sub", "role", "name", "iat", "exp")
ALLOWED_CLOCK_SKEW_SECONDS = 60

MESSAGE_LOGIN_REQUIRED = "请先登录客服工作台"
MESSAGE_EXPIRED = "登录已过期，请重新登录"
MESSAGE_INVALID = "登录状态无效，请重新登录"


class InvalidSession(Exception):
    """A refused session: `code` for programs, `message_zh` for the agent, `reason` (English) for the logs."""

    def __init__(self, code: str, message_zh: str, reason: str = "") -> None:
        super().__init__(reason or code)
        self.code = code
        self.message_zh = message_zh
        self.reason = reason or code


@dataclass(frozen=True)
class SessionClaims:
    agent_id: str
    role: Role
    display_name: str
    issued_at: int
    expires_at: int


def issue_session(agent: Agent, secret: str, ttl_seconds: int, now: Optional[datetime] = None) -> str:
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued_at = unix_seconds(now)
    claims = {
        "sub": agent.agent_id,
        "role": agent.role.value,
        "name": agent.display_name,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "typ": SESSION_TYPE,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_session(token: str, secret: str, now: Optional[datetime] = None) -> SessionClaims:
    """The claims of a valid session; InvalidSession if it is expired, forged or not a session."""
    if not token:
        raise InvalidSession("not_authenticated", MESSAGE_LOGIN_REQUIRED, "no session")
    claims = _decode(token, secret)
    _check_type(claims)
    session = _session_claims(claims)
    _check_times(session, unix_seconds(now))
    return session


def _decode(token: str, secret: str) -> dict:
    """Signature, algorithm and claim presence; times are checked by _check_times with our clock."""
    try:
        return decode_hs256(token, secret, REQUIRED_CLAIMS)
    except TokenRefused as error:
        raise _invalid(str(error)) from error


def _check_type(claims: dict) -> None:
    if claims["typ"] != SESSION_TYPE:
        raise _invalid(f"not an agent session: typ {claims['typ']!r}")


def _session_claims(claims: dict) -> SessionClaims:
    agent_id, role, name, issued_at, expires_at = (claims[name] for name in ("sub", "role", "name", "iat", "exp"))
    if not is_agent_id(agent_id) or not isinstance(name, str) or role not in {r.value for r in Role}:
        raise _invalid("malformed token: sub, role or name")
    if not is_int_claim(issued_at) or not is_int_claim(expires_at):
        raise _invalid("malformed token: iat and exp must be integers")
    return SessionClaims(agent_id, Role(role), name, issued_at, expires_at)


def _check_times(session: SessionClaims, now: int) -> None:
    if now >= session.expires_at:
        raise InvalidSession("session_expired", MESSAGE_EXPIRED, f"expired at {session.expires_at}, now {now}")
    if session.issued_at > now + ALLOWED_CLOCK_SKEW_SECONDS:
        raise _invalid(f"issued in the future: iat {session.issued_at}, now {now}")


def _invalid(reason: str) -> InvalidSession:
    return InvalidSession("invalid_session", MESSAGE_INVALID, reason)


