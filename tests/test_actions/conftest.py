"""Fixtures of the action tests: a freshly seeded real SQLite store, the real domain, the photo service."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest
import redis
from pydantic import SecretStr
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import deps
from actions.shop.clock import store_now
from actions.shop.seed import seed
from handoff.main import create_app
from handoff.settings import DEV_SERVICE_TOKEN, DEV_SHOPPER_TOKEN_SECRET, HandoffSettings
from handoff.shopper_tokens import issue_shopper_token
from tests.servers import serve_in_thread

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, str]]:
    """The demo store seeded as of now in tmp_path; yields {story label: order id}."""
    db_path = tmp_path / "shop.db"
    labels = seed(db_path, store_now())
    monkeypatch.setenv("SHOP_BACKEND", "sqlite")
    monkeypatch.setenv("SHOP_DB_PATH", str(db_path))
    deps.reset()
    yield labels
    deps.reset()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(PROJECT_ROOT / "domain.yml")).as_dict()


@pytest.fixture()
def token() -> Callable[[str], str]:
    """A valid in-app shopper token (signed with the development secret both services default to)."""
    return lambda shopper_id: issue_shopper_token(shopper_id, DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=600)


@pytest.fixture()
def photo_service(store, redis_url: str, redis_client: redis.Redis, tmp_path: Path, monkeypatch) -> Iterator[str]:
    """The real handoff service (photo store) on a loopback port; the actions are pointed at it."""
    settings = HandoffSettings(
        env="dev",
        redis_url=redis_url,
        photo_dir=tmp_path / "photos",
        shopper_token_secret=SecretStr(DEV_SHOPPER_TOKEN_SECRET),
        service_token=SecretStr(DEV_SERVICE_TOKEN),
    )
    with serve_in_thread(create_app(settings)) as url:
        monkeypatch.setenv("HANDOFF_URL", url)
        deps.reset()
        yield url


class Run:
    """The outcome of one action run: its events as a dict of slots, and what the shopper read."""

    def __init__(self, events: List[Dict[str, Any]], dispatcher: CollectingDispatcher) -> None:
        self.events = events
        self.messages = dispatcher.messages
        self.slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)

    @property
    def buttons(self) -> List[Dict[str, str]]:
        return [b for m in self.messages for b in (m.get("buttons") or [])]


@pytest.fixture()
def run(domain) -> Callable[[Action, Tracker], Any]:
    async def _run(action: Action, tracker: Tracker) -> Run:
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, tracker, domain)
        return Run(events, dispatcher)

    return _run
