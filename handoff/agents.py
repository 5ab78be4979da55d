"""Accounts of the agents' console, in Redis (no FastAPI).

An agent signs in with their id (the username) and a password. Passwords are kept only as
Argon2id hashes (argon2-cffi's `PasswordHasher` defaults), hashed and verified in a worker
thread so the event loop keeps serving while the CPU works. Signing in with an unknown id
still costs one hash verification, so the time taken does not tell which ids exist; a hash
made with weaker parameters than today's is replaced at the next successful sign-in.

Keys: handoff/redis_keys.py (AGENT hash per account, AGENTS set of ids).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
from enum import Enum
from typing import Dict, List, Optional, Union

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, validator
from redis.asyncio import Redis

from handoff import redis_keys

logger = logging.getLogger(__name__)

AGENT_ID_PATTERN = r"^[a-z0-9_.-]{3,32}$"
DISPLAY_NAME_MAX_LENGTH = 20
MIN_PASSWORD_LENGTH = 10
# Verified when the id is unknown or malformed, so that such sign-ins take as long as real ones.
_DUMMY_PASSWORD = "not-an-agent-password"

# Create an account unless the id is taken. KEYS: 1 agent hash, 2 set of ids.
# ARGV: 1 agent id, 2 display name, 3 role, 4 password hash, 5 now. Returns 1 if created, else 0.
CREATE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'display_name', ARGV[2], 'role', ARGV[3], 'password_hash', ARGV[4], 'created_at', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""

# Replace the password hash of an existing account. KEYS: 1 agent hash. ARGV: 1 new hash,
# 2 the hash it must replace ('' = whichever). Returns 1 if replaced, else 0.
SET_HASH_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'password_hash') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'password_hash', ARGV[1])
return 1
"""


class Role(str, Enum):
    agent = "agent"
    supervisor = "supervisor"
    trainer = "trainer"  # the trainers' page: review inbox, examples, retraining (not the queue)


class Agent(BaseModel):
    """Who is signed in to the console; `display_name` is what shoppers see (e.g. 客服小王)."""

    agent_id: str
    display_name: str
    role: Role

    class Config:
        frozen = True

    @validator("agent_id")
    def _valid_agent_id(cls, value: str) -> str:
        if not is_agent_id(value):
            raise ValueError(f"agent id must match {AGENT_ID_PATTERN}")
        return value

    @validator("display_name")
    def _valid_display_name(cls, value: str) -> str:
        return check_display_name(value)

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.supervisor

    @property
    def takes_conversations(self) -> bool:
        return self.role in (Role.agent, Role.supervisor)

    @property
    def trains_the_bot(self) -> bool:
        return self.role in (Role.trainer, Role.supervisor)


class AgentError(ValueError):
    """A refused account operation: `str()` is English (logs, CLI), `message_zh` is for agents."""

    def __init__(self, reason: str, message_zh: str) -> None:
        super().__init__(reason)
        self.message_zh = message_zh


class AgentExists(AgentError):
    pass


class AgentNotFound(AgentError):
    pass


def is_agent_id(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(AGENT_ID_PATTERN, value) is not None


def check_agent_id(agent_id: str) -> str:
    if not is_agent_id(agent_id):
        raise AgentError(
            f"bad agent id {agent_id!r}: 3 to 32 of a-z 0-9 _ . -",
            "账号只能由 3 到 32 个小写字母、数字或 _ . - 组成",
        )
    return agent_id


def check_display_name(display_name: str) -> str:
    name = display_name.strip() if isinstance(display_name, str) else ""
    if not 1 <= len(name) <= DISPLAY_NAME_MAX_LENGTH or _has_control_characters(name):
        raise AgentError(
            f"bad display name {display_name!r}: 1 to {DISPLAY_NAME_MAX_LENGTH} printable characters",
            f"显示名称须为 1 到 {DISPLAY_NAME_MAX_LENGTH} 个字符",
        )
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise AgentError(
            f"password too short: at least {MIN_PASSWORD_LENGTH} characters",
            f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符",
        )
    return password


def check_role(role: Union[Role, str]) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AgentError(f"bad role {role!r}: agent or supervisor", "角色只能是 agent 或 supervisor") from None


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char).startswith("C") for char in text)


class AgentStore:
    def __init__(self, redis: Redis, hasher: Optional[PasswordHasher] = None) -> None:
        self._redis = redis
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: Optional[str] = None

    async def create(self, agent_id: str, display_name: str, password: str, role: Role = Role.agent) -> Agent:
        """A new account; AgentError on bad input, AgentExists when the id is taken."""
        agent = Agent(
            agent_id=check_agent_id(agent_id), display_name=check_display_name(display_name), role=check_role(role)
        )
        password_hash = await self._hash(check_password(password))
        keys = [_key(agent.agent_id), redis_keys.AGENTS]
        args = [agent.agent_id, agent.display_name, agent.role.value, password_hash, int(time.time())]
        if not await self._redis.eval(CREATE_SCRIPT, len(keys), *keys, *args):
            raise AgentExists(f"agent {agent_id!r} already exists", "该账号已存在")
        logger.info("agent %s created (%s)", agent.agent_id, agent.role.value)
        return agent

    async def set_password(self, agent_id: str, password: str) -> None:
        """AgentError on a short password, AgentNotFound for an unknown id."""
        password_hash = await self._hash(check_password(password))
        if not is_agent_id(agent_id) or not await self._replace_hash(agent_id, password_hash, expected=""):
            raise AgentNotFound(f"no agent {agent_id!r}", "账号不存在")
        logger.info("password of agent %s changed", agent_id)

    async def get(self, agent_id: str) -> Optional[Agent]:
        if not is_agent_id(agent_id):
            return None
        return _parse(agent_id, _texts(await self._redis.hgetall(_key(agent_id))))

    async def authenticate(self, agent_id: str, password: str) -> Optional[Agent]:
        """The agent if the password is theirs; None otherwise (unknown ids cost the same hash work)."""
        fields = _texts(await self._redis.hgetall(_key(agent_id))) if is_agent_id(agent_id) else {}
        stored_hash = fields.get("password_hash", "")
        if not stored_hash:
            await self._verify(await self._dummy(), password)
            return None
        if not await self._verify(stored_hash, password):
            return None
        await self._rehash_if_needed(agent_id, stored_hash, password)
        return _parse(agent_id, fields)

    async def delete(self, agent_id: str) -> bool:
        """Removes the account (its sessions are refused from then on); False if there was none."""
        if not is_agent_id(agent_id):
            return False
        async with self._redis.pipeline(transaction=True) as pipe:
            deleted, _ = await pipe.delete(_key(agent_id)).srem(redis_keys.AGENTS, agent_id).execute()
        return bool(deleted)

    async def list(self) -> List[Agent]:
        """Every account, by id."""
        ids = sorted(_text(member) for member in await self._redis.smembers(redis_keys.AGENTS))
        async with self._redis.pipeline(transaction=False) as pipe:
            for agent_id in ids:
                pipe.hgetall(_key(agent_id))
            rows = await pipe.execute()
        agents = (_parse(agent_id, _texts(fields)) for agent_id, fields in zip(ids, rows, strict=True))
        return [agent for agent in agents if agent is not None]

    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except VerificationError:  # wrong password (VerifyMismatchError) or a damaged hash
            return False
        except InvalidHashError:
            logger.error("an agent's stored password hash is not an Argon2 hash")
            return False

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hash(_DUMMY_PASSWORD)
        return self._dummy_hash

    async def _rehash_if_needed(self, agent_id: str, stored_hash: str, password: str) -> None:
        if not self._hasher.check_needs_rehash(stored_hash):
            return
        # Only over the hash just verified: a password changed meanwhile is kept.
        if await self._replace_hash(agent_id, await self._hash(password), expected=stored_hash):
            logger.info("password hash of agent %s upgraded", agent_id)

    async def _replace_hash(self, agent_id: str, password_hash: str, expected: str) -> bool:
        return bool(await self._redis.eval(SET_HASH_SCRIPT, 1, _key(agent_id), password_hash, expected))


def _key(agent_id: str) -> str:
    return redis_keys.AGENT.format(agent_id=agent_id)


def _parse(agent_id: str, fields: Dict[str, str]) -> Optional[Agent]:
    if not fields:
        return None
    return Agent(agent_id=agent_id, display_name=fields["display_name"], role=Role(fields["role"]))


def _texts(fields: Dict[Union[bytes, str], Union[bytes, str]]) -> Dict[str, str]:
    return {_text(name): _text(value) for name, value in fields.items()}


def _text(value: Union[bytes, str]) -> str:
    return value.decode() if isinstance(value, bytes) else value
