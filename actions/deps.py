"""The action server's long-lived parts, built once per process from ActionSettings.

Actions call these instead of building clients themselves, so that one process holds one
store connection, one photo client and one parsed policy. Tests point the settings at
their own SQLite file and services through the environment, then call `reset()`.
"""

from __future__ import annotations

from functools import lru_cache

from actions.clients.handoff_client import HandoffClient
from actions.clients.photos_client import PhotoClient
from actions.policy.rules import Policy, load_policy
from actions.settings import get_settings
from actions.shop import make_repository
from actions.shop.repository import ShopRepository


@lru_cache(maxsize=1)
def repository() -> ShopRepository:
    return make_repository(get_settings())


@lru_cache(maxsize=1)
def policy() -> Policy:
    return load_policy(get_settings().policy_path)


@lru_cache(maxsize=1)
def photo_client() -> PhotoClient:
    settings = get_settings()
    return PhotoClient(settings.handoff_url, settings.service_token.get_secret_value(), settings.photo_timeout_seconds)


@lru_cache(maxsize=1)
def handoff_client() -> HandoffClient:
    settings = get_settings()
    return HandoffClient(settings.handoff_url, settings.service_token.get_secret_value(), settings.photo_timeout_seconds)


def reset() -> None:
    """Forget the built parts (after the settings changed, in tests)."""
    for built in (repository, policy, photo_client, handoff_client):
        built.cache_clear()
    get_settings.cache_clear()
