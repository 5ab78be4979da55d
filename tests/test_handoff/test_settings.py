from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from handoff.settings import DEV_SERVICE_TOKEN, DEV_SHOPPER_TOKEN_SECRET, PROJECT_ROOT, HandoffSettings, get_settings

REAL_SECRET = "a-real-secret-of-forty-characters-000000"


def test_dev_defaults_work_with_a_loud_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENV", "SHOPPER_TOKEN_SECRET", "SERVICE_TOKEN", "PHOTO_DIR", "PHOTO_MAX_BYTES"):
        monkeypatch.delenv(name, raising=False)
    with pytest.warns(UserWarning, match="SHOPPER_TOKEN_SECRET is the public development placeholder"):
        settings = HandoffSettings(_env_file=None)
    assert settings.env == "dev"
    assert settings.shopper_token_secret.get_secret_value() == DEV_SHOPPER_TOKEN_SECRET
    assert settings.photo_dir == PROJECT_ROOT / "var" / "photos"
    assert (settings.photo_max_bytes, settings.photo_max_per_request) == (10 * 1024 * 1024, 9)


@pytest.mark.parametrize("placeholder", ["shopper_token_secret", "service_token"])
def test_placeholder_secrets_are_refused_outside_dev(placeholder: str) -> None:
    secrets = {"shopper_token_secret": SecretStr(REAL_SECRET), "service_token": SecretStr(REAL_SECRET)}
    secrets[placeholder] = SecretStr(
        DEV_SHOPPER_TOKEN_SECRET if placeholder == "shopper_token_secret" else DEV_SERVICE_TOKEN
    )
    with pytest.raises(ValidationError, match=placeholder.upper()):
        HandoffSettings(_env_file=None, env="prod", **secrets)


def test_short_secrets_are_refused_outside_dev() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        HandoffSettings(
            _env_file=None, env="prod", shopper_token_secret=SecretStr("short"), service_token=SecretStr(REAL_SECRET)
        )


def test_settings_come_from_the_environment_and_secrets_stay_masked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ENV", "prod")
    monkeypatch.setenv("SHOPPER_TOKEN_SECRET", REAL_SECRET)
    monkeypatch.setenv("SERVICE_TOKEN", REAL_SECRET[::-1])
    monkeypatch.setenv("AGENT_SESSION_SECRET", REAL_SECRET + "-agent")
    monkeypatch.setenv("PHOTO_DIR", str(tmp_path))
    monkeypatch.setenv("PHOTO_MAX_BYTES", "2048")
    settings = HandoffSettings(_env_file=None)
    assert (settings.env, settings.photo_dir, settings.photo_max_bytes) == ("prod", tmp_path, 2048)
    assert REAL_SECRET not in repr(settings)


def test_an_unknown_environment_name_is_refused() -> None:
    with pytest.raises(ValidationError):
        HandoffSettings(_env_file=None, env="staging")


def test_get_settings_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "dev")
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()
