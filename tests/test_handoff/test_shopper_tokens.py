from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from handoff.shopper_tokens import (
    MESSAGE_EXPIRED,
    MESSAGE_INVALID,
    InvalidShopperToken,
    issue_guest_token,
    issue_shopper_token,
    verify_guest_token,
    verify_shopper_token,
    verify_subject,
)

SECRET = "test-shopper-token-secret-0123456789abcdef"
OTHER_SECRET = "someone-else-s-secret-0123456789abcdef"
ISSUED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
TTL = 3600


def refusal(token: str, now: datetime = ISSUED) -> InvalidShopperToken:
    with pytest.raises(InvalidShopperToken) as caught:
        verify_shopper_token(token, SECRET, now=now)
    return caught.value


def test_a_valid_token_gives_the_shopper_id() -> None:
    token = issue_shopper_token("shopper-42", SECRET, TTL, now=ISSUED)
    assert verify_shopper_token(token, SECRET, now=ISSUED + timedelta(minutes=5)) == "shopper-42"


def test_the_real_clock_is_used_when_no_time_is_given() -> None:
    token = issue_shopper_token("shopper-42", SECRET, TTL)
    assert verify_shopper_token(token, SECRET) == "shopper-42"


def test_the_token_carries_sub_iat_and_exp_signed_with_hs256() -> None:
    token = issue_shopper_token("shopper-42", SECRET, TTL, now=ISSUED)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {"sub": "shopper-42", "iat": int(ISSUED.timestamp()), "exp": int(ISSUED.timestamp()) + TTL}


def test_a_token_is_valid_until_the_second_before_exp_and_expired_at_exp() -> None:
    token = issue_shopper_token("shopper-42", SECRET, TTL, now=ISSUED)
    assert verify_shopper_token(token, SECRET, now=ISSUED + timedelta(seconds=TTL - 1)) == "shopper-42"
    error = refusal(token, now=ISSUED + timedelta(seconds=TTL))
    assert error.message_zh == MESSAGE_EXPIRED == "登录已过期，请重新打开聊天"
    assert error.code == "token_expired"
    assert "expired" in error.reason


def test_a_token_signed_with_another_secret_is_refused() -> None:
    error = refusal(issue_shopper_token("shopper-42", OTHER_SECRET, TTL, now=ISSUED))
    assert error.reason == "bad signature"
    assert error.message_zh == MESSAGE_INVALID
    assert error.code == "invalid_token"


def test_a_token_whose_claims_were_changed_is_refused() -> None:
    header, _, signature = issue_shopper_token("shopper-42", SECRET, TTL, now=ISSUED).split(".")
    claims = {"sub": "shopper-1", "iat": int(ISSUED.timestamp()), "exp": int(ISSUED.timestamp()) + TTL}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refusal(f"{header}.{payload}.{signature}").reason == "bad signature"


def test_alg_none_is_refused() -> None:
    claims = {"sub": "shopper-42", "iat": int(ISSUED.timestamp()), "exp": int(ISSUED.timestamp()) + TTL}
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert unsigned.endswith(".")
    assert refusal(unsigned).reason.startswith("wrong algorithm")


def test_another_hmac_algorithm_with_the_right_secret_is_refused() -> None:
    claims = {"sub": "shopper-42", "iat": int(ISSUED.timestamp()), "exp": int(ISSUED.timestamp()) + TTL}
    assert refusal(jwt.encode(claims, SECRET, algorithm="HS512")).reason.startswith("wrong algorithm")


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "Bearer x.y.z", "eyJhbGciOiJIUzI1NiJ9..."])
def test_malformed_tokens_are_refused(token: str) -> None:
    error = refusal(token)
    assert error.reason.startswith("malformed")
    assert error.message_zh == "身份校验失败，请重新打开聊天"


@pytest.mark.parametrize("missing", ["sub", "exp", "iat"])
def test_a_token_missing_a_required_claim_is_refused(missing: str) -> None:
    claims = {"sub": "shopper-42", "iat": int(ISSUED.timestamp()), "exp": int(ISSUED.timestamp()) + TTL}
    del claims[missing]
    assert refusal(jwt.encode(claims, SECRET, algorithm="HS256")).reason == f"missing {missing}"


def test_an_empty_subject_is_refused() -> None:
    claims = {"sub": "", "iat": int(ISSUED.timestamp()), "exp": int(ISSUED.timestamp()) + TTL}
    assert refusal(jwt.encode(claims, SECRET, algorithm="HS256")).reason.startswith("missing sub")


def test_a_non_integer_expiry_is_refused() -> None:
    claims = {"sub": "shopper-42", "iat": int(ISSUED.timestamp()), "exp": "tomorrow"}
    assert refusal(jwt.encode(claims, SECRET, algorithm="HS256")).reason.startswith("malformed")


def test_a_token_issued_in_the_future_is_refused() -> None:
    token = issue_shopper_token("shopper-42", SECRET, TTL, now=ISSUED + timedelta(hours=1))
    assert refusal(token, now=ISSUED).reason.startswith("issued in the future")


def test_a_guest_token_names_the_conversation() -> None:
    token = issue_guest_token("conv-7", SECRET, TTL, now=ISSUED)
    assert verify_subject(token, SECRET, now=ISSUED) == "guest:conv-7"
    assert verify_guest_token(token, SECRET, now=ISSUED) == "guest:conv-7"


def test_a_guest_token_is_not_a_shopper_token_and_the_other_way_round() -> None:
    guest = issue_guest_token("conv-7", SECRET, TTL, now=ISSUED)
    shopper = issue_shopper_token("shopper-42", SECRET, TTL, now=ISSUED)
    assert refusal(guest).reason.startswith("guest token")
    with pytest.raises(InvalidShopperToken):
        verify_guest_token(shopper, SECRET, now=ISSUED)


def test_a_guest_token_expires_like_a_shopper_token() -> None:
    token = issue_guest_token("conv-7", SECRET, TTL, now=ISSUED)
    with pytest.raises(InvalidShopperToken) as caught:
        verify_subject(token, SECRET, now=ISSUED + timedelta(seconds=TTL))
    assert caught.value.message_zh == MESSAGE_EXPIRED


@pytest.mark.parametrize("shopper_id", ["", "guest:conv-7"])
def test_a_shopper_token_cannot_be_issued_for_an_empty_or_guest_id(shopper_id: str) -> None:
    with pytest.raises(ValueError):
        issue_shopper_token(shopper_id, SECRET, TTL, now=ISSUED)


def test_a_naive_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        issue_shopper_token("shopper-42", SECRET, TTL, now=datetime(2025, 3, 1, 12, 0, 0))


def test_a_subject_that_is_not_a_string_is_refused() -> None:
    claims = {"sub": 42, "iat": int(ISSUED.timestamp()), "exp": int(ISSUED.timestamp()) + TTL}
    assert refusal(jwt.encode(claims, SECRET, algorithm="HS256")).reason.startswith("malformed")


@pytest.mark.parametrize("shopper_id", ["张三", "a b", "a?b", "a/b", "%41", ""])
def test_a_shopper_id_rasa_paths_cannot_address_is_refused(shopper_id):
    now = int(ISSUED.timestamp())
    token = jwt.encode({"sub": shopper_id, "iat": now, "exp": now + TTL}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidShopperToken):
        verify_shopper_token(token, SECRET, now=ISSUED)
    with pytest.raises(ValueError):
        issue_shopper_token(shopper_id, SECRET, TTL)
