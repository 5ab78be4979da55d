"""Every operation of the handoff service's OpenAPI, in-process, with requests drawn from the
document itself (tests/test_fuzz/openapi_strategies.py) and every kind of caller: nobody, a forged
or expired token, a shopper, a guest, the service token, an agent, a supervisor, a trainer, an agent
by cookie. No answer is a 5xx, every error has the project's shape, and every 2xx body follows the
documented response schema.

Rasa is not running here (console_client points it at a closed port): the operations that must
ask Rasa (RASA_BOUND) may answer their documented 503 `bot_unavailable`, nothing else; the same
routes meet a real Rasa in test_live_stack.py.
"""

from __future__ import annotations

import functools
import json
import traceback
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from handoff.main import create_app
from handoff.review.inbox import item_key
from handoff.settings import HandoffSettings
from handoff.shopper_tokens import issue_guest_token, issue_shopper_token
from tests.test_fuzz.budget import Tally, fuzz_settings
from tests.test_fuzz.checks import error_of
from tests.test_fuzz.openapi_strategies import Operation, operations, request_parts, response_validator
from tests.test_handoff import images
from tests.test_handoff.conftest import SERVICE_TOKEN, SHOPPER_TOKEN_SECRET, bearer, sign_in, ticket_in

pytestmark = pytest.mark.fuzz

SPEC = create_app(HandoffSettings(env="dev")).openapi()
OPERATIONS = operations(SPEC)
RASA_BOUND = {
    "POST /api/chat/messages",
    "POST /api/trainer/parse",
    "POST /api/trainer/retrain",
    "POST /api/trainer/models/{model}/activate",
    "POST /api/staff/conversations/{conversation_id}/test-story",
    "POST /api/agent/conversations/{conversation_id}/messages",
}
EXAMPLES_PER_OPERATION = 80
# Signing in hashes the password (Argon2id, also for unknown ids): slow on purpose.
EXAMPLES = {"POST /api/agent/session": 20}
MISUNDERSTOOD_TEXT = "杯子到了就是碎的"


def callers(client: TestClient) -> Dict[str, Dict[str, str]]:
    """Request headers of every kind of caller."""
    long_ago = datetime.now(timezone.utc) - timedelta(days=1)
    sessions = {agent_id: sign_in(client, agent_id) for agent_id in ("kefu.wang", "zhuguan", "xunlian.zhao")}
    client.cookies.clear()  # signing in set the session cookie; each caller brings their own
    cookie = sessions["kefu.wang"]["Authorization"].split(" ", 1)[1]
    return {
        "nobody": {},
        "forged": bearer("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MTAwMSJ9."),
        "expired": bearer(issue_shopper_token("u1001", SHOPPER_TOKEN_SECRET, ttl_seconds=60, now=long_ago)),
        "shopper": bearer(issue_shopper_token("u1001", SHOPPER_TOKEN_SECRET, ttl_seconds=3600)),
        "guest": bearer(issue_guest_token("fuzz-guest", SHOPPER_TOKEN_SECRET, ttl_seconds=3600)),
        "service": bearer(SERVICE_TOKEN),
        "agent": sessions["kefu.wang"],
        "supervisor": sessions["zhuguan"],
        "trainer": sessions["xunlian.zhao"],
        "agent by cookie": {"Cookie": f"shouhou_agent={cookie}"},
    }


def seed(client: TestClient, headers: Dict[str, Dict[str, str]]) -> Dict[str, List[str]]:
    """A ticket, a photo and an inbox item, so that path parameters can name things that exist."""
    ticket = client.post("/internal/tickets", json=json.loads(ticket_in("conv-fuzz").json()), headers=headers["service"])
    photo = client.post("/api/photos", files=[("file", ("a.jpg", images.jpeg(), "image/jpeg"))], headers=headers["shopper"])
    marked = client.post("/api/agent/conversations/conv-fuzz/misunderstood", headers=headers["agent"],
                         json={"text": MISUNDERSTOOD_TEXT, "right_intent": "report_broken"})
    assert (ticket.status_code, photo.status_code, marked.status_code) == (201, 201, 201)
    return {
        "ticket_id": [ticket.json()["ticket_id"]],
        "photo_id": [photo.json()["photos"][0]["id"]],
        "key": [item_key(MISUNDERSTOOD_TEXT)],
        "conversation_id": ["conv-fuzz", "u1001"],
        "model": ["shouhou-0000000000000000"],
        "file_name": ["summary.json", "intent_report.json"],
    }


# Who each part of the API is for: most requests come from them, the rest from anyone.
INTENDED = (
    ("/internal/", ("service",)),
    ("/api/trainer/", ("trainer", "supervisor")),
    ("/api/agent/", ("agent", "supervisor", "agent by cookie")),
    ("/api/staff/", ("agent", "trainer")),
    ("/api/", ("shopper", "guest")),
)


def caller_names(operation: Operation, headers: Dict[str, Dict[str, str]]) -> st.SearchStrategy[str]:
    intended = next((names for prefix, names in INTENDED if operation.path.startswith(prefix)), ("nobody",))
    return st.one_of(st.sampled_from(intended), st.sampled_from(intended), st.sampled_from(sorted(headers)))


def check(operation: Operation, response) -> None:
    status = response.status_code
    if status >= 500:
        assert status == 503 and operation.label in RASA_BOUND, (status, response.text[:300])
        assert error_of(response)["code"] == "bot_unavailable"
    elif status >= 400:
        error_of(response)
    elif status != 204 and (validator := validator_for(operation.label, str(status))) is not None:
        validator.validate(response.json())


@functools.lru_cache(maxsize=None)
def validator_for(label: str, status: str) -> Optional[Draft7Validator]:
    schema = next(operation for operation in OPERATIONS if operation.label == label).responses.get(status)
    return response_validator(SPEC, schema) if schema else None


def fuzz(client: TestClient, operation: Operation, headers: Dict[str, Dict[str, str]], known, tally: Tally) -> None:
    @given(parts=request_parts(operation, SPEC, known), caller=caller_names(operation, headers))
    @fuzz_settings(EXAMPLES.get(operation.label, EXAMPLES_PER_OPERATION))
    def run(parts, caller) -> None:
        tally.tick()
        url, query, body = parts
        request_headers = dict(headers[caller])
        if body is not None:
            request_headers["Content-Type"] = "application/json"
        client.cookies.clear()
        check(operation, client.request(operation.method, url, params=query, content=body, headers=request_headers))

    run()


def test_the_document_lists_every_route_of_the_service():
    assert len(OPERATIONS) >= 40 and {"POST /api/chat/messages", "POST /api/photos"} <= {o.label for o in OPERATIONS}


def test_every_operation_answers_anything_without_a_5xx(sandboxed_settings, console_client, cases):
    headers = callers(console_client)
    known = seed(console_client, headers)
    failures = []
    for operation in OPERATIONS:
        try:
            fuzz(console_client, operation, headers, known, Tally(f"{cases.test_id}[{operation.label}]"))
        except Exception as error:  # noqa: BLE001 — every operation is fuzzed, then all failures are shown
            failures.append(f"{operation.label}: {''.join(traceback.format_exception_only(error))}")
    assert not failures, "\n\n".join(failures)
