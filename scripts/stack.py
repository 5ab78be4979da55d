"""The whole assistant as `make run` starts it, on free ports, for tests and benchmarks.

Handoff service, action server and Rasa server as real subprocesses on loopback, trackers in
the given Redis, and a freshly seeded demo store of its own in `workdir`, so conversations
never see another run's cases.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

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
    quiet: bool = True  # tests and benchmarks: the services' output is not theirs to show
    log_dir: Optional[Path] = None  # quiet, but each service's output kept in <log_dir>/<name>.log

    def start(self, name: str) -> None:
        self.start_many([name])

    def start_many(self, names: Iterable[str]) -> None:
        """Start them all at once (Rasa servers load their models side by side), then wait for each."""
        started = []
        for name in names:
            service = self.services[name]
            service.process = subprocess.Popen(service.command, env=self.env, **self._output(name))
            started.append(service)
        for service in started:
            wait_until_up(service.health_url, service.process, service.name)

    def _output(self, name: str) -> Dict:
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it open
            return {"stdout": log, "stderr": subprocess.STDOUT, "cwd": PROJECT_ROOT}
        return QUIET if self.quiet else {"cwd": PROJECT_ROOT}

    def kill(self, name: str) -> None:
        """kill -9: no goodbye, no cleanup, as a crash or the OOM killer would."""
        process = self.services[name].process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()

    def restart(self, name: str) -> None:
        """Stop one service (SIGTERM, as an orchestrator would) and start it again."""
        stop([self.services[name].process])
        self.start(name)

    def stop_all(self) -> None:
        stop([s.process for s in reversed(self.services.values()) if s.process is not None])


def stack_environment(
    settings: RunSettings, redis_url: str, workdir: Path, extra_env: Optional[Dict[str, str]] = None
) -> Tuple[Dict[str, str], Dict[str, str]]:
    """The services' environment for a stack writing into `workdir` (a freshly seeded demo store,
    photos, saved stories), and the store's story orders (label → order id)."""
    shop_db = workdir / "shop.db"
    orders = seed(shop_db, store_now())
    env = rasa_cli.environment(
        {**endpoint_environment(redis_url, settings), "SHOP_DB_PATH": str(shop_db), "PHOTO_DIR": str(workdir / "photos"),
         "SAVED_STORIES_DIR": str(workdir / "saved_stories"), "RASA_TOKEN": TOKEN, **(extra_env or {})}
    )
    return env, orders


@contextmanager
def running_assistant(
    model: Path, redis_url: str, workdir: Path, extra_env: Optional[Dict[str, str]] = None
) -> Iterator[Assistant]:
    """The stack on free ports; whatever it writes (the store, photos, saved stories) stays in
    `workdir`. `extra_env` adds settings (e.g. the trainers' data and models folders)."""
    settings = RunSettings(
        rasa_port=free_port(), action_port=free_port(), handoff_port=free_port(), redis_url=redis_url
    )
    env, orders = stack_environment(settings, redis_url, workdir, extra_env)
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
