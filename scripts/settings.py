"""Settings of the local launcher (`make run`, `make shell`, `make test`), in one place.

Read from the environment or a `.env` file (never committed); every value has a
working default so that `make run` needs no manual step on a fresh machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import BaseSettings, SecretStr

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class RunSettings(BaseSettings):
    # Redis for trackers, locks and (later) handoff. Unset: an embedded Redis is started.
    redis_url: Optional[str] = None
    embedded_redis_port: int = 6389
    # How long Redis keeps a conversation after its last turn (0: forever).
    tracker_retention_seconds: int = 30 * 24 * 3600
    # Rasa server (REST channel + HTTP API) and action server.
    rasa_host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    # The action server has no authentication of its own: it listens on this interface only.
    action_host: str = "127.0.0.1"
    # Handoff service: chat page, agents' console, trainers' page, the shoppers' gateway.
    handoff_port: int = 8000
    # `make run-cluster`: nginx in front of this many instances of each service, on this port.
    cluster_port: int = 8080
    cluster_instances: int = 2
    # A turn of a Rasa process that died holds its conversation this long at most (Rasa's
    # TICKET_LOCK_LIFETIME; its default of 60 s would freeze the conversation for a minute).
    rasa_ticket_lock_seconds: int = 15
    # Token for Rasa's HTTP API. Unset: generated once into var/rasa_token.
    rasa_token: Optional[SecretStr] = None
    var_dir: Path = PROJECT_ROOT / "var"

    class Config:
        env_file = PROJECT_ROOT / ".env"
        env_file_encoding = "utf-8"

    @property
    def action_server_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}/webhook"

    @property
    def handoff_url(self) -> str:
        return f"http://127.0.0.1:{self.handoff_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.rasa_host}:{self.rasa_port}"
