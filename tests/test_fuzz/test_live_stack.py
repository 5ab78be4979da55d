"""The real stack (handoff service, action server, Rasa with the trained model; scripts/stack.py):
hypothesis texts through the model's POST /model/parse and the trainers' parse route, shoppers'
conversations through the gateway into a real Rasa, and saved test stories of any conversation id.
The model always gives a domain intent with sane scores; no request gets a 5xx; typed text never
reaches Rasa as a command."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set
from urllib.parse import quote

import httpx
import jwt
import pytest
import redis
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.text_normalization import normalize
from handoff.gateway import as_free_text
from handoff.settings import DEV_SHOPPER_TOKEN_SECRET
from handoff.shopper_tokens import SUBJECT
from scripts.stack import TOKEN, Assistant, running_assistant
from tests.conftest import PROJECT_ROOT
from tests.test_fuzz.budget import fuzz_settings
from tests.test_fuzz.checks import assert_clear_refusal
from tests.test_fuzz.texts import FRAGMENTS, any_char, shopper_text, utf8_char
from tests.test_handoff.conftest import AGENT_PASSWORD, create_agents

pytestmark = [pytest.mark.fuzz, pytest.mark.server]

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
INTENTS = set(DOMAIN["intents"]) | {"nlu_fallback"}
ENTITIES = set(DOMAIN["entities"])
ANGER_THRESHOLD = next(
    component["threshold"]
    for component in yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    if component["name"] == "bot.anger.AngerScorer"
)
TIMEOUT = 60


def without_surrogates(text: str) -> str:
    """What UTF-8 can carry: lone surrogates are refused before Rasa (tests of the gateway and the API)."""
    return "".join(char for char in text if not 0xD800 <= ord(char) <= 0xDFFF)


# What can reach the model: the gateway's free text (never a command), any length up to its cut.
typed = st.one_of(shopper_text(), st.text(utf8_char, max_size=300), st.sampled_from(FRAGMENTS)).map(without_surrogates)


@pytest.fixture(scope="module")
def assistant(trained_model: Path, redis_url: str, tmp_path_factory) -> Iterator[Assistant]:
    redis.Redis.from_url(redis_url).flushdb()
    workdir = tmp_path_factory.mktemp("fuzz-stack")
    sandbox = {"TRAINING_DATA_DIR": str(workdir / "data"), "TRAINER_MODELS_DIR": str(workdir / "models")}
    try:
        with running_assistant(trained_model, redis_url, workdir, extra_env=sandbox) as running:
            asyncio.run(create_agents(redis_url))
            yield running
    finally:
        redis.Redis.from_url(redis_url).flushdb()


@dataclass(frozen=True)
class Stack:
    """Where the stack answers (what a failing example prints, instead of the whole Assistant)."""

    rasa_url: str
    handoff_url: str


@pytest.fixture(scope="module")
def stack(assistant: Assistant) -> Stack:
    return Stack(assistant.rasa_url, assistant.handoff_url)


@pytest.fixture(scope="module")
def staff(stack: Stack) -> Dict[str, Dict[str, str]]:
    """Session headers of an agent and a trainer of the stack's console."""
    return {agent_id: sign_in(stack, agent_id) for agent_id in ("kefu.wang", "xunlian.zhao")}


def sign_in(stack: Stack, agent_id: str) -> Dict[str, str]:
    response = httpx.post(f"{stack.handoff_url}/api/agent/session", json={"agent_id": agent_id, "password": AGENT_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['session']}"}


def check_parse(result: Dict[str, Any], sent: str) -> None:
    intent = result["intent"]
    assert intent["name"] in INTENTS and 0.0 <= intent["confidence"] <= 1.0, intent
    ranking = [entry["confidence"] for entry in result.get("intent_ranking", [])]
    assert all(entry["name"] in INTENTS for entry in result.get("intent_ranking", []))
    assert all(0.0 <= c <= 1.0 for c in ranking) and ranking == sorted(ranking, reverse=True)
    anger = result["anger"]
    assert 0.0 <= anger["score"] <= 1.0 and not math.isnan(anger["score"])
    if abs(anger["score"] - ANGER_THRESHOLD) >= 1e-4:  # the score is shown rounded to 4 places, "angry" is not
        assert anger["angry"] is (anger["score"] >= ANGER_THRESHOLD)
    normalised = normalize(sent)
    assert result["text"] == normalised.text and bool(result.get("text_truncated")) == normalised.truncated
    for entity in result["entities"]:
        assert entity["entity"] in ENTITIES, entity
        assert 0 <= entity["start"] < entity["end"] <= len(result["text"]), (entity, result["text"])


@given(text=typed)
@fuzz_settings(300)
def test_the_model_gives_a_domain_intent_and_sane_scores(stack, cases, text):
    cases.tick()
    sent = as_free_text(text) if text.strip() else text  # what the gateway sends (a blank text it refuses)
    response = httpx.post(f"{stack.rasa_url}/model/parse", json={"text": sent}, params={"token": TOKEN}, timeout=TIMEOUT)
    assert response.status_code == 200, response.text[:300]
    check_parse(response.json(), sent)


@given(body=st.one_of(st.fixed_dictionaries({"text": st.text(any_char, max_size=520)}), st.just({}), st.just([])))
@fuzz_settings(100)
def test_the_trainers_parse_route_answers_any_text(stack, staff, cases, body):
    cases.tick()
    response = httpx.post(f"{stack.handoff_url}/api/trainer/parse", content=json.dumps(body).encode(),
                          headers={**staff["xunlian.zhao"], "Content-Type": "application/json"}, timeout=TIMEOUT)
    if response.status_code != 200:
        assert_clear_refusal(response, {"bad_request", "unreadable_text"})
    else:
        assert isinstance(body, dict) and 1 <= len(body["text"]) <= 500
        assert response.json()["intent"]["name"] in INTENTS


COMMANDS = ["/request_human", '/inform{"order_id": "2024061500000001"}', "/restart", "/greet", "/session_start",
            '/choose_order{"order_id": "x"}', "//", "/"]
photo_ids = st.lists(st.text(utf8_char, max_size=30) | st.from_regex(r"[A-Za-z0-9_-]{22}", fullmatch=True), max_size=3)
message = st.fixed_dictionaries(
    {"text": st.one_of(shopper_text(), st.sampled_from(COMMANDS), st.text(any_char, max_size=2000))},
    optional={"photo_ids": photo_ids, "client_id": st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)},
)
REFUSALS = {"empty_message", "unreadable_text"}


def check_reply(reply: Dict[str, Any]) -> None:
    assert reply["owner"] in ("bot", "waiting", "agent") and isinstance(reply["feed_ids"], list)
    for line in reply["messages"]:
        assert line["from"] == "bot" and ("text" in line or "buttons" in line or "image" in line), line
        for button in line.get("buttons", []):
            assert set(button) == {"title", "token"}, "the page never sees a payload"


def payload_of(token: str) -> str:
    encoded = token.split(".")[0]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


def commands_rasa_saw(stack: Stack, conversation_id: str) -> List[str]:
    """The user texts starting with "/" in the conversation's tracker. Rasa does not decode its URLs'
    percent-escapes; shopper ids are limited to SUBJECT (handoff/shopper_tokens.py), which stays itself in a path."""
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{conversation_id}/tracker", params={"token": TOKEN},
                        timeout=TIMEOUT).json()
    return [event["text"] for event in tracker.get("events", []) if event.get("event") == "user"
            and (event.get("text") or "").startswith("/")]


# Shopper ids are the store's: any text its app signs (a new conversation each time, whatever the prefix).
shopper_ids = st.one_of(st.just("fuzz"), st.sampled_from(["张三", "user@example.com", "a b", "a?b#c", "%41", "Ｕ１"]),
                        st.text(utf8_char, min_size=1, max_size=12).filter(lambda s: not s.startswith("guest:")))


@given(conversation=st.lists(message, min_size=1, max_size=3), press=st.booleans(), prefix=shopper_ids)
@fuzz_settings(120)
def test_shoppers_talking_to_a_real_rasa_never_get_a_5xx(stack, cases, conversation, press, prefix):
    subject = f"{prefix}-{uuid.uuid4().hex[:12]}"
    headers = {"Authorization": "Bearer " + jwt_with_subject(subject), "Content-Type": "application/json"}
    if not SUBJECT.fullmatch(subject):  # an id Rasa's paths cannot address: the token is refused
        cases.tick()
        response = httpx.post(f"{stack.handoff_url}/api/chat/messages", json={"text": "在吗"}, headers=headers, timeout=TIMEOUT)
        assert response.status_code == 401 and response.json()["detail"]["message"], response.text[:300]
        return
    pressed: Set[str] = set()
    for body in conversation:
        cases.tick()
        response = httpx.post(f"{stack.handoff_url}/api/chat/messages", content=json.dumps(body).encode(),
                              headers=headers, timeout=TIMEOUT)
        if response.status_code != 200:
            assert_clear_refusal(response, REFUSALS)
            continue
        check_reply(response.json())
        buttons = [button for line in response.json()["messages"] for button in line.get("buttons", [])]
        if press and buttons:
            cases.tick()
            pressed.add(payload_of(buttons[0]["token"]))
            answer = httpx.post(f"{stack.handoff_url}/api/chat/messages", headers=headers, timeout=TIMEOUT,
                                json={"text": buttons[0]["title"], "button": buttons[0]["token"]})
            assert answer.status_code == 200, answer.text[:300]
    assert set(commands_rasa_saw(stack, subject)) <= pressed, "typed text reached Rasa as a command"


@given(conversation_id=st.one_of(st.text(utf8_char, min_size=1, max_size=40), st.sampled_from(["u1001", "a?b#c", "\x1f", "%00"]))
       .filter(lambda c: "/" not in c and c not in (".", "..")),
       name=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True))
@fuzz_settings(60)
def test_saving_any_conversation_as_a_test_story_is_answered_clearly(stack, staff, cases, conversation_id, name):
    cases.tick()
    url = f"{stack.handoff_url}/api/staff/conversations/{quote(conversation_id, safe='')}/test-story"
    response = httpx.post(url, json={"name": name}, headers=staff["kefu.wang"], timeout=TIMEOUT)
    if response.status_code != 201:
        assert_clear_refusal(response, {"conversation_empty", "story_exists", "not_found"})


ANGRY = "我买的奶粉打开全是结块的！！！你们什么破质量，气死我了"


@pytest.mark.parametrize("prefix", ["plain", "a b", "张三"])
def test_an_angry_shopper_is_handed_off_or_their_id_refused_clearly(stack, cases, prefix):
    """Rasa reads /conversations/<id>/tracker with its percent-escapes: an id outside the safe set
    would address another tracker than the chat's (found by fuzzing), so its token is refused."""
    cases.tick()
    token = jwt_with_subject(f"{prefix}-{uuid.uuid4().hex[:8]}")
    response = httpx.post(f"{stack.handoff_url}/api/chat/messages", json={"text": ANGRY},
                          headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    if prefix != "plain":
        assert response.status_code == 401 and "身份" in response.json()["detail"]["message"], response.text[:300]
        return
    assert response.status_code == 200, response.text[:300]
    assert (response.json()["owner"], response.json()["handed_off"]) == ("waiting", True)


def jwt_with_subject(subject: str) -> str:
    """A shopper token as a store's app would sign it, whatever the subject (issue_shopper_token refuses bad ids)."""
    now = int(time.time())
    return jwt.encode({"sub": subject, "iat": now, "exp": now + 600}, DEV_SHOPPER_TOKEN_SECRET, algorithm="HS256")
