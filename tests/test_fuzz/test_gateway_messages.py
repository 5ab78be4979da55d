"""POST /api/chat/messages in-process, with everything a broken or hostile page can send: wrong
types, huge texts, blank texts, forged button tokens, bad client ids, bad photo ids, no or bad
tokens. Each such request is refused before Rasa with a 4xx in the project's shape and the code
that names its fault. Messages that would reach Rasa go through a real one in test_live_stack.py;
here (Rasa down) they get a clear 503, never a 500."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, FrozenSet, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handoff.buttons import sign_button
from handoff.settings import DEV_SERVICE_TOKEN
from handoff.shopper_tokens import issue_shopper_token
from tests.test_fuzz.budget import fuzz_settings
from tests.test_fuzz.checks import assert_clear_refusal, error_of
from tests.test_fuzz.texts import any_char, shopper_text
from tests.test_handoff.conftest import SHOPPER_TOKEN_SECRET, sign_in

pytestmark = pytest.mark.fuzz

URL = "/api/chat/messages"
BAD_REQUEST = frozenset({"bad_request"})
Token = Callable[[str], str]  # subject -> what goes after "Bearer " (or a whole header value)

json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(any_char, max_size=20))
any_json = st.recursive(json_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                        max_leaves=12)
not_a_string = st.one_of(st.none(), st.lists(json_scalar, max_size=3), st.dictionaries(st.text(max_size=5), json_scalar, max_size=3))
client_id = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
blank = st.text(st.characters(codec=None, exclude_categories=()).filter(str.isspace), max_size=30)


@dataclass(frozen=True)
class Case:
    """One request and the refusal it must get."""

    body: Any  # JSON-able, or bytes sent as they are
    codes: FrozenSet[str]
    statuses: FrozenSet[int] = frozenset({422})
    button: Optional[Callable[[str], str]] = None  # made per conversation: subject -> token
    authorization: Optional[Callable[[str], Optional[str]]] = None  # subject -> header (None: no header)


@st.composite
def message(draw) -> Dict[str, Any]:
    """A message that would reach Rasa: non-blank text, up to nine photo ids of any kind, maybe a client id."""
    body: Dict[str, Any] = {"text": draw(shopper_text().filter(str.strip))}
    if draw(st.booleans()):
        body["photo_ids"] = draw(st.lists(st.text(any_char, max_size=40), max_size=9))
    if draw(st.booleans()):
        body["client_id"] = draw(client_id)
    return body


def changed(**fields: Any) -> Callable[[Dict[str, Any]], Dict[str, Any]]:
    return lambda body: {**body, **fields}


def forged_buttons() -> st.SearchStrategy[Callable[[str], str]]:
    """Tokens that must not verify for the shopper's conversation."""
    payload = st.sampled_from(["/request_human", '/choose_order{"order_id": "2024061500000001"}', "/affirm", "退款"])
    mac = st.text("0123456789abcdef", min_size=64, max_size=64)
    encoded = payload.map(lambda p: base64.urlsafe_b64encode(p.encode()).decode().rstrip("="))
    return st.one_of(
        st.text(st.characters(codec="ascii"), min_size=1, max_size=120).map(lambda t: lambda _s: t),
        st.text(any_char, min_size=1, max_size=60).map(lambda t: lambda _s: t),
        st.tuples(st.text(any_char, max_size=30), st.text(any_char, max_size=70)).map(lambda p: lambda _s: f"{p[0]}.{p[1]}"),
        st.tuples(encoded, mac).map(lambda p: lambda _s: f"{p[0]}.{p[1]}"),
        payload.map(lambda p: lambda _s: sign_button(SHOPPER_TOKEN_SECRET, "someone-else", p)),
        payload.map(lambda p: lambda s: sign_button("not-the-secret-0123456789abcdef", s, p)),
        # A real signature over one payload, sent with another payload.
        st.tuples(payload, payload).filter(lambda p: p[0] != p[1]).map(
            lambda p: lambda s: encoded_of(p[1]) + "." + sign_button(SHOPPER_TOKEN_SECRET, s, p[0]).split(".")[1]
        ),
    )


def encoded_of(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def body_defects(body: Dict[str, Any]) -> st.SearchStrategy[Case]:
    """`body` with exactly one fault, and the codes that name it."""
    without_text = {key: value for key, value in body.items() if key != "text"}
    return st.one_of(
        st.just(Case(without_text, BAD_REQUEST)),
        not_a_string.map(lambda v: Case(changed(text=v)(body), BAD_REQUEST)),
        st.integers(2001, 6000).map(lambda n: Case(changed(text="退" * n)(body), BAD_REQUEST)),
        blank.map(lambda v: Case(changed(text=v)(body), frozenset({"empty_message"}))),
        st.lists(st.text(max_size=22), min_size=10, max_size=40).map(lambda v: Case(changed(photo_ids=v)(body), BAD_REQUEST)),
        st.one_of(st.text(max_size=5), st.dictionaries(st.text(max_size=3), json_scalar, max_size=2),
                  st.integers(), st.none(), st.lists(not_a_string, min_size=1, max_size=3)).map(
            lambda v: Case(changed(photo_ids=v)(body), BAD_REQUEST)),
        st.text(any_char, min_size=65, max_size=200).map(lambda v: Case(changed(client_id=v)(body), BAD_REQUEST)),
        st.text(any_char, max_size=64).filter(lambda v: not v or any(not (c.isalnum() or c in "-_") for c in v)).map(
            lambda v: Case(changed(client_id=v)(body), frozenset({"bad_client_id"}))),
        not_a_string.filter(lambda v: v is not None).map(lambda v: Case(changed(client_id=v)(body), BAD_REQUEST)),
        forged_buttons().map(lambda make: Case(body, frozenset({"invalid_button"}), button=make)),
        st.integers(2001, 5000).map(lambda n: Case(changed(button="a" * n)(body), BAD_REQUEST)),
        not_a_string.filter(lambda v: v is not None).map(lambda v: Case(changed(button=v)(body), BAD_REQUEST)),
    )


def broken_bodies() -> st.SearchStrategy[Case]:
    invalid_json = st.binary(max_size=200).filter(lambda raw: not parses(raw))
    not_an_object = any_json.filter(lambda value: not isinstance(value, dict))
    return st.one_of(
        invalid_json.map(lambda raw: Case(raw, BAD_REQUEST, statuses=frozenset({400, 422}))),  # 400: not UTF-8
        not_an_object.map(lambda value: Case(value, BAD_REQUEST)),
        st.dictionaries(st.text(max_size=10).filter(lambda k: k != "text"), any_json, max_size=5).map(
            lambda value: Case(value, BAD_REQUEST)),
    )


def parses(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def expired(subject: str) -> str:
    long_ago = datetime.now(timezone.utc) - timedelta(days=2)
    return "Bearer " + issue_shopper_token(subject, SHOPPER_TOKEN_SECRET, ttl_seconds=60, now=long_ago)


def auth_defects(body: Dict[str, Any]) -> st.SearchStrategy[Case]:
    garbage = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=300)
    headers = st.one_of(
        st.just(lambda _s: None).map(lambda make: (make, "not_authenticated")),
        garbage.map(lambda g: (lambda _s: f"Bearer {g}", "invalid_token")),
        garbage.map(lambda g: (lambda _s: f"Basic {g}", "not_authenticated")),
        st.just((expired, "token_expired")),
        st.just((lambda s: "Bearer " + issue_shopper_token(s, "wrong-secret-0123456789abcdef0123", 600), "invalid_token")),
        st.just((lambda _s: f"Bearer {DEV_SERVICE_TOKEN}", "invalid_token")),
    )
    return headers.map(lambda pair: Case(body, frozenset({pair[1]}), statuses=frozenset({401}), authorization=pair[0]))


def refused_cases() -> st.SearchStrategy[Case]:
    return st.one_of(message().flatmap(body_defects), broken_bodies(), message().flatmap(auth_defects))


def post(client, case: Case, subject: str, authorization: Optional[str]):
    body = case.body
    if case.button is not None:
        body = {**body, "button": case.button(subject)}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()  # \ud800 stays an escape
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return client.post(URL, content=content, headers=headers)


def shopper_header(subject: str) -> str:
    return "Bearer " + issue_shopper_token(subject, SHOPPER_TOKEN_SECRET, ttl_seconds=600)


@given(case=refused_cases())
@fuzz_settings(1500)
def test_a_faulty_message_is_refused_before_rasa_with_a_clear_error(console_client, cases, case):
    cases.tick()
    subject = f"fuzz-{uuid.uuid4().hex[:12]}"  # a new shopper each time: the rate limit stays out of the way
    authorization = case.authorization(subject) if case.authorization else shopper_header(subject)
    response = post(console_client, case, subject, authorization)
    detail = assert_clear_refusal(response, case.codes)
    assert response.status_code in case.statuses, detail


@given(body=message())
@fuzz_settings(300)
def test_with_rasa_down_a_message_gets_a_clear_503(console_client, cases, body):
    cases.tick()
    subject = f"fuzz-{uuid.uuid4().hex[:12]}"
    response = post(console_client, Case(body, frozenset()), subject, shopper_header(subject))
    if has_lone_surrogate(body):  # not Unicode: it can go neither to Rasa nor into Redis
        assert_clear_refusal(response, {"unreadable_text"})
    else:
        assert response.status_code == 503, response.text[:300]
        assert error_of(response)["code"] == "bot_unavailable"


def has_lone_surrogate(value: Any) -> bool:
    """What the gateway reads back from the escaped JSON still holds a lone surrogate (a high one
    followed by a low one reads back as one character: "\ud800\udfff" is U+103FF)."""
    received = json.loads(json.dumps(value))
    return any(0xD800 <= ord(char) <= 0xDFFF for char in json.dumps(received, ensure_ascii=False))


def test_an_agent_session_is_not_a_shopper_token(console_client, cases):
    cases.tick()
    session = sign_in(console_client, "kefu.wang")["Authorization"]
    response = post(console_client, Case({"text": "你好"}, frozenset()), "kefu.wang", session)
    assert_clear_refusal(response, {"invalid_token"})
