"""Conversation ownership on a real Redis: the allowed moves, the refused ones, and races between processes."""

from __future__ import annotations

import asyncio
from typing import List

import pytest
from redis.asyncio import Redis

from handoff import redis_keys
from handoff.ownership import (
    ALLOWED_TRANSITIONS,
    InvalidTransition,
    Owner,
    Ownership,
    get_owner,
    get_ownership,
    transition,
)

CONVERSATION = "conv-1"


async def bring_to(redis: Redis, owner: Owner, conversation_id: str = CONVERSATION) -> None:
    """Walk a new conversation to `owner` by allowed moves: bot -> waiting (ticket T1) -> agent a1."""
    if owner is Owner.bot:
        return
    assert await transition(redis, conversation_id, Owner.bot, Owner.waiting, ticket_id="T1", now=100.0)
    if owner is Owner.agent:
        assert await transition(redis, conversation_id, Owner.waiting, Owner.agent, agent_id="a1", now=101.0)


def successes(results: List[bool]) -> int:
    return sum(1 for result in results if result is True)


async def test_a_conversation_redis_does_not_know_belongs_to_the_bot(redis: Redis) -> None:
    assert await get_owner(redis, "never-seen") is Owner.bot
    assert await get_ownership(redis, "never-seen") == Ownership(owner=Owner.bot)


def test_exactly_the_five_moves_of_the_rules_are_allowed() -> None:
    assert ALLOWED_TRANSITIONS == {
        (Owner.bot, Owner.waiting),
        (Owner.waiting, Owner.agent),
        (Owner.agent, Owner.agent),
        (Owner.waiting, Owner.bot),
        (Owner.agent, Owner.bot),
    }


async def test_the_bot_hands_off_to_the_queue(redis: Redis) -> None:
    assert await transition(redis, CONVERSATION, Owner.bot, Owner.waiting, ticket_id="T1", now=100.0)
    assert await get_ownership(redis, CONVERSATION) == Ownership(Owner.waiting, None, "T1", 100.0)
    assert await redis.hget(redis_keys.CONVERSATION.format(conversation_id=CONVERSATION), "owner") == b"waiting"


async def test_an_agent_takes_a_waiting_conversation_and_keeps_its_ticket(redis: Redis) -> None:
    await bring_to(redis, Owner.waiting)
    assert await transition(redis, CONVERSATION, Owner.waiting, Owner.agent, agent_id="a1", now=101.0)
    assert await get_ownership(redis, CONVERSATION) == Ownership(Owner.agent, "a1", "T1", 101.0)


async def test_an_agent_transfers_to_another_agent(redis: Redis) -> None:
    await bring_to(redis, Owner.agent)
    moved = await transition(
        redis, CONVERSATION, Owner.agent, Owner.agent, agent_id="a2", from_agent_id="a1", now=102.0
    )
    assert moved
    assert await get_ownership(redis, CONVERSATION) == Ownership(Owner.agent, "a2", "T1", 102.0)


@pytest.mark.parametrize("start", [Owner.waiting, Owner.agent])
async def test_going_back_to_the_bot_clears_agent_and_ticket(redis: Redis, start: Owner) -> None:
    await bring_to(redis, start)
    from_agent_id = "a1" if start is Owner.agent else None
    assert await transition(redis, CONVERSATION, start, Owner.bot, from_agent_id=from_agent_id, now=103.0)
    assert await get_ownership(redis, CONVERSATION) == Ownership(Owner.bot, None, None, 103.0)


@pytest.mark.parametrize(
    ("from_owner", "to_owner"),
    [(Owner.bot, Owner.agent), (Owner.bot, Owner.bot), (Owner.waiting, Owner.waiting), (Owner.agent, Owner.waiting)],
)
async def test_other_moves_are_refused_without_touching_redis(redis: Redis, from_owner: Owner, to_owner: Owner) -> None:
    await bring_to(redis, from_owner)
    before = await get_ownership(redis, CONVERSATION)
    with pytest.raises(InvalidTransition) as refused:
        await transition(redis, CONVERSATION, from_owner, to_owner, agent_id="a9", from_agent_id="a1")
    assert (refused.value.from_owner, refused.value.to_owner) == (from_owner, to_owner)
    assert f"from {from_owner.value} to {to_owner.value}" in str(refused.value)
    assert await get_ownership(redis, CONVERSATION) == before


async def test_missing_agent_ids_are_clear_errors(redis: Redis) -> None:
    await bring_to(redis, Owner.waiting)
    with pytest.raises(ValueError, match="needs the agent_id"):
        await transition(redis, CONVERSATION, Owner.waiting, Owner.agent)
    with pytest.raises(ValueError, match="from_agent_id"):
        await transition(redis, CONVERSATION, Owner.agent, Owner.bot)
    with pytest.raises(ValueError, match="conversation_id is required"):
        await transition(redis, "", Owner.bot, Owner.waiting)
    assert await get_owner(redis, CONVERSATION) is Owner.waiting


async def test_a_move_from_a_state_that_has_changed_does_nothing(redis: Redis) -> None:
    assert not await transition(redis, CONVERSATION, Owner.waiting, Owner.agent, agent_id="a1")  # still the bot's
    assert await get_owner(redis, CONVERSATION) is Owner.bot

    await bring_to(redis, Owner.agent)
    assert not await transition(redis, CONVERSATION, Owner.agent, Owner.bot, from_agent_id="a2")  # a1 has it
    assert (await get_ownership(redis, CONVERSATION)).agent_id == "a1"


async def test_two_processes_handing_off_at_once_move_the_conversation_once(redis: Redis, other_redis: Redis) -> None:
    for index in range(20):
        conversation_id = f"conv-race-{index}"
        results = await asyncio.gather(
            transition(redis, conversation_id, Owner.bot, Owner.waiting, ticket_id="T-first"),
            transition(other_redis, conversation_id, Owner.bot, Owner.waiting, ticket_id="T-second"),
        )
        assert successes(results) == 1
        winner = "T-first" if results[0] else "T-second"
        assert (await get_ownership(redis, conversation_id)).ticket_id == winner


async def test_two_agents_taking_one_conversation_at_once_one_gets_it(redis: Redis, other_redis: Redis) -> None:
    await bring_to(redis, Owner.waiting)
    results = await asyncio.gather(
        transition(redis, CONVERSATION, Owner.waiting, Owner.agent, agent_id="a1"),
        transition(other_redis, CONVERSATION, Owner.waiting, Owner.agent, agent_id="a2"),
    )
    assert successes(results) == 1
    assert (await get_ownership(redis, CONVERSATION)).agent_id == ("a1" if results[0] else "a2")


async def test_two_transfers_of_one_conversation_at_once_only_one_happens(redis: Redis, other_redis: Redis) -> None:
    await bring_to(redis, Owner.agent)
    results = await asyncio.gather(
        transition(redis, CONVERSATION, Owner.agent, Owner.agent, agent_id="a2", from_agent_id="a1"),
        transition(other_redis, CONVERSATION, Owner.agent, Owner.agent, agent_id="a3", from_agent_id="a1"),
    )
    assert successes(results) == 1
    assert (await get_ownership(redis, CONVERSATION)).agent_id == ("a2" if results[0] else "a3")
