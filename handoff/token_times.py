"""What our signed tokens (shopper tokens, agent sessions) share: the clock (whole unix seconds)
and the HS256 decoding that checks signature, algorithm and claim presence (times are checked by
each kind of token with that clock)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Optional, Sequence

import jwt

ALGORITHM = "HS256"


class TokenRefused(ValueError):
    """The token does not decode; `str()` is the English reason for the logs."""


def decode_hs256(token: str, secret: str, required_claims: Sequence[str]) -> dict:
    """The claims of a token signed with `secret` (only HS256, whatever the header says)."""
    options = {"require": list(required_claims), "verify_exp": False, "verify_iat": False, "verify_nbf": False}
    try:
        return jwt.decode(token, secret, algorithms=[ALGORITHM], options=options)
    except jwt.InvalidAlgorithmError as error:
        raise TokenRefused(f"wrong algorithm: {error}") from error
    except jwt.InvalidSignatureError as error:
        raise TokenRefused("bad signature") from error
    except jwt.MissingRequiredClaimError as error:
        raise TokenRefused(f"missing {error.claim}") from error
    except jwt.PyJWTError as error:
        raise TokenRefused(f"malformed token: {error}") from error


def unix_seconds(now: Optional[datetime] = None) -> int:
    """`now` (timezone-aware) or the current time, in whole unix seconds."""
    if now is None:
        return int(time.time())
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return int(now.timestamp())


def is_int_claim(value: object) -> bool:
    """A JWT time claim must be an integer (and JSON true is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)
