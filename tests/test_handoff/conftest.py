"""Fixtures of the handoff tests: settings pointing at the tests' Redis database and tmp_path, and tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
from pydantic import SecretStr

from handoff.settings import HandoffSettings
from handoff.shopper_tokens import issue_guest_token, issue_shopper_token

SHOPPER_TOKEN_SECRET = "test-shopper-token-secret-0123456789abcdef"
SERVICE_TOKEN = "test-service-token-0123456789abcdef-xyz"


@pytest.fixture()
def settings(redis_url: str, tmp_path: Path) -> HandoffSettings:
    return HandoffSettings(
        env="dev",
        redis_url=redis_url,
        photo_dir=tmp_path / "photos",
        shopper_token_secret=SecretStr(SHOPPER_TOKEN_SECRET),
        service_token=SecretStr(SERVICE_TOKEN),
    )


@pytest.fixture()
def shopper_token() -> Callable[[str], str]:
    return lambda shopper_id: issue_shopper_token(shopper_id, SHOPPER_TOKEN_SECRET, ttl_seconds=600)


@pytest.fixture()
def guest_token() -> Callable[[str], str]:
    return lambda conversation_id: issue_guest_token(conversation_id, SHOPPER_TOKEN_SECRET, ttl_seconds=600)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
