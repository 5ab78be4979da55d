"""Serve an ASGI app with uvicorn on a free loopback port in a background thread (for tests)."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

import uvicorn


def loopback_socket() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    return listener


def url_of(listener: socket.socket) -> str:
    host, port = listener.getsockname()
    return f"http://{host}:{port}"


@contextmanager
def serve_in_thread(app: Any, start_timeout: float = 10.0) -> Iterator[str]:
    """Yield the base URL of `app` served by uvicorn until the block ends."""
    listener = loopback_socket()
    # ws="websockets": uvicorn's default "auto" needs websockets>=13, and Rasa pins websockets 10.4.
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield url_of(listener)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
