"""The whole assistant as `make run` starts it, on free ports, for tests and benchmarks.

Handoff service, action server and Rasa server as real subprocesses on loopback, trackers in
the given Redis, and a freshly seeded demo store of its own in `workdir`, so conversations
never see another run's cases.
"""

from __future__ import annotations

import socket
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from actions.shop.clock import store_now
from actions.shop.seed import seed
from scripts import rasa_cli
from scripts.run import (
    action_server_command,
    endpoint_environment,
    handoff_command,
    rasa_server_command,
    stop,
    wait_until_up,
)
from scripts.settings import PROJECT_ROOT, RunSettings

TOKEN = "stack-token-not-a-secret"  # Rasa HTTP API token of this throwaway stack
QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": PROJECT_ROOT}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Service:
    name: str
    command: List[str]
    health_url: str
    process: Optional[subprocess.Popen] = None


@dataclass
class Assistant:
    rasa_url: str
    handoff_url: str
    orders: Dict[str, str]  # demo store: story label → order id
    services: Dict[str, Service] = field(default_factory=dict)
    env: Dict[str, str] = field(default_factory=dict)
    token: str = TOKEN

    def start(self, name: str) -> None:
        service = self.services[name]
        service.process = subprocess.Popen(service.command, env=self.env, **QUIET)
        wait_until_up(service.health_url, service.process, name)

    def restart(self, name: str) -> None:
        """Stop one service (SIGTERM, as an orchestrator would) and start it again."""
        stop([self.services[name].process])
        self.start(name)

    def stop_all(self) -> None:
        stop([s.process for s in reversed(self.services.values()) if s.process is not None])


@contextmanager
def running_assistant(
    model: Path, redis_url: str, workdir: Path, extra_env: Optional[Dict[str, str]] = None
) -> Iterator[Assistant]:
    """The stack on free ports; whatever it writes (the store, photos, saved stories) stays in
    `workdir`. `extra_env` adds settings (e.g. the trainers' data and models folders)."""
    settings = RunSettings(
        rasa_port=free_port(), action_port=free_port(), handoff_port=free_port(), redis_url=redis_url
    )
    shop_db = workdir / "shop.db"
    orders = seed(shop_db, store_now())
    env = rasa_cli.environment(
        {**endpoint_environment(redis_url, settings), "SHOP_DB_PATH": str(shop_db), "PHOTO_DIR": str(workdir / "photos"),
         "SAVED_STORIES_DIR": str(workdir / "saved_stories"), "RASA_TOKEN": TOKEN, **(extra_env or {})}
    )
    assistant = Assistant(settings.rasa_url, settings.handoff_url, orders, env=env)
    for service in (
        Service("handoff service", handoff_command(settings), f"{settings.handoff_url}/health"),
        Service("action server", action_server_command(settings), f"http://127.0.0.1:{settings.action_port}/health"),
        Service("Rasa server", rasa_server_command(settings, TOKEN, str(model)), f"{settings.rasa_url}/"),
    ):
        assistant.services[service.name] = service
    try:
        for name in assistant.services:
            assistant.start(name)
        yield assistant
    finally:
        assistant.stop_all()
