"""ActionSettings from the environment and .env, and make_repository choosing the backend they name."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from actions.settings import PROJECT_ROOT, ActionSettings, get_settings
from actions.shop import make_repository
from actions.shop.http_repository import HttpShopRepository
from actions.shop.sqlite_repository import SqliteShopRepository
from handoff.settings import DEV_SERVICE_TOKEN, DEV_SHOPPER_TOKEN_SECRET

VARIABLES = ("SHOP_BACKEND", "SHOP_DB_PATH", "SHOP_DEMO_SEED", "SHOP_API_URL", "SHOP_API_TOKEN",
             "SHOP_API_TIMEOUT_SECONDS", "SHOP_API_RETRIES", "POLICY_PATH", "HANDOFF_URL", "SERVICE_TOKEN",
             "SHOPPER_TOKEN_SECRET")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def settings(**values) -> ActionSettings:
    return ActionSettings(_env_file=None, **values)


def test_defaults_need_nothing() -> None:
    defaults = settings()
    assert defaults.shop_backend == "sqlite" and defaults.shop_db_path == PROJECT_ROOT / "var" / "shop.db"
    assert (defaults.shop_api_timeout_seconds, defaults.shop_api_retries) == (3.0, 2)
    assert defaults.handoff_url == "http://127.0.0.1:8000" and defaults.policy_path is None
    assert defaults.shop_api_token is None
    # The same development placeholders as the handoff service, which refuses them outside ENV=dev.
    assert defaults.service_token.get_secret_value() == DEV_SERVICE_TOKEN
    assert defaults.shopper_token_secret.get_secret_value() == DEV_SHOPPER_TOKEN_SECRET


def test_read_from_the_environment_with_secrets_masked(monkeypatch) -> None:
    monkeypatch.setenv("SHOP_BACKEND", "http")
    monkeypatch.setenv("SHOP_API_URL", "https://shop.example/api/")
    monkeypatch.setenv("SHOP_API_TOKEN", "s3cret-token")
    monkeypatch.setenv("SHOP_API_RETRIES", "4")
    loaded = settings()
    assert loaded.shop_api_url == "https://shop.example/api" and loaded.shop_api_retries == 4
    assert loaded.shop_api_token.get_secret_value() == "s3cret-token"
    assert "s3cret-token" not in repr(loaded) and "s3cret-token" not in str(loaded.dict())


def test_read_from_a_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SHOP_DB_PATH=/data/shop.db\nSERVICE_TOKEN=abc\n", encoding="utf-8")
    loaded = ActionSettings(_env_file=env_file)
    assert loaded.shop_db_path == Path("/data/shop.db") and loaded.service_token.get_secret_value() == "abc"


@pytest.mark.parametrize("values,message", [
    ({"shop_backend": "http"}, "SHOP_API_URL and SHOP_API_TOKEN"),
    ({"shop_backend": "http", "shop_api_url": "http://x"}, "SHOP_API_TOKEN"),
    ({"shop_backend": "mysql"}, "shop_backend"),
    ({"shop_api_url": "shop.example"}, "not an http"),
    ({"shop_api_timeout_seconds": 0}, "greater than 0"),
    ({"shop_api_retries": -1}, "greater than or equal to 0"),
])
def test_bad_values_are_refused_clearly(values, message) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**values)


def test_get_settings_is_read_once() -> None:
    get_settings.cache_clear()
    assert get_settings() is get_settings()
    get_settings.cache_clear()


async def test_make_repository_sqlite_creates_the_demo_store(tmp_path: Path) -> None:
    repository = make_repository(settings(shop_db_path=tmp_path / "var" / "shop.db"))
    assert isinstance(repository, SqliteShopRepository)
    assert len(await repository.list_orders("u1007")) == 5
    bare = make_repository(settings(shop_db_path=tmp_path / "bare.db", shop_demo_seed=False))
    assert await bare.list_orders("u1007") == []


async def test_make_repository_http_uses_the_api_settings() -> None:
    repository = make_repository(settings(shop_backend="http", shop_api_url="http://127.0.0.1:9/api",
                                          shop_api_token="t", shop_api_retries=0))
    assert isinstance(repository, HttpShopRepository) and repository.base_url == "http://127.0.0.1:9/api"
    await repository.close()
