"""HTTP endpoints of the Rasa server (the action server above all) called over kept-alive
connections.

Rasa 3.6's `EndpointConfig.request` opens a new aiohttp `ClientSession` for every request and
closes it afterwards, so each call of a custom action (two or three per shopper message: the
form's validation, its next question, the action itself) connects anew, and the action
server sets up a connection for each. Here each endpoint configuration gets one session per
event loop, with the same headers, auth and timeout Rasa gives it, and requests reuse its
pooled connections.

Request bodies are encoded with ujson (already installed: Sanic reads JSON with it), which
Rasa's action calls need most: each carries the whole conversation session, so on turn 50
the standard library's encoder took about a millisecond per call.

A pooled connection is dropped after KEEPALIVE_SECONDS idle: less than the action server's
own keep-alive (Sanic's 5 s), so the client never sends on a connection the server is about
to close. nginx in front of several action servers (docs/deploy.md) keeps connections for
longer.

`install()` puts this in Rasa's place; bot/rasa_server.py calls it before Rasa starts.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, Hashable, Tuple

import aiohttp
import rasa.core.run
import ujson
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

KEEPALIVE_SECONDS = 3.0

def encode_json(value: Any) -> str:
    """ujson where it can (same JSON, a third of the time), the standard library otherwise."""
    try:
        return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
    except (TypeError, OverflowError, ValueError):
        return json.dumps(value)


# (event loop id, endpoint identity) -> (that loop, its session)
_sessions: Dict[Tuple[int, Hashable], Tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}


class BorrowedSession:
    """`async with` gives the shared session and leaves it open (Rasa closes its own at exit)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def endpoint_identity(endpoint: EndpointConfig) -> Hashable:
    """What Rasa's session is made of: two configs with the same share a session."""
    auth = tuple(sorted(endpoint.basic_auth.items())) if endpoint.basic_auth else ()
    return tuple(sorted(endpoint.headers.items())), auth


def shared_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    key = (id(loop), endpoint_identity(endpoint))
    owner, session = _sessions.get(key, (None, None))
    if session is None or session.closed or owner is not loop:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"]) if endpoint.basic_auth else None
        session = aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_SECONDS),  # no cap, as before
            json_serialize=encode_json,
        )
        _sessions[key] = (loop, session)
    return session


async def close_sessions() -> None:
    """Close this event loop's sessions (the server stopping)."""
    loop = asyncio.get_running_loop()
    for key, (owner, session) in list(_sessions.items()):
        if owner is loop:
            del _sessions[key]
            await session.close()


def install() -> None:
    """Rasa's endpoints use the shared sessions; the server closes them when it stops."""
    rasa_session = EndpointConfig.session
    rasa_close_resources = rasa.core.run.close_resources

    def session(self: EndpointConfig) -> Any:
        try:
            return BorrowedSession(shared_session(self))
        except RuntimeError:  # no running event loop: a one-off session, as Rasa makes it
            return rasa_session(self)

    async def close_resources(app: Any, loop: Any) -> None:
        await rasa_close_resources(app, loop)
        await close_sessions()

    EndpointConfig.session = session  # type: ignore[method-assign]
    rasa.core.run.close_resources = close_resources
