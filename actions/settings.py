"""Settings of the action server, in one place.

Read from the environment (no prefix: SHOP_BACKEND, SHOP_DB_PATH, …) or the `.env` file in the
project root (never committed). Every value has a working default for the embedded demo store.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, Literal, Optional

from pydantic import BaseSettings, Field, SecretStr, root_validator, validator

from handoff.settings import DEV_SERVICE_TOKEN, DEV_SHOPPER_TOKEN_SECRET

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ActionSettings(BaseSettings):
    # Where orders and cases live: the embedded SQLite store, or a store's own backend (docs/shop-api.md).
    shop_backend: Literal["sqlite", "http"] = "sqlite"
    shop_db_path: Path = PROJECT_ROOT / "var" / "shop.db"
    # With the SQLite backend: create the demo store when missing, reseed it once it is a day old.
    shop_demo_seed: bool = True
    shop_api_url: Optional[str] = None
    shop_api_token: Optional[SecretStr] = None
    shop_api_timeout_seconds: float = Field(3.0, gt=0)
    shop_api_retries: int = Field(2, ge=0, le=10)
    # After-sales policy file; unset: the defaults shipped in actions/policy/policy.yml.
    policy_path: Optional[Path] = None
    # The handoff service's internal API and the token the action server presents to it.
    handoff_url: str = "http://127.0.0.1:8000"
    # Same variables and development defaults as the handoff service (handoff/settings.py), which
    # refuses the placeholders outside ENV=dev.
    service_token: SecretStr = SecretStr(DEV_SERVICE_TOKEN)
    photo_timeout_seconds: float = Field(5.0, gt=0)
    # Signs the in-app shopper tokens the store's app sends in message metadata.
    shopper_token_secret: SecretStr = SecretStr(DEV_SHOPPER_TOKEN_SECRET)

    class Config:
        env_file = PROJECT_ROOT / ".env"
        env_file_encoding = "utf-8"

    @validator("shop_api_url", "handoff_url")
    def _http_url(cls, value: Optional[str]) -> Optional[str]:  # noqa: N805 (pydantic validators take cls)
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/") if value else value

    @root_validator(skip_on_failure=True)
    def _http_backend_is_complete(cls, values: Dict) -> Dict:  # noqa: N805
        if values.get("shop_backend") == "http":
            missing = [name.upper() for name in ("shop_api_url", "shop_api_token") if not values.get(name)]
            if missing:
                raise ValueError(f"SHOP_BACKEND=http needs {' and '.join(missing)}")
        return values


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    return ActionSettings()
