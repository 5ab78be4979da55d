"""The whole assistant as `make run` starts it, on free ports, for tests and benchmarks.

Handoff service, action server and Rasa server as real subprocesses on loopback, trackers in
the given Redis, and a freshly seeded demo store of its own in `workdir`, so conversations
never see another run's cases.
"""

from __future__ import annotations

import socket
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Assistant:
    rasa_url: str
    handoff_url: str
    orders: Dict[str, str]  # demo store: story label → order id
    token: str = TOKEN


@contextmanager
def running_assistant(model: Path, redis_url: str, workdir: Path) -> Iterator[Assistant]:
    settings = RunSettings(
        rasa_port=free_port(), action_port=free_port(), handoff_port=free_port(), redis_url=redis_url
    )
    shop_db = workdir / "shop.db"
    orders = seed(shop_db, store_now())
    env = rasa_cli.environment(
        {**endpoint_environment(redis_url, settings), "SHOP_DB_PATH": str(shop_db), "PHOTO_DIR": str(workdir / "photos")}
    )
    processes: List[subprocess.Popen] = []
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": PROJECT_ROOT}
    try:
        processes.append(subprocess.Popen(handoff_command(settings), env=env, **quiet))
        wait_until_up(f"{settings.handoff_url}/health", processes[-1], "handoff service")
        processes.append(subprocess.Popen(action_server_command(settings), env=env, **quiet))
        wait_until_up(f"http://127.0.0.1:{settings.action_port}/health", processes[-1], "action server")
        processes.append(subprocess.Popen(rasa_server_command(settings, TOKEN, str(model)), env=env, **quiet))
        wait_until_up(f"{settings.rasa_url}/", processes[-1], "Rasa server")
        yield Assistant(settings.rasa_url, settings.handoff_url, orders)
    finally:
        stop(processes)
