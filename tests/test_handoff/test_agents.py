"""AgentStore on a real Redis: accounts, Argon2id passwords, sign-in and listing."""

from __future__ import annotations

from typing import List

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError
from redis.asyncio import Redis

from handoff import redis_keys
from handoff.agents import Agent, AgentError, AgentExists, AgentNotFound, AgentStore, Role

PASSWORD = "correct-horse-battery"


class CountingHasher(PasswordHasher):
    """The default hasher, counting the verifications (each one is the expensive part of a sign-in)."""

    def __init__(self, **parameters: int) -> None:
        super().__init__(**parameters)
        self.verified: List[str] = []

    def verify(self, hash: str, password: str) -> bool:
        self.verified.append(hash)
        return super().verify(hash, password)


@pytest.fixture()
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture()
def store(redis: Redis, hasher: CountingHasher) -> AgentStore:
    return AgentStore(redis, hasher)


async def stored_fields(redis: Redis, agent_id: str) -> dict:
    fields = await redis.hgetall(redis_keys.AGENT.format(agent_id=agent_id))
    return {name.decode(): value.decode() for name, value in fields.items()}


async def test_an_agent_signs_in_with_the_right_password_only(store: AgentStore) -> None:
    created = await store.create("kefu.wang", "客服小王", PASSWORD)
    assert created == Agent(agent_id="kefu.wang", display_name="客服小王", role=Role.agent)
    assert await store.authenticate("kefu.wang", PASSWORD) == created
    assert await store.authenticate("kefu.wang", PASSWORD + "x") is None
    assert await store.authenticate("kefu.wang", "") is None
    assert await store.get("kefu.wang") == created


async def test_an_unknown_or_malformed_id_costs_one_verification_too(store: AgentStore, hasher: CountingHasher) -> None:
    await store.create("kefu.wang", "客服小王", PASSWORD)
    hasher.verified.clear()
    assert await store.authenticate("kefu.li", PASSWORD) is None
    assert await store.authenticate("Not An Id!", PASSWORD) is None
    assert len(hasher.verified) == 2
    assert all(hash.startswith("$argon2id$") for hash in hasher.verified)
    assert await store.get("kefu.li") is None and await store.get("Not An Id!") is None


async def test_the_stored_hash_is_argon2id_and_never_the_password(store: AgentStore, redis: Redis) -> None:
    await store.create("kefu.wang", "客服小王", PASSWORD, Role.supervisor)
    fields = await stored_fields(redis, "kefu.wang")
    assert fields["password_hash"].startswith("$argon2id$")
    assert (fields["display_name"], fields["role"]) == ("客服小王", "supervisor")
    assert all(PASSWORD not in value for value in fields.values())


async def test_an_existing_id_is_refused_and_keeps_its_account(store: AgentStore) -> None:
    await store.create("kefu.wang", "客服小王", PASSWORD)
    with pytest.raises(AgentExists, match="already exists") as caught:
        await store.create("kefu.wang", "冒名顶替", "another-password", Role.supervisor)
    assert caught.value.message_zh == "该账号已存在"
    assert await store.authenticate("kefu.wang", PASSWORD) == Agent(
        agent_id="kefu.wang", display_name="客服小王", role=Role.agent
    )


@pytest.mark.parametrize("agent_id", ["", "ab", "a" * 33, "Kefu", "kefu wang", "kefu:1", "客服", "kefu/1"])
async def test_bad_ids_are_refused(store: AgentStore, redis: Redis, agent_id: str) -> None:
    with pytest.raises(AgentError, match="bad agent id"):
        await store.create(agent_id, "客服小王", PASSWORD)
    assert await redis.dbsize() == 0


@pytest.mark.parametrize("agent_id", ["abc", "a" * 32, "kefu_01", "kefu-01", "kefu.01"])
async def test_good_ids_are_accepted(store: AgentStore, agent_id: str) -> None:
    assert (await store.create(agent_id, "客服小王", PASSWORD)).agent_id == agent_id


@pytest.mark.parametrize("password", ["", "short", "123456789"])
async def test_short_passwords_are_refused(store: AgentStore, redis: Redis, password: str) -> None:
    with pytest.raises(AgentError, match="at least 10 characters") as caught:
        await store.create("kefu.wang", "客服小王", password)
    assert caught.value.message_zh == "密码至少需要 10 个字符"
    assert await redis.dbsize() == 0


@pytest.mark.parametrize("display_name", ["", "   ", "客" * 21, "客服\n小王", "客服\u200b小王"])
async def test_bad_display_names_are_refused(store: AgentStore, display_name: str) -> None:
    with pytest.raises(AgentError, match="bad display name"):
        await store.create("kefu.wang", display_name, PASSWORD)


async def test_a_display_name_is_trimmed_and_may_be_twenty_characters(store: AgentStore) -> None:
    assert (await store.create("kefu.wang", "  客服小王 ", PASSWORD)).display_name == "客服小王"
    assert (await store.create("kefu.li", "客" * 20, PASSWORD)).display_name == "客" * 20


async def test_a_bad_role_is_refused(store: AgentStore) -> None:
    with pytest.raises(AgentError, match="bad role"):
        await store.create("kefu.wang", "客服小王", PASSWORD, "admin")  # type: ignore[arg-type]


def test_an_agent_is_immutable_and_validated() -> None:
    agent = Agent(agent_id="kefu.wang", display_name="客服小王", role="supervisor")
    assert agent.is_supervisor
    with pytest.raises(TypeError):
        agent.role = Role.agent  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Agent(agent_id="Kefu Wang", display_name="客服小王", role=Role.agent)


async def test_a_new_password_replaces_the_old(store: AgentStore) -> None:
    await store.create("kefu.wang", "客服小王", PASSWORD)
    await store.set_password("kefu.wang", "a-brand-new-password")
    assert await store.authenticate("kefu.wang", PASSWORD) is None
    assert (await store.authenticate("kefu.wang", "a-brand-new-password")) is not None
    with pytest.raises(AgentError, match="at least 10 characters"):
        await store.set_password("kefu.wang", "short")
    with pytest.raises(AgentNotFound):
        await store.set_password("kefu.li", "a-brand-new-password")
    with pytest.raises(AgentNotFound):
        await store.set_password("Bad Id", "a-brand-new-password")


async def test_a_weak_hash_is_upgraded_at_the_next_sign_in(redis: Redis, store: AgentStore) -> None:
    weak = AgentStore(redis, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    await weak.create("kefu.wang", "客服小王", PASSWORD)
    weak_hash = (await stored_fields(redis, "kefu.wang"))["password_hash"]

    assert await store.authenticate("kefu.wang", "wrong-password") is None
    assert (await stored_fields(redis, "kefu.wang"))["password_hash"] == weak_hash  # only after a success
    assert await store.authenticate("kefu.wang", PASSWORD) is not None

    upgraded = (await stored_fields(redis, "kefu.wang"))["password_hash"]
    assert upgraded != weak_hash and not PasswordHasher().check_needs_rehash(upgraded)
    assert await store.authenticate("kefu.wang", PASSWORD) is not None


async def test_a_damaged_hash_signs_no_one_in(store: AgentStore, redis: Redis) -> None:
    await store.create("kefu.wang", "客服小王", PASSWORD)
    await redis.hset(redis_keys.AGENT.format(agent_id="kefu.wang"), "password_hash", "not-a-hash")
    assert await store.authenticate("kefu.wang", PASSWORD) is None


async def test_agents_are_listed_by_id_from_the_set_of_ids(store: AgentStore, redis: Redis) -> None:
    assert await store.list() == []
    await store.create("kefu.zhao", "客服小赵", PASSWORD)
    await store.create("kefu.li", "客服小李", PASSWORD, Role.supervisor)
    await store.create("kefu.wang", "客服小王", PASSWORD)
    assert [(agent.agent_id, agent.role) for agent in await store.list()] == [
        ("kefu.li", Role.supervisor),
        ("kefu.wang", Role.agent),
        ("kefu.zhao", Role.agent),
    ]
    assert await redis.smembers(redis_keys.AGENTS) == {b"kefu.li", b"kefu.wang", b"kefu.zhao"}


async def test_a_deleted_agent_is_gone(store: AgentStore) -> None:
    await store.create("kefu.wang", "客服小王", PASSWORD)
    assert await store.delete("kefu.wang") is True
    assert await store.delete("kefu.wang") is False
    assert await store.get("kefu.wang") is None
    assert await store.authenticate("kefu.wang", PASSWORD) is None
    assert await store.list() == []
