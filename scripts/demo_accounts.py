"""The demo sign-ins `make run` prints: an agent and a supervisor of the console, a trainer of the
trainers' page, and a signed-in shopper's chat link, so a new user can play the angry-shopper
story in two browser windows and fix a misunderstood message.

The demo password is made once (var/demo_password, readable by the owner only) and set again on
every start, so it always works whatever Redis holds. Real accounts are made with
`python -m handoff.cli create-agent`.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import List, Tuple

from redis.asyncio import Redis

from handoff.agents import AgentStore, Role
from handoff.settings import get_settings
from handoff.shopper_tokens import issue_shopper_token

DEMO_AGENTS: List[Tuple[str, str, Role]] = [
    ("kefu.demo", "客服小演", Role.agent),
    ("zhuguan.demo", "主管老演", Role.supervisor),
    ("xunlian.demo", "训练师小演", Role.trainer),
]
DEMO_SHOPPER = "u1001"  # the caked milk powder story (docs/demo-store.md)
DEMO_TOKEN_TTL_SECONDS = 12 * 3600


def demo_password(var_dir: Path) -> str:
    path = var_dir / "demo_password"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


async def _ensure_agents(redis_url: str, password: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        store = AgentStore(client)
        for agent_id, name, role in DEMO_AGENTS:
            if await store.get(agent_id) is None:
                await store.create(agent_id, name, password, role)
            else:
                await store.set_password(agent_id, password)
    finally:
        await client.close()


def ensure_demo_agents(redis_url: str, var_dir: Path) -> str:
    """Create (or reset) the demo accounts; their password."""
    password = demo_password(var_dir)
    asyncio.run(_ensure_agents(redis_url, password))
    return password


def demo_chat_link(handoff_url: str) -> str:
    secret = get_settings().shopper_token_secret.get_secret_value()
    return f"{handoff_url}/chat#token={issue_shopper_token(DEMO_SHOPPER, secret, DEMO_TOKEN_TTL_SECONDS)}"
