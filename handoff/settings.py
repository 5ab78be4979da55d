"""Settings of the handoff service, in one place (pydantic v1 BaseSettings).

Read from the environment or the project's `.env` file (never committed), without a
prefix: REDIS_URL, PHOTO_DIR, SHOPPER_TOKEN_SECRET, SERVICE_TOKEN, AGENT_SESSION_SECRET, ...
Every value has a working default for development; the three secrets' defaults are public
placeholders, so they are refused outside ENV=dev (as full-stack-fastapi-template's
`_check_default_secret` does). The agent session secret must differ from the other two, so
that a token made for one audience can never be verified as another.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional

from pydantic import BaseSettings, Field, PositiveFloat, PositiveInt, SecretStr, root_validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEV_SHOPPER_TOKEN_SECRET = "dev-only-shopper-token-secret-change-me"
DEV_SERVICE_TOKEN = "dev-only-service-token-change-me"
DEV_AGENT_SESSION_SECRET = "dev-only-agent-session-secret-change-me"
# HS256 keys shorter than the hash (32 bytes) are weak (RFC 7518 section 3.2).
MIN_SECRET_LENGTH = 32


class HandoffSettings(BaseSettings):
    env: Literal["dev", "prod"] = "dev"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Uploaded evidence photos: re-encoded files on disk, metadata in Redis.
    photo_dir: Path = PROJECT_ROOT / "var" / "photos"
    photo_max_bytes: int = 10 * 1024 * 1024
    photo_max_pixels: int = 40_000_000  # checked from the header, before decoding
    photo_max_side: int = 2560  # longer side after re-encoding
    photo_max_per_request: int = 9
    # Signs the shopper tokens the store's app hands the chat (and the guest tokens we issue).
    shopper_token_secret: SecretStr = SecretStr(DEV_SHOPPER_TOKEN_SECRET)
    shopper_token_ttl_seconds: int = 2 * 60 * 60
    # The Rasa server the gateway sends shoppers' messages to (REST channel, HTTP API token).
    rasa_url: str = "http://127.0.0.1:5005"
    # Every Rasa server when several serve behind a balancer (JSON list; `make run-cluster` sets
    # it): a model going live is loaded into each. Empty: only rasa_url.
    rasa_instance_urls: List[str] = []
    rasa_token: Optional[SecretStr] = None
    rasa_timeout_seconds: float = 10.0
    # Anger that hands off from the gateway besides the scorer's own "angry": this many shopper
    # turns in a row, each at least `step` angrier, the last at `floor` or above.
    anger_rising_turns: int = 3
    anger_rising_step: float = 0.1
    anger_rising_floor: float = 0.3
    # The trainers' review inbox: messages parsed below this confidence land there (besides
    # fallbacks, messages right before a handoff and agents' "bot misunderstood" marks), and an
    # item is kept this long after it was last seen.
    inbox_low_confidence: float = 0.6
    inbox_retention_seconds: PositiveInt = 90 * 24 * 3600
    # Where labelled examples are written (data/nlu/<intent>.yml, data/anger/) and retraining
    # reads them; where candidate models, their reports and models/versions.json are kept.
    training_data_dir: Path = PROJECT_ROOT / "data"
    trainer_models_dir: Path = PROJECT_ROOT / "models"
    # Where "save as test story" writes real conversations (reviewed, then moved into tests/stories/).
    saved_stories_dir: Path = PROJECT_ROOT / "tests" / "saved_stories"
    # A candidate goes live only if macro-F1 and anger F1 drop by at most this much, and no
    # intent's F1 by more than the intent tolerance.
    retrain_tolerance: float = 0.01
    retrain_intent_tolerance: float = 0.05
    # This many shopper messages in a row that the NLU did not understand hand off ("stuck").
    fallbacks_before_handoff: PositiveInt = 2
    # Bearer token of internal callers: the action server (and, for now, the agents' console).
    service_token: SecretStr = SecretStr(DEV_SERVICE_TOKEN)
    # Handoff queue: the expected wait is (tickets ahead + 1) * this / agents online.
    handoff_minutes_per_ticket: PositiveFloat = 3.0
    # An agent counts as online for this long after their last heartbeat.
    agent_heartbeat_seconds: PositiveInt = 60
    # Signs the sessions of the agents' console (HS256); a session lasts this long (one shift).
    agent_session_secret: SecretStr = SecretStr(DEV_AGENT_SESSION_SECRET)
    agent_session_ttl_seconds: PositiveInt = 12 * 3600
    # The console's session cookie (a session is also accepted as `Authorization: Bearer`).
    agent_cookie_name: str = "shouhou_agent"
    # A conversation's feed (what the chat page and the console show) is kept this long after its
    # last line: the same retention as Rasa's tracker (endpoints.yml record_exp).
    conversation_retention_seconds: PositiveInt = Field(30 * 24 * 3600, env="TRACKER_RETENTION_SECONDS")
    # WebSockets: pages served from these origins may connect (empty: only the service's own
    # host); a frame larger than this closes the socket (1009).
    allowed_origins: List[str] = []
    ws_max_frame_bytes: PositiveInt = 16 * 1024
    # How often an open socket refreshes what changes without a message (queue place, waiting time).
    ws_refresh_seconds: PositiveFloat = 3.0
    # Rate limits per minute: a shopper's messages (and uploads), an agent's messages.
    shopper_messages_per_minute: PositiveInt = 30
    agent_messages_per_minute: PositiveInt = 120

    class Config:
        env_file = PROJECT_ROOT / ".env"
        env_file_encoding = "utf-8"

    @root_validator(skip_on_failure=True)
    def _enforce_real_secrets(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        env = values["env"]
        _check_secret("SHOPPER_TOKEN_SECRET", values["shopper_token_secret"], DEV_SHOPPER_TOKEN_SECRET, env)
        _check_secret("SERVICE_TOKEN", values["service_token"], DEV_SERVICE_TOKEN, env)
        _check_secret("AGENT_SESSION_SECRET", values["agent_session_secret"], DEV_AGENT_SESSION_SECRET, env)
        _check_distinct_session_secret(values)
        return values


def _check_secret(name: str, secret: SecretStr, placeholder: str, env: str) -> None:
    value = secret.get_secret_value()
    if value == placeholder:
        message = f"{name} is the public development placeholder: set a real secret (required unless ENV=dev)"
        if env != "dev":
            raise ValueError(message)
        warnings.warn(message, stacklevel=2)
    elif env != "dev" and len(value) < MIN_SECRET_LENGTH:
        raise ValueError(f"{name} must be at least {MIN_SECRET_LENGTH} characters outside ENV=dev")


def _check_distinct_session_secret(values: Dict[str, Any]) -> None:
    """Shopper tokens do not check a token type: only a different key keeps sessions out of them."""
    session_secret = values["agent_session_secret"].get_secret_value()
    for name in ("shopper_token_secret", "service_token"):
        if session_secret == values[name].get_secret_value():
            raise ValueError(f"AGENT_SESSION_SECRET must differ from {name.upper()}")


@lru_cache()
def get_settings() -> HandoffSettings:
    return HandoffSettings()
